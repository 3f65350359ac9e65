"""Tools the agent can call: `@tool`, `Tool`, `ToolRegistry`.

    @tool("Add two numbers")
    def add(a: int, b: int = 0) -> int:
        '''
        Args:
            a: the first number
            b: the second number
        '''
        return a + b

The JSON schema comes from the type hints (str, int, float, bool, lists, dicts,
Optional, Literal, Enum, Annotated[..., "description"]) and the docstring's
parameter descriptions (Google `Args:` or reST `:param x:`). Sync tools run in a
daemon thread of their own, so a slow tool never blocks the event loop, and a tool
stuck for ever (a thread cannot be cancelled) never keeps the app from exiting.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import inspect
import json
import re
import threading
import types
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, Union, overload

__all__ = ["Tool", "ToolArgumentError", "ToolRegistry", "run_in_daemon_thread", "tool"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
JSONSchema = dict[str, Any]


class ToolArgumentError(ValueError):
    """The model's arguments do not fit the tool's schema."""


@dataclass(frozen=True)
class Tool:
    """A callable the model may use, with its JSON schema."""

    name: str
    description: str
    parameters: JSONSchema
    fn: Callable[..., Any]
    #: Seconds one call may take (None: the agent's default).
    timeout: float | None = None
    #: True for tools that change things outside the conversation (files, network,
    #: processes): surfaces ask the user before such a call runs.
    side_effects: bool = False
    _enums: Mapping[str, type[enum.Enum]] = field(default_factory=dict, repr=False)

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)

    def schema(self) -> dict[str, Any]:
        """The OpenAI `tools` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def parse_arguments(self, raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
        """Parse and check the model's arguments; raises `ToolArgumentError`."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            args: Any = {}
        elif isinstance(raw, str):
            try:
                args = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ToolArgumentError(f"arguments are not valid JSON ({exc.msg})") from None
        else:
            args = dict(raw)
        if not isinstance(args, dict):
            raise ToolArgumentError("arguments must be a JSON object")
        checked = _check(self.parameters, args, "")
        for key, enum_type in self._enums.items():
            if key in checked:
                checked[key] = enum_type(checked[key])
        result: dict[str, Any] = checked
        return result

    async def invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Run the tool with checked arguments (sync tools in a worker thread)."""
        if self.is_async:
            return await self.fn(**arguments)
        return await run_in_daemon_thread(self.fn, f"tool {self.name}", **arguments)


async def run_in_daemon_thread(fn: Callable[..., T], name: str, /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` in a new daemon thread called `name` (with the caller's
    context vars). Its own parameters are positional-only, so any keyword (`name`,
    `fn`...) is `fn`'s.

    Unlike `asyncio.to_thread`, whose pool threads the interpreter joins at exit,
    a daemon thread that never returns does not keep the process alive. Cancelling
    the await stops waiting; the thread runs on until `fn` returns, and its result
    is dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def work() -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = context.run(fn, *args, **kwargs)
        except StopIteration as exc:  # a future cannot hold one
            error = RuntimeError(f"StopIteration: {exc}")
        except BaseException as exc:
            error = exc
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


class ToolRegistry:
    """The tools one agent can use, by name."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.register(item)

    def register(self, item: Tool | Callable[..., Any]) -> Tool:
        t = item if isinstance(item, Tool) else _as_tool(item)
        if t.name in self._tools:
            raise ValueError(f"two tools are named {t.name!r}")
        self._tools[t.name] = t
        return t

    def unregister(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> typing.Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self._tools.values()]


def _as_tool(fn: Callable[..., Any]) -> Tool:
    existing = getattr(fn, "__tool__", None)
    if isinstance(existing, Tool):
        return existing
    return make_tool(fn)


@overload
def tool(description: F, /) -> Tool: ...


@overload
def tool(
    description: str | None = None,
    /,
    *,
    name: str | None = None,
    timeout: float | None = None,
    side_effects: bool = False,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    description: str | Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    timeout: float | None = None,
    side_effects: bool = False,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a function a `Tool`: `@tool`, `@tool("what it does")`, or with options."""
    if callable(description):
        return make_tool(description)

    def wrap(fn: Callable[..., Any]) -> Tool:
        return make_tool(
            fn,
            description=description,
            name=name,
            timeout=timeout,
            side_effects=side_effects,
        )

    return wrap


def make_tool(
    fn: Callable[..., Any] | Callable[..., Awaitable[Any]],
    *,
    description: str | None = None,
    name: str | None = None,
    timeout: float | None = None,
    side_effects: bool = False,
) -> Tool:
    """Build a `Tool` from a function's signature, type hints and docstring."""
    tool_name = name or fn.__name__
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", tool_name):
        raise ValueError(f"tool name {tool_name!r} must be 1-64 letters, digits, _ or -")
    doc = inspect.getdoc(fn) or ""
    summary, param_docs = _parse_docstring(doc)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except NameError as exc:
        raise TypeError(f"tool {tool_name}: cannot resolve a type hint ({exc})") from None
    properties: dict[str, JSONSchema] = {}
    required: list[str] = []
    enums: dict[str, type[enum.Enum]] = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {tool_name}: *args and **kwargs cannot be described")
        if param.kind is param.POSITIONAL_ONLY:
            raise TypeError(f"tool {tool_name}: positional-only parameters are not supported")
        annotation = hints.get(pname, str)
        schema, optional, enum_type = _schema_for(annotation, f"{tool_name}.{pname}")
        if enum_type is not None:
            enums[pname] = enum_type
        if pname in param_docs and "description" not in schema:
            schema["description"] = param_docs[pname]
        if param.default is not param.empty:
            default = param.default
            if isinstance(default, enum.Enum):
                default = default.value
            if default is not None:
                schema["default"] = default
        elif optional:
            schema = {"anyOf": [schema, {"type": "null"}]}
            required.append(pname)
        else:
            required.append(pname)
        properties[pname] = schema
    parameters: JSONSchema = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    parameters["additionalProperties"] = False
    desc = description or summary or tool_name.replace("_", " ")
    made = Tool(
        name=tool_name,
        description=desc,
        parameters=parameters,
        fn=fn,
        timeout=timeout,
        side_effects=side_effects,
        _enums=enums,
    )
    return made


_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _schema_for(tp: Any, where: str) -> tuple[JSONSchema, bool, type[enum.Enum] | None]:
    """(schema, is_optional, enum type to convert to) for a type hint."""
    schema: JSONSchema
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(tp)
        schema, optional, enum_type = _schema_for(base, where)
        for extra in extras:
            if isinstance(extra, str):
                schema["description"] = extra
        return schema, optional, enum_type
    if origin in (Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(members) < len(typing.get_args(tp))
        if len(members) == 1:
            schema, _, enum_type = _schema_for(members[0], where)
            return schema, optional, enum_type
        return {"anyOf": [_schema_for(m, where)[0] for m in members]}, optional, None
    if tp in _SIMPLE:
        return {"type": _SIMPLE[tp]}, False, None
    if tp is Any:
        return {}, False, None
    if origin is Literal:
        values = list(typing.get_args(tp))
        kinds = {_SIMPLE.get(type(v)) for v in values}
        schema = {"enum": values}
        if len(kinds) == 1 and None not in kinds:
            schema["type"] = kinds.pop()
        return schema, False, None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = [m.value for m in tp]
        schema = {"enum": values}
        kinds = {_SIMPLE.get(type(v)) for v in values}
        if len(kinds) == 1 and None not in kinds:
            schema["type"] = kinds.pop()
        return schema, False, tp
    if tp in (list, tuple, set, frozenset) or origin in (list, tuple, set, frozenset, Sequence):
        args = typing.get_args(tp)
        schema = {"type": "array"}
        if args and args[0] is not Ellipsis:
            schema["items"] = _schema_for(args[0], where)[0]
        return schema, False, None
    if tp is dict or origin in (dict, Mapping):
        schema = {"type": "object"}
        args = typing.get_args(tp)
        if len(args) == 2:
            schema["additionalProperties"] = _schema_for(args[1], where)[0]
        return schema, False, None
    raise TypeError(f"{where}: cannot describe type {tp!r} in JSON schema")


_GOOGLE_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params):\s*$")
_GOOGLE_PARAM = re.compile(r"^\s+(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+):\s*(.*)$")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (first paragraph) and {parameter: description}."""
    lines = doc.splitlines()
    summary_lines: list[str] = []
    for line in lines:
        if not line.strip() or _GOOGLE_SECTION.match(line.strip()) or line.startswith(":"):
            break
        summary_lines.append(line.strip())
    params: dict[str, str] = {}
    in_args = False
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        rest = _REST_PARAM.match(stripped)
        if rest:
            current = rest.group(1)
            params[current] = rest.group(2).strip()
            in_args = False
            continue
        if _GOOGLE_SECTION.match(stripped):
            in_args = True
            current = None
            continue
        if in_args:
            if stripped and not line.startswith((" ", "\t")):
                in_args = False
                current = None
                continue
            m = _GOOGLE_PARAM.match(line)
            indent = len(line) - len(line.lstrip())
            if m and (current is None or indent <= _indent_of(lines, current)):
                current = m.group(1).lstrip("*")
                params[current] = m.group(2).strip()
                continue
        if current and stripped and line.startswith((" ", "\t")):
            params[current] = (params[current] + " " + stripped).strip()
        elif not stripped:
            current = None if not in_args else current
    return " ".join(summary_lines), params


def _indent_of(lines: list[str], name: str) -> int:
    for line in lines:
        m = _GOOGLE_PARAM.match(line)
        if m and m.group(1).lstrip("*") == name:
            return len(line) - len(line.lstrip())
    return 0


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def _check(schema: JSONSchema, value: Any, where: str) -> Any:
    """Check `value` against the subset of JSON schema `make_tool` produces."""
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                return _check(option, value, where)
            except ToolArgumentError as exc:
                errors.append(str(exc))
        raise ToolArgumentError(errors[0] if len(errors) == 1 else f"{_at(where)}: no type fits")
    kind = schema.get("type")
    if kind is not None:
        allowed = _JSON_TYPES[kind]
        ok = isinstance(value, allowed) and not (
            kind in ("integer", "number") and isinstance(value, bool)
        )
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            value, ok = int(value), True
        if not ok:
            raise ToolArgumentError(f"{_at(where)}: expected {kind}, got {_json_type(value)}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(v) for v in schema["enum"])
        raise ToolArgumentError(f"{_at(where)}: must be one of {choices}")
    if kind == "array" and "items" in schema:
        return [_check(schema["items"], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if kind == "object":
        props: dict[str, JSONSchema] = schema.get("properties", {})
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            raise ToolArgumentError(f"{_at(where)}: missing {', '.join(map(repr, missing))}")
        extra_schema = schema.get("additionalProperties", True)
        out = {}
        for key, item in value.items():
            if key in props:
                out[key] = _check(props[key], item, f"{where}.{key}" if where else key)
            elif extra_schema is False:
                raise ToolArgumentError(f"{_at(where)}: unexpected argument {key!r}")
            elif isinstance(extra_schema, dict):
                out[key] = _check(extra_schema, item, f"{where}.{key}" if where else key)
            else:
                out[key] = item
        return out
    return value


def _at(where: str) -> str:
    return f"argument {where!r}" if where else "arguments"


def _json_type(value: Any) -> str:
    for name, kinds in _JSON_TYPES.items():
        if isinstance(value, kinds) and not (name != "boolean" and isinstance(value, bool)):
            return name
    return type(value).__name__
