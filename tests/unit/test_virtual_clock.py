"""The tests' virtual clock (tests/support/clock.py): time jumps to the next timer
when nothing can run, and timers still fire in order."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.clock import VirtualClockLoop, elapse


@pytest.mark.virtual_clock
async def test_timeouts_and_timers_pass_in_virtual_time_in_order() -> None:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualClockLoop)
    fired: list[str] = []
    loop.call_later(20, fired.append, "late")
    loop.call_later(10, fired.append, "early")
    start = loop.time()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(30):
            await asyncio.Event().wait()
    assert fired == ["early", "late"]
    assert loop.time() - start == pytest.approx(30, abs=0.01)
    await elapse(3600)
    assert loop.time() - start == pytest.approx(3630, abs=0.01)


async def test_elapse_refuses_the_real_clock() -> None:
    with pytest.raises(RuntimeError, match="virtual_clock"):
        await elapse(1)
