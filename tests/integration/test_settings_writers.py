"""Processes writing settings.json at once (the window and `serve`, two windows)
lose nothing: each re-reads, merges only its own change and writes under a lock.
Real processes, a real file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
N = 40

#: A writer as `serve` is one ("Always allow" answers persisted through
#: `configured_tools()`) or as the window is one (Settings → Save of tools and
#: providers). It starts when the "go" file appears.
WRITER = """
import sys, time
from dataclasses import replace
from pathlib import Path

from desktop_agent.app.providers import ConnectionConfig, Providers, providers_saver
from desktop_agent.app.settings import load_settings
from desktop_agent.app.session import configured_tools
from desktop_agent.app.settings import ToolSettings

kind, prefix, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
if kind == "serve":
    _tools, approvals, _problems = configured_tools()
else:
    saved = load_settings()
    tools = ToolSettings.from_settings(saved)
    providers = Providers.from_settings(saved)
    save_tools, save_providers = tools.saver(), providers_saver(providers)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)
for i in range(n):
    if kind == "serve":
        approvals.allow_always(f"{prefix}{i}")
    else:
        tools = replace(tools, always_allowed=tools.always_allowed | {f"{prefix}{i}"})
        save_tools(tools)
        providers.items.append(ConnectionConfig(kind="openai", id=f"p{prefix}{i}"))
        save_providers(providers)
"""


@pytest.mark.slow  # three processes of the app write at once
def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    home = Path(os.environ["DESKTOP_AGENT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps({"tools": {"workspace": ""}, "other": 1}))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, kind, prefix, str(N), str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind, prefix in (("serve", "a"), ("window", "b"), ("window", "c"))
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
    go.touch()  # all start writing together
    errors = []
    for writer in writers:
        _out, err = writer.communicate(timeout=120)
        if writer.returncode != 0:
            errors.append(err)
    assert errors == []
    saved = json.loads((home / "settings.json").read_text())
    allowed = set(saved["tools"]["always_allowed"])
    assert {f"{p}{i}" for p in "abc" for i in range(N)} - allowed == set()
    providers = {p["id"] for p in saved["providers"]}
    assert {f"p{p}{i}" for p in "bc" for i in range(N)} - providers == set()
    assert saved["other"] == 1  # keys nobody changed are kept
    assert sorted(p.name for p in home.iterdir() if p.is_file()) == [
        "settings.json",
        "settings.lock",
    ]
