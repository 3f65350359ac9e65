"""`desktop-agent project …`: projects from the command line.

desktop-agent project create NAME [--instructions TEXT] [--provider ID] [--tools A,B|none]
desktop-agent project set NAME [--name NEW] [--instructions TEXT] [--provider ID] [--tools …]
desktop-agent project add NAME PATH…          files or folders, indexed (progress bar)
desktop-agent project rescan NAME             changed files again, deleted ones out
desktop-agent project list                    projects, their files and conversations
desktop-agent project files NAME              each file: indexed, or skipped and why
desktop-agent project rm NAME [--delete-conversations]
desktop-agent project embed NAME [--model M]  vectors from the provider's /v1/embeddings
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..app.projects import Projects
from ..printable import printable
from ..storage import StoreError
from .common import fail, open_store

__all__ = ["add_parser", "main"]


def add_parser(commands: Any) -> None:
    project = commands.add_parser(
        "project",
        help="projects: conversations with their own instructions and files",
        description="Projects group conversations with their own instructions and a "
        "searchable knowledge base (files and folders, indexed on this computer).",
    )
    actions = project.add_subparsers(
        dest="project_command", metavar="{create,add,rescan,list,files,rm}"
    )
    create = actions.add_parser("create", help="a new project")
    create.add_argument("name")
    create.add_argument("--instructions", default="", help="added to every conversation's prompt")
    change = actions.add_parser("set", help="change a project's name, instructions or defaults")
    change.add_argument("name")
    change.add_argument("--name", dest="new_name", help="rename it")
    change.add_argument("--instructions", help="added to every conversation's prompt")
    for command in (create, change):
        command.add_argument(
            "--provider",
            metavar="ID",
            help="the saved provider (with its model) new conversations in it use",
        )
        command.add_argument(
            "--tools",
            metavar="A,B",
            help="the only tools its conversations may call (names as the model sees them, "
            "e.g. calculator,current_time; 'none' for none; 'all' for the session's); "
            "search_knowledge is always there",
        )
    add = actions.add_parser("add", help="add files or folders and index them")
    add.add_argument("name")
    add.add_argument("paths", nargs="+", metavar="PATH")
    rescan = actions.add_parser("rescan", help="index changed files again, drop deleted ones")
    rescan.add_argument("name")
    actions.add_parser("list", help="the projects")
    files = actions.add_parser("files", help="a project's files (indexed, or skipped and why)")
    files.add_argument("name")
    embed = actions.add_parser(
        "embed", help="embed its passages with the provider's /v1/embeddings (hybrid search)"
    )
    embed.add_argument("name")
    embed.add_argument(
        "--model",
        help="the embedding model (saved as the setting knowledge.embedding_model); "
        "default: that setting",
    )
    rm = actions.add_parser("rm", help="remove a project (its conversations are kept)")
    rm.add_argument("name")
    rm.add_argument(
        "--delete-conversations",
        action="store_true",
        help="delete its conversations too (else they stay, out of any project)",
    )


def main(args: Any) -> int:
    command = args.project_command
    if command is None:
        return fail("say what to do: create, add, rescan, list, files or rm (see --help)")
    if (store := open_store()) is None:
        return 1
    try:
        projects = Projects(store)
        if command == "create":
            project = projects.create(args.name, instructions=args.instructions)
            _set_defaults(projects, project.id, args)
            print(f"created project {printable(project.name)}")
            return 0
        if command == "list":
            return _list(projects)
        project = projects.named(args.name)
        if command == "set":
            projects.update(project.id, name=args.new_name, instructions=args.instructions)
            _set_defaults(projects, project.id, args)
            print(f"changed project {printable(args.new_name or project.name)}")
            return 0
        if command in ("add", "rescan"):
            return _index(projects, project.id, args.paths if command == "add" else None)
        if command == "files":
            for f in projects.files(project.id):
                what = f"{f.passages} passages" if f.status == "indexed" else f"skipped: {f.reason}"
                print(f"{printable(f.path)}\t{printable(what)}")
            return 0
        if command == "embed":
            return _embed(project.id, args.model)
        if command == "rm":
            ids = projects.remove(project.id, delete_conversations=args.delete_conversations)
            fate = "deleted" if args.delete_conversations else "kept"
            print(f"removed project {printable(project.name)}; {len(ids)} conversations {fate}")
            return 0
    except (StoreError, LookupError, FileNotFoundError) as exc:
        return fail(str(exc).strip("'\""))
    finally:
        store.close()
    return fail(f"unknown project command {command!r}")


def _set_defaults(projects: Projects, project_id: str, args: Any) -> None:
    """--provider and --tools, when given."""
    if args.provider is not None:
        from ..app.providers import Providers
        from ..app.settings import load_settings

        if args.provider and Providers.from_settings(load_settings()).get(args.provider) is None:
            raise LookupError(f"No saved provider {args.provider!r} (see Settings → Providers).")
        projects.update(project_id, provider_id=args.provider)
    if args.tools is not None:
        names = [n.strip() for n in args.tools.split(",") if n.strip()]
        if names == ["all"]:
            projects.db.clear_tools(project_id)
        else:
            projects.update(project_id, tools=[] if names == ["none"] else names)


def _embed(project_id: str, model_name: str | None) -> int:
    import asyncio

    from ..app.session import Session
    from ..app.settings import load_settings, update_settings
    from ..engine.model import ModelError, close_model

    if model_name:

        def change(saved: dict[str, Any]) -> None:
            knowledge = saved.get("knowledge")
            saved["knowledge"] = {**(knowledge if isinstance(knowledge, dict) else {})}
            saved["knowledge"]["embedding_model"] = model_name

        update_settings(change)
    knowledge = load_settings().get("knowledge")
    name = knowledge.get("embedding_model") if isinstance(knowledge, dict) else None
    if not name:
        return fail("say which embedding model: --model NAME (e.g. text-embedding-3-small)")

    async def run() -> int:
        session = Session.open(use_mcp=False)
        try:
            await session.resolve()
            model = await asyncio.to_thread(session._make_model, session.config)
            if not hasattr(model, "embed") or session.store is None:
                await close_model(model)
                return fail(f"{session.config.label()} makes no embeddings")
            projects = Projects(session.store)
            projects.embedder, projects.embedding_model = model, name  # type: ignore[assignment]
            try:
                count = await projects.embed(project_id)
            except ModelError as exc:
                return fail(f"no embeddings from {session.config.label()}: {exc}")
            finally:
                await close_model(model)
            print(f"embedded {count} passages with {printable(name)}")
            return 0
        finally:
            if session.store is not None:
                session.store.close()

    return asyncio.run(run())


def _list(projects: Projects) -> int:
    all_projects = projects.all()
    if not all_projects:
        print("no projects yet (desktop-agent project create NAME)")
    for project in all_projects:
        files = projects.files(project.id)
        indexed = sum(1 for f in files if f.status == "indexed")
        passages = sum(f.passages for f in files)
        conversations = len(projects.conversations(project.id))
        tools = "all tools" if project.tools is None else ", ".join(project.tools) or "no tools"
        print(
            f"{printable(project.name)}\t{indexed} files indexed ({passages} passages), "
            f"{len(files) - indexed} skipped, {conversations} conversations"
            f"\t{printable(tools)}"
            + (f"\tprovider {printable(project.provider_id)}" if project.provider_id else "")
        )
    return 0


def _index(projects: Projects, project_id: str, paths: Sequence[str] | None) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    if paths is not None:
        for path in paths:
            if not Path(path).expanduser().exists():
                return fail(f"{path}: no such file or folder")
    console = Console(stderr=True)
    columns = (
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[name]}"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("index", total=None, name="")

        def progress(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, name=printable(Path(path).name)[:40])

        if paths is None:
            report = projects.rescan(project_id, progress=progress)
        else:
            report = projects.index(project_id, paths, progress=progress)
    print(report.summary())
    for path, reason in report.skipped[:20]:
        print(f"  skipped {printable(path)}: {printable(reason)}")
    if len(report.skipped) > 20:
        print(f"  … and {len(report.skipped) - 20} more (desktop-agent project files NAME)")
    return 0
