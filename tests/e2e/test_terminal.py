"""`desktop-agent chat` as a subprocess against the scripted server."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_agent import Event
from tests.support.contract import check_run
from tests.support.scripted_server import Fail, Reply, ScriptedServer
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with threaded_server() as srv:
        yield srv


def env_for(tmp_path: Path, base_url: str, key: str = "sk-term-test") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY=key, DESKTOP_AGENT_HOME=str(tmp_path))
    return env


def chat(
    tmp_path: Path, base_url: str, *args: str, stdin: str | None = None, key: str = "sk-term-test"
):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "desktop_agent", "chat", *args],
        env=env_for(tmp_path, base_url, key),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_plain_answer_with_tool_line(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(
        Reply(text="Computing. ", tool_calls=[["c1", "calculator", '{"expression": "6*7"}']]),
        Reply(text="It is **42**."),
    )
    result = chat(tmp_path, server.base_url, "what is 6*7?")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Computing. \nIt is **42**.\n"  # plain: no escape codes
    assert "\x1b" not in result.stdout + result.stderr
    assert result.stderr.startswith("✓ calculator (")
    assert server.requests[1].body["messages"][-1]["content"] == "42"


def test_json_lines_are_the_wire_form(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="json please", chunk_size=3))
    result = chat(tmp_path, server.base_url, "--json", "hi")
    assert result.returncode == 0, result.stderr
    events = [Event.from_dict(json.loads(line)) for line in result.stdout.splitlines()]
    check_run(events)
    assert events[-1].status == "completed"
    assert result.stderr == ""


def test_bad_endpoint_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = chat(tmp_path, f"http://127.0.0.1:{port}/v1", "hi")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: Cannot reach 127.0.0.1:{port}: could not connect")


def test_bad_key_one_clear_line(tmp_path: Path, server: ScriptedServer) -> None:
    server.require_key = "sk-the-right-one"
    result = chat(tmp_path, server.base_url, "hi", key="sk-wrong-key-123")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: 127.0.0.1:{server.port} rejected the API key (401): Incorrect API key provided."
    ]


def test_sigint_mid_stream(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="slow words " * 100, chunk_size=4, delay=0.02))
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_agent", "chat", "talk"],
        env=env_for(tmp_path, server.base_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.read(8)  # the answer has started
    assert first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "interrupted"
    assert "Traceback" not in err
    assert (first + out).startswith("slow wor")  # the partial answer stays on stdout
    deadline = time.monotonic() + 5
    while not server.disconnects and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.disconnects, "the HTTP stream stayed open"


def test_interactive_session(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="first"), Reply(text="second"), Reply(text="third"))
    script = "hello\nand again\n/model other-model\n/new\nfresh start\n/bogus\n/exit\n"
    result = chat(tmp_path, server.base_url, stdin=script)
    assert result.returncode == 0, result.stderr
    assert "first" in result.stdout and "second" in result.stdout and "third" in result.stdout
    second = server.requests[1].body
    assert [m["content"] for m in second["messages"] if m["role"] == "user"] == [
        "hello",
        "and again",
    ]
    third = server.requests[2].body
    assert third["model"] == "other-model"
    assert [m["content"] for m in third["messages"] if m["role"] == "user"] == ["fresh start"]
    assert "Unknown command /bogus" in result.stdout


def test_interactive_ctrl_c_stops_answer_then_exits(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="endless " * 300, chunk_size=4, delay=0.02), Reply(text="next answer"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_agent", "chat"],
        env=env_for(tmp_path, server.base_url),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("talk forever\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 20
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)  # first: stop the answer, stay in the session
    time.sleep(0.5)
    assert proc.poll() is None, "the first Ctrl+C must not exit"
    proc.stdin.write("and now?\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 20
    while len(server.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)  # at the prompt: exit
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "interrupted" in err and "Traceback" not in err
    assert "next answer" in out
    second = server.requests[1].body["messages"]
    assert [m["content"] for m in second if m["role"] == "user"] == ["talk forever", "and now?"]


@pytest.mark.parametrize(
    ("answer", "written", "result_text"),
    [
        ("y\n", True, "created note.txt (5 bytes)"),
        ("a\n", True, "created note.txt (5 bytes)"),
        ("n\n", False, "Error: the user denied this tool call"),
        ("", False, "Error: the user denied this tool call"),  # end of input: no
    ],
    ids=["yes", "always", "no", "eof"],
)
def test_the_terminal_asks_before_a_tool_with_side_effects(
    tmp_path: Path, server: ScriptedServer, answer: str, written: bool, result_text: str
) -> None:
    workspace = tmp_path / "work"
    workspace.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"tools": {"workspace": str(workspace)}}))
    server.add(
        Reply(tool_calls=[["c1", "write_file", '{"path": "note.txt", "content": "hello"}']]),
        Reply(text="Done."),
    )
    result = chat(home, server.base_url, "write a note", stdin=answer)
    assert result.returncode == 0, result.stderr
    assert 'Allow write_file {"path": "note.txt", "content": "hello"}?' in result.stderr
    assert (workspace / "note.txt").exists() is written
    tool_message = server.requests[1].body["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["content"] == result_text
    settings = json.loads((home / "settings.json").read_text())
    always = settings["tools"].get("always_allowed", [])
    assert always == (["write_file"] if answer == "a\n" else [])


# Model- and server-controlled text that would drive the terminal if printed raw:
# OSC 52 (write the clipboard), OSC 0 (window title), concealed text, an 8-bit CSI,
# and rich markup that would become a live hyperlink.
HOSTILE = (
    "ok \x1b]52;c;ZXZpbA==\x07 \x1b]0;title\x07 \x1b[8mhidden\x1b[0m \x9b31mred "
    "[link=file:///etc/passwd]x[/link] [red]not red[/red] \x9d0;t\x9c \x7f end\n"
)
CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # what rich itself draws with (style, cursor)


def hostile_script(server: ScriptedServer) -> None:
    write = json.dumps({"path": "x\x9b31m.txt", "content": HOSTILE})
    server.add(
        Reply(
            text=HOSTILE,
            tool_calls=[
                ["c1", "bad\x1b]0;title\x07\x9b8m", json.dumps({"a": "\x9b31m\x1b]52;c;eA==\x07"})],
                ["c2", "write_file", write],
            ],
        ),
        Reply(text=HOSTILE),
        Fail(400, "server says \x1b]52;c;ZXZpbA==\x07 \x9b2J"),
    )


def hostile_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / "work").mkdir(parents=True)
    (home / "settings.json").write_text(json.dumps({"tools": {"workspace": str(home / "work")}}))
    return home


def in_pty(args: list[str], env: dict[str, str], stdin: bytes) -> tuple[int, bytes]:
    """Run with stdout and stderr on a pseudo-terminal (so rich draws as for a user)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=slave, stderr=slave)
    os.close(slave)
    assert proc.stdin is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    out = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            out += data
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(30), bytes(out)


