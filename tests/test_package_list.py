"""Every package of desktop_agent is in pyproject's explicit `packages` list: a package
left out is missing from a built wheel (the editable install and the source tree,
which the other tests use, still find it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_for_the_wheel() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "desktop_agent").rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages"
