"""The reference page in headless Chromium: type, send, watch it stream."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from aiohttp import web

from desktop_agent import Orchestrator
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.web.server import ChatServer
from tests.integration.test_server import slow_lookup
from tests.support.cdp import chromium_page

pytestmark = pytest.mark.slow

ANSWERS = (
    "[...document.querySelectorAll('.entry.assistant .body')].map(e => e.textContent).join('|')"
)


async def test_page_streams_answer_and_shows_tool(tmp_path: Path) -> None:
    model = ScriptedModel(
        [
            Turn(
                text="Let me look. ",
                tool_calls=[ScriptedToolCall("slow_lookup", {"topic": "owls"})],
            ),
            Turn(text="Owls are **nocturnal** birds of prey.", chunk_size=2, delay=0.01),
        ]
    )
    orchestrator = Orchestrator(model, tools=[slow_lookup])
    # As `serve` starts by default: with a token, opened through the URL it prints.
    runner = web.AppRunner(ChatServer(orchestrator, token="page-token").app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/#token=page-token"
    try:
        async with chromium_page() as page:
            await page.call("Page.navigate", url=url)
            await page.wait_for(
                "document.readyState === 'complete' && !!document.getElementById('message')",
                "the page",
            )
            # the page keeps the token in sessionStorage (per origin, so per port), never
            # in a cookie, and took it out of the address bar
            assert await page.evaluate("location.hash + location.search + document.cookie") == ""
            stored = "sessionStorage.getItem('desktop-agent-token')"
            assert await page.evaluate(stored) == "page-token"
            await page.evaluate("document.getElementById('message').focus()")
            await page.type_text("Tell me about owls")
            await page.press_enter()
            await page.wait_for(
                "document.querySelector('.entry.user')?.textContent.includes('Tell me about owls')",
                "the user's message",
            )
            await page.wait_for(
                "!!document.querySelector('.entry.tool.running')", "the running tool indicator"
            )
            await page.wait_for(
                "document.querySelector('.entry.tool.ok')?.textContent.startsWith('✓ slow_lookup')",
                "the finished tool",
            )
            partial = await page.wait_for(ANSWERS, "streamed text")
            assert partial.startswith("Let me look.")
            final = await page.wait_for(
                f"document.querySelector('#send').disabled === false && {ANSWERS}",
                "the finished answer",
            )
            assert final == "Let me look. |Owls are **nocturnal** birds of prey."
            shot = await page.call("Page.captureScreenshot", format="png")
            (tmp_path / "page.png").write_bytes(base64.b64decode(shot["data"]))
    finally:
        await orchestrator.aclose()
        await runner.cleanup()