def assert_inert(text: str, *, rich: bool) -> None:
    for bad in ("\x1b]", "\x07", "\x1b[8m", "\x7f"):
        assert bad not in text, repr(bad)
    assert not [c for c in text if 0x80 <= ord(c) <= 0x9F], "C1 control characters"
    rest = CSI.sub("", text) if rich else text
    allowed = "\n\t\r" if rich else "\n\t"
    assert not [c for c in rest if (ord(c) < 0x20 and c not in allowed)], repr(rest)
    assert "[link=file:///etc/passwd]x[/link]" in rest  # markup shown as text
    assert "[red]not red[/red]" in rest


@pytest.mark.parametrize("mode", ["plain", "rich"])
def test_model_and_tool_text_cannot_drive_the_terminal(
    tmp_path: Path, server: ScriptedServer, mode: str
) -> None:
    home = hostile_home(tmp_path)
    hostile_script(server)
    env = env_for(home, server.base_url)
    args = [sys.executable, "-m", "desktop_agent", "chat"]
    if mode == "plain":
        answered = subprocess.run(
            [*args, "go"], env=env, input=b"n\n", capture_output=True, timeout=60, check=False
        )
        failed = subprocess.run(
            [*args, "again"], env=env, input=b"", capture_output=True, timeout=60, check=False
        )
        assert (answered.returncode, failed.returncode) == (0, 1), answered.stderr
        shown = [answered.stdout, answered.stderr, failed.stdout, failed.stderr]
        text = "\n".join(b.decode() for b in shown)
        assert "Allow write_file" in text and "server says" in text
    else:
        env.update(TERM="xterm-256color", COLUMNS="200")
        code, first = in_pty([*args, "go"], env, b"n\n")
        assert code == 0, first
        code, second = in_pty([*args, "again"], env, b"")
        assert code == 1, second
        text = (first + second).decode()
        assert "Allow write_file" in text and "server says" in text
    assert_inert(text, rich=mode == "rich")


def test_json_mode_escapes_every_control_character(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text=HOSTILE))
    result = subprocess.run(
        [sys.executable, "-m", "desktop_agent", "chat", "--json", "hi"],
        env=env_for(tmp_path, server.base_url),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    raw = result.stdout.decode()
    assert not [c for c in raw if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    events = [json.loads(line) for line in raw.splitlines()]
    done = [e for e in events if e["type"] == "message_complete"]
    assert done[0]["data"]["content"] == HOSTILE  # the wire keeps the text, escaped
