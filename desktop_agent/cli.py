"""Command line: `desktop-agent [--base-url URL] [--model NAME]` opens the window.

Sub-commands are imported only when used, so `--version` and `--help` stay fast
and the window's start-up does not pay for the others.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="desktop-agent",
        description="A desktop chat client for tool-calling LLM agents.",
    )
    parser.add_argument("--version", action="version", version=f"desktop-agent {__version__}")
    parser.add_argument(
        "--base-url",
        help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL, else the OpenAI API)",
    )
    parser.add_argument("--model", help="model name (default: $DESKTOP_AGENT_MODEL)")
    parser.add_argument("--prompt", help="send this message as soon as the window is ready")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .gui.app import run_app

    status: int = run_app(base_url=args.base_url, model=args.model, prompt=args.prompt)
    return status


if __name__ == "__main__":
    sys.exit(main())
