"""Pulling models from a scripted hub on 127.0.0.1 (HF_ENDPOINT): install, resume,
verification, errors; import and rm; the command line end to end."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from desktop_agent.providers.local import default_model_path
from desktop_agent.providers.models import catalog, download
from desktop_agent.providers.models.catalog import CatalogEntry
from desktop_agent.providers.models.hub import NotFound
from desktop_agent.providers.models.installed import ModelLibrary
from tests.support.hub_server import ScriptedHub, running_hub

REPO, FILE = "test-org/tiny-GGUF", "tiny-Q4_1.gguf"
REF = f"hf:{REPO}/{FILE}"


def gguf_bytes() -> bytes:
    """The bundled SmolLM2 model when installed, else a small valid GGUF stand-in."""
    path = default_model_path()
    if path is not None:
        return path.read_bytes()
    return b"GGUF" + (3).to_bytes(4, "little") + os.urandom(3 * 1024 * 1024)


DATA = gguf_bytes()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedHub]:
    with running_hub() as running:
        running.add(REPO, FILE, DATA)
        monkeypatch.setenv("HF_ENDPOINT", running.hub_url)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        yield running


@pytest.fixture
def library(tmp_path: Path) -> ModelLibrary:
    return ModelLibrary(tmp_path / "models")


def no_sleep(_seconds: float) -> None:
    pass


def test_pull_installs_a_verified_private_model(hub: ScriptedHub, library: ModelLibrary) -> None:
    seen: list[tuple[int, int]] = []
    model = download.pull(REF, library, on_progress=lambda d, t: seen.append((d, t)))
    path = library.file_of(model)
    assert path.read_bytes() == DATA
    assert model.sha256 == hashlib.sha256(DATA).hexdigest()
    assert seen[-1] == (len(DATA), len(DATA))
    assert hub.ranges == [None]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    manifest = library.folder / "installed.json"
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
    assert json.loads(manifest.read_text())["models"][0]["id"] == f"{REPO}/{FILE}"
    assert library.find(REF) == model
    assert library.partials() == []
    # a second pull finds it installed and downloads nothing
    assert download.pull(REF, library) == model
    assert hub.ranges == [None]


def test_a_cut_download_resumes_with_a_range(hub: ScriptedHub, library: ModelLibrary) -> None:
    hub.cut_after = len(DATA) // 3
    model = download.pull(REF, library, sleep=no_sleep)
    assert library.file_of(model).read_bytes() == DATA
    assert hub.ranges[0] is None
    assert hub.ranges[1] is not None
    offset = int(hub.ranges[1].removeprefix("bytes=").split("-")[0])
    assert 0 < offset <= len(DATA) // 3


def test_a_later_pull_resumes_the_partial_left_by_an_earlier_one(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    hub.cut_after = len(DATA) // 2
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        hub.fail_all = True  # the network is gone after the cut

    with pytest.raises(download.DownloadError, match="resume"):
        download.pull(REF, library, sleep=sleep, retries=3)
    assert delays == [0.5, 1.0, 2.0]  # a few retries with backoff
    [part] = library.partials()
    kept = part.stat().st_size
    assert 0 < kept < len(DATA)
    hub.fail_all = False
    hub.ranges.clear()
    model = download.pull(REF, library)
    assert library.file_of(model).read_bytes() == DATA
    assert hub.ranges == [f"bytes={kept}-"]  # never starting over


def leave_half(hub: ScriptedHub, library: ModelLibrary) -> Path:
    """A pull cut in the middle with no retry: the partial file it leaves."""
    hub.cut_after = len(DATA) // 2
    with pytest.raises(download.DownloadError):
        download.pull(REF, library, retries=0)
    [part] = library.partials()
    assert part.read_bytes() == DATA[: len(DATA) // 2]
    return part


def test_a_server_that_ignores_the_range_gets_the_file_from_the_start(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    leave_half(hub, library)
    hub.ranges_mode = "ignore"  # a 200 with the whole file: what was kept is replaced
    model = download.pull(REF, library)
    assert library.file_of(model).read_bytes() == DATA
    assert hub.ranges[-1] == f"bytes={len(DATA) // 2}-"


def test_a_206_of_another_range_is_refused_and_the_partial_kept(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    part = leave_half(hub, library)
    hub.ranges_mode = "shift"  # would leave a byte out if it were appended
    with pytest.raises(download.DownloadError, match="another part"):
        download.pull(REF, library)
    assert part.read_bytes() == DATA[: len(DATA) // 2]
    hub.ranges_mode = "honour"
    model = download.pull(REF, library)
    assert library.file_of(model).read_bytes() == DATA


def test_a_redirect_to_another_origin_does_not_carry_the_token(
    hub: ScriptedHub, tmp_path: Path
) -> None:
    """The hub's resolve URL answers 302 to the CDN (another port): the GET follows
    it, and the token meant for the hub stays behind."""
    from desktop_agent.providers.models.hub import RemoteFile

    url = f"{hub.hub_url}/{REPO}/resolve/main/{FILE}"
    remote = RemoteFile(REPO, FILE, url, len(DATA), hashlib.sha256(DATA).hexdigest(),
                        {"Authorization": "Bearer hf_secret_token"})  # fmt: skip
    hub.auth_seen.clear()
    digest = download.fetch(remote, tmp_path / "f.part")
    assert digest == remote.sha256
    assert hub.auth_seen == [("hub", "Bearer hf_secret_token"), ("cdn", None)]


def test_an_error_page_for_a_range_leaves_the_partial_as_it_was(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    """A 200 to a `Range` replaces the partial only when it is the whole file."""
    part = leave_half(hub, library)
    hub.ranges_mode = "error"
    with pytest.raises(download.DownloadError, match="not the file"):
        download.pull(REF, library, sleep=no_sleep)
    assert part.read_bytes() == DATA[: len(DATA) // 2]
    hub.ranges_mode = "honour"
    assert library.file_of(download.pull(REF, library)).read_bytes() == DATA


def test_a_refusal_is_not_asked_again_but_a_busy_server_is(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    delays: list[float] = []
    hub.fail_all, hub.fail_status = True, 403  # (an expired signed address, say)
    with pytest.raises(download.DownloadError, match="HTTP 403"):
        download.pull(REF, library, sleep=delays.append)
    assert delays == [] and len(hub.ranges) == 1
    hub.fail_status = 429
    with pytest.raises(download.DownloadError, match="resume"):
        download.pull(REF, library, sleep=delays.append, retries=2)
    assert delays == [0.5, 1.0]


def test_bytes_past_the_announced_size_are_refused(hub: ScriptedHub, library: ModelLibrary) -> None:
    hub.extra = b"!"
    with pytest.raises(download.ChecksumMismatch, match="more bytes"):
        download.pull(REF, library)
    assert library.models() == []


def test_a_full_disk_ends_the_download_at_once(
    hub: ScriptedHub, library: ModelLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_agent.providers.models import fetch

    def full(_fd: int, _data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fetch, "_write_all", full)
    delays: list[float] = []
    with pytest.raises(download.DownloadError, match=r"could not be written.*No space"):
        download.pull(REF, library, sleep=delays.append)
    assert delays == []  # (not a dropped connection: no retry)


def test_a_slow_line_reports_progress_and_pauses_within_a_mib(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    """Each read takes what has arrived (one `recv`), not a whole MiB: on a slow line
    progress moves and a pause takes effect piece by piece."""
    hub.piece, hub.throttle = 16 * 1024, 0.02  # ~800 KB/s
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, _total: int) -> None:
        seen.append(done)
        if done >= 64 * 1024:
            cancel.set()

    with pytest.raises(download.Cancelled):
        download.pull(REF, library, on_progress=progress, cancel=cancel)
    [part] = library.partials()
    assert 64 * 1024 <= seen[-1] == part.stat().st_size < download.CHUNK


def test_a_line_below_the_speed_floor_is_dropped_and_resumed(
    hub: ScriptedHub, tmp_path: Path
) -> None:
    """A connection that brings less than the floor (here 1 MiB in 0.2 s, against a
    line of ~300 KB/s) is given up and tried again from where it stopped."""
    from desktop_agent.providers.models.hub import remote_file

    hub.piece, hub.throttle = 16 * 1024, 0.05
    part = tmp_path / "f.part"
    with pytest.raises(download.DownloadError, match="too slow"):
        download.fetch(remote_file(REPO, FILE), part, retries=1, sleep=no_sleep,
                       low_speed=(1 << 20, 0.2))  # fmt: skip
    assert hub.ranges[0] is None and hub.ranges[1] is not None
    resumed_at = int(hub.ranges[1].removeprefix("bytes=").split("-")[0])
    assert 0 < resumed_at <= part.stat().st_size < len(DATA)
    assert part.read_bytes() == DATA[: part.stat().st_size]


def test_a_redirect_never_carries_the_proxy_password() -> None:
    """ProxyHandler puts the proxy's password on the request; a redirect (perhaps to
    a host the proxy is bypassed for) must not take it along, nor a token to another
    origin."""
    from urllib.request import Request

    from desktop_agent.providers.models.fetch import _NoCrossOriginAuth

    handler = _NoCrossOriginAuth()
    secrets = {"Authorization": "Bearer hf_x", "Proxy-Authorization": "Basic dTpw"}
    req = Request("https://hub.example/a", headers=secrets)
    other = handler.redirect_request(req, None, 302, "Found", {}, "http://localhost/b")
    same = handler.redirect_request(req, None, 302, "Found", {}, "https://HUB.example/c")
    assert other is not None and same is not None
    assert not other.has_header("Authorization") and not other.has_header("Proxy-authorization")
    assert same.has_header("Authorization") and not same.has_header("Proxy-authorization")


def test_a_corrupted_file_is_rejected_and_removed(hub: ScriptedHub, library: ModelLibrary) -> None:
    hub.corrupt = True
    with pytest.raises(download.ChecksumMismatch, match=r"checksum .* did not match"):
        download.pull(REF, library)
    leftovers = [p for p in library.folder.rglob("*") if p.is_file()]
    assert [p for p in leftovers if not p.name.endswith(".lock")] == []
    assert not (library.folder / "test-org").exists()
    assert library.models() == []


def test_sha256_from_the_blobs_api_when_the_etag_is_not_one(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    hub.no_etag = True
    model = download.pull(REF, library)
    assert model.sha256 == hashlib.sha256(DATA).hexdigest()
    hub.files[REPO][FILE].sha256 = "0" * 64  # the API now disagrees with the bytes
    assert library.remove(REF) == model
    with pytest.raises(download.ChecksumMismatch):
        download.pull(REF, library)


def test_a_catalog_pin_the_hub_disagrees_with_is_refused_before_any_byte(
    hub: ScriptedHub, library: ModelLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned = CatalogEntry(
        "test-pinned", "Test Pinned", REPO, FILE, "Q4_1", len(DATA), 2 * len(DATA), 32768,
        "Apache-2.0", tools=False, sha256=hashlib.sha256(DATA).hexdigest(),
    )  # fmt: skip
    stale = replace(pinned, id="test-stale", sha256="0" * 64)
    monkeypatch.setattr(catalog, "CATALOG", (stale,))
    for ref in ("test-stale", REF):  # by its id or by its hf: reference
        with pytest.raises(download.ChecksumMismatch, match="catalog pins for test-stale"):
            download.pull(ref, library)
    assert hub.ranges == []  # nothing fetched
    assert [p for p in library.folder.rglob("*") if p.is_file() and p.suffix != ".lock"] == []
    monkeypatch.setattr(catalog, "CATALOG", (pinned,))
    model = download.pull("test-pinned", library)  # the pin agrees: installed
    assert model.sha256 == pinned.sha256 and model.catalog_id == "test-pinned"


def test_the_built_in_pins_refuse_another_file_under_their_name(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    entry = catalog.find_entry("qwen3-0.6b")
    assert entry is not None and entry.sha256 is not None
    hub.add(entry.repo, entry.file, DATA)  # the right name, not the pinned bytes
    with pytest.raises(download.ChecksumMismatch, match="nothing was downloaded"):
        download.pull(entry.id, library)
    assert hub.ranges == [] and library.models() == []


@pytest.mark.parametrize("ref", ["hf:nobody/nothing-GGUF/x.gguf", f"hf:{REPO}/missing.gguf"])
def test_unknown_repo_or_file_is_not_found(
    hub: ScriptedHub, library: ModelLibrary, ref: str
) -> None:
    with pytest.raises(NotFound, match="not found"):
        download.pull(ref, library)
    assert hub.ranges == []


def test_not_enough_disk_space_downloads_nothing(hub: ScriptedHub, library: ModelLibrary) -> None:
    with pytest.raises(download.NotEnoughSpace, match="GB"):
        download.pull(REF, library, disk_free=lambda _p: len(DATA))
    assert hub.ranges == []
    assert library.partials() == []


def test_cancel_keeps_the_partial_and_pull_resumes_it(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    import threading

    cancel = threading.Event()

    def progress(done: int, _total: int) -> None:
        if done >= len(DATA) // 4:
            cancel.set()

    with pytest.raises(download.Cancelled):
        download.pull(REF, library, on_progress=progress, cancel=cancel)
    assert download.partial_size(REF, library) > 0
    hub.ranges.clear()
    download.pull(REF, library)
    assert hub.ranges[0] is not None and hub.ranges[0] != "bytes=0-"


def test_import_checks_the_header_and_rm_deletes(tmp_path: Path, library: ModelLibrary) -> None:
    good = tmp_path / "mine.gguf"
    good.write_bytes(DATA[: 1024 * 1024])
    bad = tmp_path / "weights.gguf"
    bad.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(download.GGUFError):
        download.import_gguf(bad, library)
    model = download.import_gguf(good, library)
    assert library.find("mine") == model
    assert library.file_of(model).read_bytes() == good.read_bytes()
    with pytest.raises(FileExistsError):
        download.import_gguf(good, library)
    assert library.remove("mine") == model
    assert library.models() == []
    assert not library.file_of(model).exists()


@pytest.mark.parametrize("ref", ["hf:../../etc/x.gguf", "hf:a/b/../../x.gguf", "hf:a/b/c.bin", "x"])
def test_bad_references_are_refused(library: ModelLibrary, ref: str) -> None:
    with pytest.raises(ValueError):
        download.pull(ref, library)


# -- the command line, as people run it ----------------------------------------------------


def cli(
    home: Path, hub: ScriptedHub, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DESKTOP_AGENT_HOME": str(home), "HF_ENDPOINT": hub.hub_url}
    env.update(extra or {})
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [sys.executable, "-m", "desktop_agent", "models", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.slow
def test_cli_pull_list_rm_import(hub: ScriptedHub, tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = cli(home, hub, "pull", REF)
    assert done.returncode == 0, done.stderr
    assert "installed" in done.stdout
    listed = cli(home, hub, "list")
    assert listed.returncode == 0
    assert f"{REPO}  {FILE}" in listed.stdout
    assert "qwen3-1.7b" in listed.stdout
    missing = cli(home, hub, "pull", "hf:nobody/nothing/x.gguf")
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "not found" in missing.stderr
    hub.corrupt = True
    bad = cli(home, hub, "pull", f"hf:{REPO}/other.gguf")
    assert bad.returncode == 1
    hub.add(REPO, "other.gguf", DATA)
    bad = cli(home, hub, "pull", f"hf:{REPO}/other.gguf")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1].startswith("error: the checksum")
    assert "did not match" in bad.stderr
    assert not list((home / "models").rglob("other.gguf*"))
    rm = cli(home, hub, "rm", REF)
    assert rm.returncode == 0
    assert "Installed: none" in cli(home, hub, "list").stdout
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model")
    refused = cli(home, hub, "import", str(junk))
    assert refused.returncode == 1 and "not a GGUF" in refused.stderr


def test_hf_token_reaches_the_hub_but_not_the_cdn(
    hub: ScriptedHub, library: ModelLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.gated[REPO] = "hf_secret_token"
    with pytest.raises(download.HubError, match="gated"):
        download.pull(REF, library)
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token")
    hub.auth_seen.clear()
    download.pull(REF, library)
    assert ("hub", "Bearer hf_secret_token") in hub.auth_seen
    assert [auth for where, auth in hub.auth_seen if where == "cdn"] == [None]


@pytest.mark.slow
def test_cli_pull_goes_through_the_proxy_variables(hub: ScriptedHub, tmp_path: Path) -> None:
    from tests.support.hub_server import running_proxy

    with running_proxy() as proxy:
        env_proxy = {"HTTP_PROXY": proxy.url, "NO_PROXY": "", "no_proxy": ""}
        done = cli(tmp_path / "home", hub, "pull", REF, extra=env_proxy)
    assert done.returncode == 0, done.stderr
    assert any(s.startswith("HEAD ") and "/resolve/" in s for s in proxy.seen)
    assert any(s.startswith("GET ") and "/cdn/" in s for s in proxy.seen)


def test_a_manifest_pointing_outside_the_folder_is_ignored(
    library: ModelLibrary, tmp_path: Path
) -> None:
    victim = tmp_path / "precious.gguf"
    victim.write_bytes(DATA[:64])
    library.ensure()
    entry = {"id": "x/y/z.gguf", "repo": "x/y", "file": "z.gguf", "path": "../precious.gguf",
             "sha256": "0" * 64, "size": 64}  # fmt: skip
    (library.folder / "installed.json").write_text(json.dumps({"models": [entry]}))
    assert library.models() == []
    assert library.remove("x/y/z.gguf") is None
    assert victim.exists()
    (library.folder / "installed.json").write_text("{not json")
    assert library.models() == []


def test_a_partial_of_another_version_of_the_file_starts_over(
    hub: ScriptedHub, library: ModelLibrary
) -> None:
    final = library.path_for(REPO, FILE)
    final.parent.mkdir(parents=True)
    final.with_name(FILE + ".part").write_bytes(b"GGUF old version bytes")
    final.with_name(FILE + ".part.json").write_text(json.dumps({"sha256": "1" * 64}))
    model = download.pull(REF, library)
    assert library.file_of(model).read_bytes() == DATA
    assert hub.ranges == [None]  # from the start: the old bytes were not kept


def test_the_engine_offers_tools_only_to_models_that_take_them(
    library: ModelLibrary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_agent.app.providers import ConnectionConfig, model_from_config
    from desktop_agent.providers.models.catalog import FUNCTION_CALLING
    from desktop_agent.providers.models.installed import InstalledModel

    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    library = ModelLibrary(tmp_path / "models")
    source = tmp_path / "q.gguf"
    source.write_bytes(DATA[: 1 << 20])
    imported = download.import_gguf(source, library)
    # the same file recorded as the catalog's Qwen3 0.6B (tools) and as an import
    library.add(InstalledModel(**{**imported.__dict__, "id": "Qwen/x/q.gguf",
                                  "catalog_id": "qwen3-0.6b"}))  # fmt: skip
    tools = model_from_config(ConnectionConfig(kind="local", gguf_path=str(
        library.file_of(imported))))  # fmt: skip
    assert tools.engine.chat_format == FUNCTION_CALLING
    library.remove("Qwen/x/q.gguf")
    source.write_bytes(DATA[: 1 << 20])
    plain = download.import_gguf(source, ModelLibrary(tmp_path / "other"))
    bundled_like = model_from_config(
        ConnectionConfig(
            kind="local", gguf_path=str(ModelLibrary(tmp_path / "other").file_of(plain))
        )
    )
    assert bundled_like.engine.chat_format is None  # SmolLM2's template: no tools
