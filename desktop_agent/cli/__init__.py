"""Command line.

    desktop-agent [--base-url URL] [--model NAME] [--prompt TEXT]   the window
    desktop-agent chat [PROMPT] [--json]                            the terminal
    desktop-agent serve [--host H] [--port P] [--token T | --no-token]  SSE/WebSocket server
    desktop-agent history | export ID [--format md|json] | import FILE   stored conversations
    desktop-agent export --all --format json -o FILE                all of them
    desktop-agent backup FILE | restore FILE [--force]              the data folder (no keys)
    desktop-agent models list | pull REF | rm REF | import FILE.gguf  local models
    desktop-agent project create NAME | add NAME PATH… | list | rm NAME   projects
    desktop-agent chat --project NAME "message"                     chat in a project
    desktop-agent install-desktop-entry [--uninstall]               application menu (Linux)
    desktop-agent --self-test                                       check the installation

Sub-commands are imported only when used, so `--version` and `--help` stay fast
and the window's start-up does not pay for the others.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__


def _connection_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-url",
        help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL, else the OpenAI API)",
    )
    common.add_argument("--model", help="model name (default: $DESKTOP_AGENT_MODEL)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _connection_options()
    parser = argparse.ArgumentParser(
        prog="desktop-agent",
        description="A desktop chat client for tool-calling LLM agents.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"desktop-agent {__version__}")
    parser.add_argument("--prompt", help="send this message as soon as the window is ready")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation offscreen (window, scripted conversation, TLS) and exit",
    )
    commands = parser.add_subparsers(
        dest="command",
        metavar="{chat,serve,history,export,import,backup,restore,models,project,"
        "install-desktop-entry}",
    )
    chat = commands.add_parser(
        "chat", parents=[common], help="chat in the terminal", description="Chat in the terminal."
    )
    chat.add_argument("prompt", nargs="?", help="ask this and exit (else an interactive session)")
    chat.add_argument("--json", action="store_true", help="one event per line (JSON), for scripts")
    chat.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="send this file with the (first) message: an image, a PDF, a text or code file "
        "(repeat for several)",
    )
    chat.add_argument(
        "--local", action="store_true", help="use the embedded model (the `local` extra)"
    )
    chat.add_argument(
        "--project",
        metavar="NAME",
        help="start the conversation in this project (its instructions and files)",
    )
    chat.add_argument(
        "--agui",
        metavar="URL",
        help="talk to the AG-UI agent at exactly this URL (LangGraph, Pydantic AI, ADK, "
        "another desktop-agent serve's /agui ...)",
    )
    chat.add_argument(
        "--api",
        choices=["chat", "responses", "auto"],
        help="the OpenAI wire: Chat Completions, the Responses API, or probe once (auto)",
    )
    chat.add_argument(
        "--stats",
        action="store_true",
        help="after each answer: tokens in and out, time to first token, tokens/s, cost, "
        "and the conversation's totals",
    )
    chat.add_argument(
        "--no-save",
        action="store_true",
        help="keep no history of these conversations (else they join the window's; "
        'the setting "save_history": false does the same)',
    )
    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="stream runs over SSE, WebSocket and AG-UI",
        description="Serve the agent over HTTP: SSE, WebSocket, AG-UI (POST /agui), a web page.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    token = serve.add_mutually_exclusive_group()
    token.add_argument(
        "--token",
        help="the token every request must carry (default: $DESKTOP_AGENT_TOKEN, else a "
        "random one, printed in the URL)",
    )
    token.add_argument(
        "--no-token",
        action="store_true",
        help="require no token (only on a loopback address; any local program can then use it)",
    )
    serve.add_argument("--cors-origin", help="allow this browser origin (CORS is off by default)")
    serve.add_argument(
        "--public-host",
        action="append",
        default=[],
        metavar="NAME[:PORT]",
        help="also answer requests for this host name (behind a proxy); repeatable",
    )
    serve.add_argument(
        "--max-conversations",
        type=int,
        default=100,
        metavar="N",
        help="keep at most N conversations; the least recently used idle ones go first (100)",
    )
    serve.add_argument(
        "--no-save",
        action="store_true",
        help="keep no history of these conversations (else they join the window's; "
        'the setting "save_history": false does the same)',
    )
    history = commands.add_parser(
        "history", help="list stored conversations", description="List stored conversations."
    )
    history.add_argument("--search", "-s", help="only those whose title or messages match")
    history.add_argument("--limit", "-n", type=int, default=50, help="at most this many (50)")
    export = commands.add_parser(
        "export",
        help="a conversation as Markdown or JSON",
        description="Write a stored conversation as Markdown (what is shown) or JSON "
        "(everything, every version; `import` reads it back).",
    )
    export.add_argument("conversation", nargs="?", help="its id (see `desktop-agent history`)")
    export.add_argument("--all", action="store_true", help="every conversation (not deleted)")
    export.add_argument("--format", "-f", choices=["md", "json"], default="md")
    export.add_argument("--output", "-o", help="write to this file (default: standard output)")
    imp = commands.add_parser(
        "import",
        help="add conversations from ChatGPT, Claude, Open WebUI or desktop-agent exports",
        description="Import conversations: a ChatGPT data export (conversations.json or its "
        ".zip), a Claude export, an Open WebUI chat export, or desktop-agent's own JSON. "
        "Importing the same file again adds nothing twice.",
    )
    imp.add_argument("file", help="the export (.json or .zip)")
    imp.add_argument(
        "--max-conversation-mb",
        type=int,
        default=256,
        metavar="MB",
        help="refuse a single conversation larger than this (256)",
    )
    backup = commands.add_parser(
        "backup",
        help="copy the history and settings (never keys) into one file",
        description="Back up the data folder (history and settings; API keys, MCP servers "
        "and logs are not included) into one file, to restore on another machine.",
    )
    backup.add_argument("file", help="the backup file to write (.zip)")
    restore = commands.add_parser(
        "restore",
        help="put a backup into the data folder",
        description="Restore a backup made by `desktop-agent backup` into the data folder.",
    )
    restore.add_argument("file", help="the backup file")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace conversations and settings already there (the old files are kept aside)",
    )
    _models_parser(commands)
    from .projects import add_parser as _projects_parser

    _projects_parser(commands)
    entry = commands.add_parser(
        "install-desktop-entry",
        help="add the app to this user's application menu (Linux)",
        description="Write a .desktop file and icons for this user (Linux).",
    )
    entry.add_argument("--uninstall", action="store_true", help="remove them again")
    return parser


def _models_parser(commands: Any) -> None:
    models = commands.add_parser(
        "models",
        help="local models: the catalog, downloads, imports",
        description="GGUF models for the embedded engine, kept in the data folder's models/. "
        "REF is a catalog id (see `list`) or hf:OWNER/REPO/FILE.gguf. Downloads honour "
        "HF_ENDPOINT, HF_TOKEN and the proxy variables, resume, and are verified.",
    )
    actions = models.add_subparsers(dest="models_command", metavar="{list,pull,rm,import}")
    actions.required = True
    actions.add_parser("list", help="the catalog and the installed models")
    pull = actions.add_parser("pull", help="download (or resume) and verify a model")
    pull.add_argument("ref", help="catalog id or hf:OWNER/REPO/FILE.gguf")
    rm = actions.add_parser("rm", help="delete an installed model (or an unfinished download)")
    rm.add_argument("ref")
    imp = actions.add_parser("import", help="add a GGUF file from this computer")
    imp.add_argument("file")


#: What `build_parser` makes of no arguments (the window, as the application menu
#: starts it): used as it is, without building the parser (~7 ms before the first paint).
NO_ARGUMENTS = argparse.Namespace(
    base_url=None, model=None, prompt=None, self_test=False, command=None
)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(arguments) if arguments else NO_ARGUMENTS
    if args.command == "chat":
        from ..terminal import main as chat_main

        if args.local and args.model:
            from ..app.providers import installed_model_path

            if installed_model_path(args.model) is None:
                from ..printable import printable

                sys.stderr.write(
                    f"error: the model {printable(repr(args.model))} is not installed (see "
                    "`desktop-agent models list`; add it with `models pull` or `models import`)\n"
                )
                return 1

        return chat_main(
            args.prompt,
            base_url=args.base_url,
            model=args.model,
            json_mode=args.json,
            local=args.local,
            save=not args.no_save,
            attach=args.attach,
            agui=args.agui,
            api=args.api,
            project=args.project,
            stats=args.stats,
        )
    if args.command == "project":
        from . import projects as projects_cli

        return projects_cli.main(args)
    if args.command == "serve":
        try:
            from ..web.server import main as serve_main
        except ModuleNotFoundError as exc:
            if exc.name != "aiohttp":
                raise
            sys.stderr.write(
                "error: `desktop-agent serve` needs the server extra: "
                "pip install 'desktop-agent[server]'\n"
            )
            return 2

        return serve_main(
            host=args.host,
            port=args.port,
            token=args.token,
            no_token=args.no_token,
            cors_origin=args.cors_origin,
            public_hosts=args.public_host,
            max_conversations=args.max_conversations,
            base_url=args.base_url,
            model=args.model,
            save=not args.no_save,
        )
    if args.command == "models":
        from . import models as models_cli

        if args.models_command == "list":
            return models_cli.list_main()
        if args.models_command == "pull":
            return models_cli.pull_main(args.ref)
        if args.models_command == "rm":
            return models_cli.rm_main(args.ref)
        return models_cli.import_main(args.file)
    if args.command in ("history", "export", "import"):
        from . import conversations as history_cli

        if args.command == "history":
            return history_cli.history_main(search=args.search, limit=args.limit)
        if args.command == "export":
            if args.all == bool(args.conversation):
                sys.stderr.write("error: give a conversation id or --all (not both)\n")
                return 2
            if args.all:
                return history_cli.export_all_main(fmt=args.format, output=args.output)
            return history_cli.export_main(args.conversation, fmt=args.format, output=args.output)
        from .imports import import_main

        return import_main(args.file, max_conversation_mb=args.max_conversation_mb)
    if args.command in ("backup", "restore"):
        from .imports import backup_main, restore_main

        if args.command == "backup":
            return backup_main(args.file)
        return restore_main(args.file, force=args.force)
    if args.command == "install-desktop-entry":
        from ..packaging.desktop_entry import main as entry_main

        return entry_main(remove=args.uninstall)
    if args.self_test:
        from ..gui.self_test import run_self_test

        return run_self_test()
    import gc

    # Start-up allocates much and frees little: the garbage collector's passes (~30,
    # ~5 ms) wait until the window has painted (`run_app` turns it back on then).
    gc.disable()
    try:
        from ..gui.app import run_app

        status: int = run_app(base_url=args.base_url, model=args.model, prompt=args.prompt)
    finally:
        gc.enable()
    return status


if __name__ == "__main__":
    sys.exit(main())
