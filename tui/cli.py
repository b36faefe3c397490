"""Command line: one function per subcommand.

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error; errors are one line
on stderr naming the problem and the fix.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import shutil
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tui.config import Config, ConfigError, default_db_path, load_config, parse_duration
from tui.core.model import STATUSES, Filter, utcnow
from tui.core.records import parse_time
from tui.store import Store, StoreError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or environment: exit 2 with this message."""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        type=Path,
        default=argparse.SUPPRESS,
        help="database file (default: the user data directory)",
    )
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="config file (default: $TRIAGE_CONFIG, then the user config directory)",
    )
    parser = argparse.ArgumentParser(
        prog="triage",
        description="Live triage of brand mentions. Without a command, opens the app.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", parents=[common], help="the app on a built-in simulated stream (no network)"
    )
    demo.add_argument("--rate", type=float, default=30.0, help="mentions per minute (default 30)")
    demo.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)
    demo.add_argument("--backlog", type=int, default=60, help=argparse.SUPPRESS)

    imp = commands.add_parser(
        "import",
        parents=[common],
        help="import JSON Lines (export shape) or CSV with a text column",
    )
    imp.add_argument("file", type=Path, help="file to import, or - for stdin")
    imp.add_argument("--format", choices=("jsonl", "csv"), help="default: from the extension")
    imp.add_argument("--source", default="import", help="source name for records without one")

    exp = commands.add_parser("export", parents=[common], help="export mentions")
    exp.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    exp.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    exp.add_argument("--since", help="only mentions posted since: ISO time or a duration (7d, 12h)")
    exp.add_argument("--tag", help="only mentions with this tag")
    exp.add_argument("--status", choices=STATUSES, help="only mentions with this status")

    evidence = commands.add_parser(
        "evidence", parents=[common], help="write a mention's evidence folder"
    )
    evidence.add_argument("mention_id", type=int, metavar="MENTION_ID")
    evidence.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")

    collect = commands.add_parser(
        "collect", parents=[common], help="poll the configured sources headless"
    )
    collect.add_argument("--once", action="store_true", help="poll each enabled source once")

    commands.add_parser(
        "doctor", parents=[common], help="check the config and each source's reachability"
    )
    return parser


def operator_name(config: Config) -> str:
    if config.operator:
        return config.operator
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def _db_path(args: argparse.Namespace) -> Path:
    path: Path | None = getattr(args, "db", None)
    if path is not None:
        return path.expanduser()
    path = default_db_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create {path.parent}: {error.strerror}; pass --db") from error
    return path


async def _with_store(
    path: Path, operator: str, body: Callable[[Store], Coroutine[Any, Any, int]]
) -> int:
    store = await Store.open(path, operator)
    try:
        return await body(store)
    finally:
        await store.close()


def _check_store(path: Path, operator: str) -> None:
    """Open (and migrate) the database once, so problems show before the screen takes over."""

    async def ok(store: Store) -> int:
        return EXIT_OK

    asyncio.run(_with_store(path, operator, ok))


# -- subcommands -------------------------------------------------------------------------------


def cmd_app(args: argparse.Namespace, config: Config) -> int:
    from tui.ui.app import TriageApp, check_keymap

    check_keymap(config)
    path, operator = _db_path(args), operator_name(config)
    _check_store(path, operator)
    TriageApp(config, path, operator).run()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from tui.demo import BRAND, BRAND_TERMS
    from tui.ui.app import TriageApp, check_keymap

    check_keymap(config)
    if args.rate <= 0:
        raise UsageError("--rate must be a positive number of mentions per minute")
    if not config.brand_terms:
        config = replace(config, brand=BRAND, brand_terms=BRAND_TERMS)
    operator = operator_name(config)
    temporary = None
    path = getattr(args, "db", None)
    if path is None:
        temporary = Path(tempfile.mkdtemp(prefix="triage-demo-"))
        path = temporary / "demo.db"
    try:
        _check_store(path, operator)
        TriageApp(
            config,
            path,
            operator,
            demo_rate=args.rate,
            demo_seed=args.seed,
            demo_backlog=args.backlog,
            collect=False,
        ).run()
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    return EXIT_OK


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    from tui.exchange import import_file
    from tui.ingest import Ingestor, make_scorer

    if str(args.file) != "-" and not args.file.is_file():
        raise UsageError(f"{args.file}: no such file; give the path of a .jsonl or .csv file")

    async def run(store: Store) -> int:
        ingestor = Ingestor(store, make_scorer(config), config.auto_snapshot)
        try:
            report = await import_file(ingestor, args.file, fmt=args.format, source=args.source)
        except ValueError as error:
            raise UsageError(str(error)) from error
        for problem in report.problems:
            print(problem, file=sys.stderr)
        print(
            f"imported {report.added} new mentions ({report.duplicates} already present, "
            f"{len(report.problems)} lines skipped)",
            file=sys.stderr,
        )
        return EXIT_FAILURE if report.problems else EXIT_OK

    return asyncio.run(_with_store(_db_path(args), operator_name(config), run))


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return utcnow() - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        return parse_time(text)
    except ValueError as error:
        raise UsageError(f"--since {text!r}: {error}") from error


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    from tui.exchange import export

    since = _since(args.since)
    filt = Filter(tag=args.tag, status=args.status)

    async def run(store: Store) -> int:
        if args.output is None:
            count = await export(store, sys.stdout, fmt=args.format, filt=filt, since=since)
        else:
            partial = args.output.with_name(args.output.name + ".partial")
            with partial.open("w", encoding="utf-8", newline="") as out:
                count = await export(store, out, fmt=args.format, filt=filt, since=since)
            partial.replace(args.output)
        print(f"exported {count} mentions", file=sys.stderr)
        return EXIT_OK

    return asyncio.run(_with_store(_db_path(args), operator_name(config), run))


def cmd_evidence(args: argparse.Namespace, config: Config) -> int:
    from tui.evidence import write_evidence

    async def run(store: Store) -> int:
        try:
            folder = await write_evidence(store, args.mention_id, args.output)
        except KeyError:
            raise UsageError(
                f"no mention {args.mention_id}; the id is shown in the detail pane (#N)"
            ) from None
        print(folder)
        return EXIT_OK

    return asyncio.run(_with_store(_db_path(args), operator_name(config), run))


def cmd_collect(args: argparse.Namespace, config: Config) -> int:
    from tui.collector import run_collect_cli

    return run_collect_cli(config, _db_path(args), once=args.once, operator=operator_name(config))


def cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    from tui.collector import run_doctor_cli

    return run_doctor_cli(config)


COMMANDS: dict[str | None, Callable[[argparse.Namespace, Config], int]] = {
    None: cmd_app,
    "demo": cmd_demo,
    "import": cmd_import,
    "export": cmd_export,
    "evidence": cmd_evidence,
    "collect": cmd_collect,
    "doctor": cmd_doctor,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(getattr(args, "config", None))
        return COMMANDS[args.command](args, config)
    except (ConfigError, UsageError, StoreError) as error:
        print(f"triage: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"triage: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
