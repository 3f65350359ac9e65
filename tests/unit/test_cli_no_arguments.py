"""`desktop-agent` with no arguments skips building the parser (start-up): what it
uses instead must be exactly what the parser makes of no arguments."""

from __future__ import annotations

from desktop_agent.cli import NO_ARGUMENTS, build_parser


def test_no_arguments_is_what_the_parser_makes_of_none() -> None:
    # (a top-level option added to the parser without adding it here fails this)
    assert build_parser().parse_args([]) == NO_ARGUMENTS
