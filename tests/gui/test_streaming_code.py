"""A long code block streamed into the transcript: each line is rendered once (not
the whole block again per update), and what shows at the end is what a render
of the whole message shows."""

from __future__ import annotations

from typing import Any

from desktop_agent.gui.transcript import Transcript


def body_text(t: Transcript) -> str:
    entry = t.entries[-1]
    first, end = t._bounds(entry)
    return t.toPlainText()[first + entry.header_len : end]


def message() -> str:
    lines = [f"    total_{i} = add({i}, 'x')  # line {i}" for i in range(320)]
    code = "\n".join(lines)
    assert len(code) > 10_000  # long (> HIGHLIGHT_LIMIT): shown as it streamed, no colours
    return (
        "Here is the program:\n\n```python\n"
        + code
        + "\n```\n\nAnd a short one, in colour:\n```js\nconst a = 1;\n```\n\n"
        + "A list:\n\n- one\n- two\n\n```bash\necho unfinished fence at the end\n```"
    )


def test_a_long_code_block_streams_at_linear_cost_and_ends_as_a_whole_render(
    qtbot: Any,
) -> None:
    text = message()
    streamed = Transcript()
    qtbot.addWidget(streamed)
    streamed.prepare()
    renderer = streamed._renderer
    rendered: list[int] = []
    render = renderer.render

    def counting(markdown: str) -> str:
        rendered.append(len(markdown))
        return render(markdown)

    renderer.render = counting  # type: ignore[method-assign]
    streamed.begin_assistant("m")
    for i in range(0, len(text), 97):
        streamed.append_chunk("m", text[i : i + 97])
        if i == 97 * 60:  # mid-block: its finished lines are on screen
            shown = body_text(streamed)
            last_line = text[: i + 97].rsplit("\n", 2)[-2]
            assert last_line in shown
    streamed.complete_assistant("m", text, "stop")
    # Each part of the message went through the renderer about once, not once per update.
    assert sum(rendered) < 2 * len(text), (sum(rendered), len(text))

    whole = Transcript()
    qtbot.addWidget(whole)
    whole.complete_assistant("m", text, "stop")
    assert body_text(streamed) == body_text(whole)
