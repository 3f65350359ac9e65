"""@tool: schemas from type hints and docstrings; argument checking."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal, Optional

import pytest

from desktop_agent import Tool, ToolArgumentError, ToolRegistry, tool


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


@tool("Look up the weather")
def weather(
    city: str,
    days: int = 1,
    unit: Unit = Unit.C,
    detail: Literal["short", "long"] = "short",
    tags: list[str] | None = None,
    scale: float = 1.0,
    verbose: bool = False,
    note: Optional[str] = None,  # noqa: UP045 - Optional is part of what is tested
) -> str:
    """Weather for a city.

    Args:
        city: The city's name,
            as people write it.
        days (int): How many days ahead.
        unit: Temperature unit.
    """
    return f"{city}:{days}:{unit.value}:{detail}:{tags}:{scale}:{verbose}:{note}"


def test_schema_from_hints_and_docstring() -> None:
    assert isinstance(weather, Tool)
    assert weather.description == "Look up the weather"
    props = weather.parameters["properties"]
    assert props["city"] == {
        "type": "string",
        "description": "The city's name, as people write it.",
    }
    assert props["days"] == {"type": "integer", "description": "How many days ahead.", "default": 1}
    assert props["unit"] == {
        "enum": ["celsius", "fahrenheit"],
        "type": "string",
        "description": "Temperature unit.",
        "default": "celsius",
    }
    assert props["detail"] == {"enum": ["short", "long"], "type": "string", "default": "short"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["scale"] == {"type": "number", "default": 1.0}
    assert props["verbose"] == {"type": "boolean", "default": False}
    assert props["note"] == {"type": "string"}
    assert weather.parameters["required"] == ["city"]
    assert weather.parameters["additionalProperties"] is False
    assert weather.schema()["function"]["name"] == "weather"


def test_rest_docstring_and_summary_description() -> None:
    @tool
    def greet(name: str, times: Annotated[int, "how often"]) -> str:
        """Say hello.

        :param name: who to greet
        """
        return name * times

    assert greet.description == "Say hello."
    assert greet.parameters["properties"]["name"]["description"] == "who to greet"
    assert greet.parameters["properties"]["times"] == {
        "type": "integer",
        "description": "how often",
    }


def test_optional_without_default_is_required_but_nullable() -> None:
    @tool
    def f(x: int | None) -> None:
        return None

    assert f.parameters["properties"]["x"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert f.parameters["required"] == ["x"]
    assert f.parse_arguments('{"x": null}') == {"x": None}


async def test_parse_and_invoke_converts_enums() -> None:
    args = weather.parse_arguments(
        '{"city": "Oslo", "unit": "fahrenheit", "scale": 2, "days": 3.0}'
    )
    assert args == {"city": "Oslo", "unit": Unit.F, "scale": 2, "days": 3}
    assert await weather.invoke(args) == "Oslo:3:fahrenheit:short:None:2:False:None"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[1]", "arguments must be a JSON object"),
        ("{", "arguments are not valid JSON"),
        ('{"city": 3}', "argument 'city': expected string, got integer"),
        ('{"city": "x", "days": true}', "argument 'days': expected integer, got boolean"),
        ('{"city": "x", "days": 1.5}', "argument 'days': expected integer, got number"),
        (
            '{"city": "x", "unit": "kelvin"}',
            'argument \'unit\': must be one of "celsius", "fahrenheit"',
        ),
        ('{"city": "x", "tags": ["a", 2]}', "argument 'tags[1]': expected string, got integer"),
        ('{"days": 2}', "arguments: missing 'city'"),
        ('{"city": "x", "zip": 1}', "arguments: unexpected argument 'zip'"),
    ],
)
def test_bad_arguments_have_clear_messages(raw: str, message: str) -> None:
    with pytest.raises(ToolArgumentError) as info:
        weather.parse_arguments(raw)
    assert str(info.value).startswith(message), str(info.value)


def test_empty_arguments_mean_no_arguments() -> None:
    @tool
    def now() -> str:
        return "t"

    assert now.parse_arguments("") == {}
    assert now.parameters == {"type": "object", "properties": {}, "additionalProperties": False}


def test_undescribable_signatures_are_rejected() -> None:
    def star(*a: int) -> None:
        return None

    with pytest.raises(TypeError, match=r"\*args"):
        tool(star)

    def g(x: Thing) -> None:
        return None

    with pytest.raises(TypeError, match="cannot describe"):
        tool(g)
    with pytest.raises(ValueError, match="tool name"):
        tool(name="bad name!")(lambda: None)


class Thing:
    pass


def test_registry() -> None:
    def plain(a: int) -> int:
        return a

    reg = ToolRegistry([weather, plain])
    assert reg.names == ["weather", "plain"]
    assert "plain" in reg and len(reg) == 2
    assert [s["function"]["name"] for s in reg.schemas()] == ["weather", "plain"]
    with pytest.raises(ValueError, match="two tools"):
        reg.register(weather)


def test_nested_types() -> None:
    @tool
    def f(m: dict[str, int], xs: list[list[int]], anything: Any = None) -> None:
        return None

    props = f.parameters["properties"]
    assert props["m"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert props["xs"] == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "integer"}},
    }
    assert props["anything"] == {}
    with pytest.raises(ToolArgumentError, match=r"argument 'm.k': expected integer"):
        f.parse_arguments('{"m": {"k": "v"}, "xs": []}')


async def test_a_sync_tool_may_have_a_parameter_called_name() -> None:
    """The thread helper's own `name` keyword took the tool's argument: "got multiple
    values for keyword argument 'name'" (issue 12 review)."""

    @tool("Greet someone")
    def greet(name: str, fn: str = "-", args: str = "-") -> str:
        return f"hello {name} {fn} {args}"

    assert await greet.invoke({"name": "Ada", "fn": "f", "args": "a"}) == "hello Ada f a"
