"""`desktop-agent --self-test`: prove an installed (or frozen) app works, offscreen.

Builds the real window, streams one scripted conversation with a tool call through
the real pipeline (ScriptedModel → Agent → Orchestrator → EventBridge → window),
then checks the transcript, the status bar and the TLS certificates HTTPS needs.
Exit 0 when every check passes, 1 with the failed checks on stderr otherwise.
Nothing is sent over the network and no settings or history are written.
"""

from __future__ import annotations

import os
import ssl
import sys
import tempfile

__all__ = ["run_self_test"]

QUESTION = "What is 6 × 7?"
ANSWER = "6 × 7 is **42**."
TIME_LIMIT_S = 30.0


def _say(text: str) -> None:
    if sys.stdout is not None:  # None in a windowed (frozen) app
        print(text, flush=True)


def _complain(text: str) -> None:
    if sys.stderr is not None:
        print(text, file=sys.stderr, flush=True)


def certificate_check() -> str | None:
    """None when the default TLS context trusts some certificate authorities."""
    try:
        count = ssl.create_default_context().cert_store_stats().get("x509_ca", 0)
    except (ssl.SSLError, OSError) as exc:
        return f"TLS certificates could not be loaded: {exc}"
    if count == 0:
        where = os.environ.get("SSL_CERT_FILE") or ssl.get_default_verify_paths().cafile
        return f"no TLS certificate authorities are trusted (looked in {where}): HTTPS would fail"
    where = os.environ.get("SSL_CERT_FILE") or ssl.get_default_verify_paths().openssl_cafile
    _say(f"self-test: TLS trusts {count} certificate authorities (from {where})")
    return None


def run_self_test() -> int:
    """Run the checks; returns the exit status."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never show a window
    os.environ.setdefault("QT_API", "pyside6")
    with tempfile.TemporaryDirectory(prefix="desktop-agent-self-test-") as home:
        os.environ["DESKTOP_AGENT_HOME"] = home  # leave the user's data alone
        failures = _window_checks()
    cert_problem = certificate_check()
    if cert_problem:
        failures.append(cert_problem)
    if failures:
        for failure in failures:
            _complain(f"self-test: FAILED: {failure}")
        return 1
    _say("self-test: ok")
    return 0


def _window_checks() -> list[str]:
    import asyncio

    import qasync
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from ..app.providers import ConnectionConfig
    from ..engine.events import Done
    from ..testing import ScriptedModel, ScriptedToolCall, Turn
    from ..tools.basic import DEFAULT_TOOLS
    from .window import MainWindow

    # The offscreen platform warns about window hints it ignores: not our failure.
    qInstallMessageHandler(
        lambda _kind, _ctx, msg: None if "propagateSizeHints" in msg else _complain(msg)
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    model = ScriptedModel(
        [
            Turn(tool_calls=[ScriptedToolCall("calculator", {"expression": "6 * 7"})]),
            Turn(text=ANSWER, chunk_size=3, delay=0.001),
        ],
        model="self-test",
    )
    config = ConnectionConfig(kind="openai", base_url="http://self-test.invalid/v1")
    window = MainWindow(config, tools=DEFAULT_TOOLS, model_factory=lambda _c: model)
    window.show()
    failures: list[str] = []
    seen: dict[str, list[str]] = {"status": [], "tools": []}

    def check(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    async def scenario() -> None:
        await window.start()
        bridge = window.bridge
        assert bridge is not None
        done: asyncio.Future[Done] = asyncio.get_running_loop().create_future()

        def finished(event: Done) -> None:
            if not done.done():
                done.set_result(event)

        bridge.run_done.connect(finished)
        bridge.state_changed.connect(lambda event: seen["status"].append(str(event.new_status)))
        # Connected after the window's own slots: sees what the status bar shows.
        bridge.tool_started.connect(lambda _d: seen["tools"].append(window.status.tools_text))
        window.send(QUESTION)
        try:
            result = await asyncio.wait_for(done, TIME_LIMIT_S)
        except TimeoutError:
            failures.append(f"the scripted run did not finish within {TIME_LIMIT_S:.0f} s")
            return
        await asyncio.sleep(0.05)  # the last frame reaches the window
        text = window.transcript.toPlainText()
        check(result.status == "completed", f"the run ended {result.status.value!r}")
        check(QUESTION in text, "the user's message is not in the transcript")
        check("6 × 7 is 42." in text, f"the answer is not in the transcript: {text[-200:]!r}")
        check("calculator" in text, "the tool call is not in the transcript")
        check(
            any("calculator" in shown for shown in seen["tools"]),
            "the status bar did not name the running tool",
        )
        check(
            "✓ calculator" in window.status.tools_text,
            f"the status bar does not show the tool's result: {window.status.tools_text!r}",
        )
        check("calling_tool" in seen["status"], f"no tool phase in {seen['status']}")
        check(window.status.status == "done", f"status bar says {window.status.status!r}")
        check(
            len(model.requests) == 2 and model.requests[1][-1].get("content") == "42",
            "the tool's result did not go back to the model",
        )

    async def main() -> None:
        try:
            await scenario()
        finally:
            await window.shutdown()

    try:
        qasync.run(main())
    except Exception as exc:  # a check that crashed is a failed check
        failures.append(f"{type(exc).__name__}: {exc}")
    del app
    if not failures:
        _say(f"self-test: window streamed a conversation with a tool call ({QUESTION!r} → 42)")
    return failures
