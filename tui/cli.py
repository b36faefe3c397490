"""Command line: one function per subcommand.

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error; errors are one line
on stderr naming the problem and the fix.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tui.config import Config, ConfigError, default_db_path, load_config, parse_duration
from tui.core.model import STATUSES, Filter, utcnow
from tui.core.records import parse_time
from tui.core.text import json_escaped, normalize_tag, one_line
from tui.files import FileProblem
from tui.store import Store, StoreError, access
from tui.store.access import unix_user

if TYPE_CHECKING:
    from textual.app import App

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or environment: exit 2 with this message."""


def _version() -> str:
    try:
        return importlib.metadata.version("mention-triage")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout not installed
        return "(not installed)"


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors one line as every other error (not the usage and then the
    message); each command's parser is one of these too."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {one_line(message)}; see `{self.prog} --help`\n")


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
    common.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="open the database for reading only (automatic when you may not write it)",
    )
    parser = _Parser(
        prog="triage",
        description="Live triage of brand mentions. Without a command, opens the app.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"triage {_version()}")
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
    evidence.add_argument(
        "--force", action="store_true", help="replace DIR/mention-ID if it exists already"
    )

    collect = commands.add_parser(
        "collect", parents=[common], help="poll the configured sources headless"
    )
    collect.add_argument("--once", action="store_true", help="poll each enabled source once")

    commands.add_parser(
        "doctor",
        parents=[common],
        help="check the config, each source's reachability and the database's permissions",
    )

    learn = commands.add_parser(
        "learn",
        parents=[common],
        help="train the sentiment model on the team's labels; it scores while it beats the lexicon",
    )
    learn.add_argument(
        "--rescore",
        choices=("open", "all", "none"),
        help="mentions to score again afterwards (default: open, i.e. status new)",
    )
    learn.add_argument("--folds", type=int, help="cross-validation folds (default: [learning])")
    learn.add_argument(
        "--lexicon",
        action="store_true",
        help="hand scoring back to the lexicon until the next training",
    )
    learn.add_argument(
        "--list", action="store_true", help="list the stored models and their figures"
    )

    who = commands.add_parser(
        "who",
        parents=[common],
        help="who is running the app: operator, since when, selection, handled this shift",
    )
    who.add_argument("--format", choices=("text", "json"), default="text")

    alerts = commands.add_parser(
        "alerts", parents=[common], help="alert rules: replay them over stored history"
    )
    alert_commands = alerts.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    replay = alert_commands.add_parser(
        "test",
        parents=[common],
        help="when each rule would have fired over stored history (by post time)",
    )
    replay.add_argument("--since", default="30d", help="how far back: 30d, 12h (default 30d)")
    replay.add_argument("--format", choices=("text", "jsonl"), default="text")

    rep = commands.add_parser(
        "report", parents=[common], help="the shift handoff report (Markdown or JSON)"
    )
    period = rep.add_mutually_exclusive_group()
    period.add_argument(
        "--since", help="the period: a duration back from now (8h, 30m, 2d; default 8h)"
    )
    period.add_argument(
        "--shift",
        action="store_true",
        help="the period: since the current 8-hour shift began (00:00, 08:00, 16:00 UTC)",
    )
    rep.add_argument("--format", choices=("md", "json"), default="md")

    init = commands.add_parser(
        "init", parents=[common], help="create (or migrate) the database, optionally for a team"
    )
    init.add_argument(
        "--shared",
        metavar="GROUP",
        help="make the database's directory group-owned and setgid, its files group read-write",
    )
    return parser


def operator_name(config: Config) -> str:
    """The name shown and recorded as ``by``: the config's ``operator`` (a display name), else
    the Unix user. Every event also records the Unix user itself, whatever this says."""
    return config.operator or unix_user()


def _db_path(args: argparse.Namespace, *, create_dir: bool = True) -> Path:
    path: Path | None = getattr(args, "db", None)
    if path is not None:
        path = path.expanduser()
        if access.is_directory(path):
            raise UsageError(f"{one_line(str(path))} is a directory; give --db the database file")
        return path
    path = default_db_path()
    if not create_dir:
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create {path.parent}: {error.strerror}; pass --db") from error
    return path


def _existing_db(args: argparse.Namespace) -> Path:
    """The database of a command that reads what is there (export, learn, report ...): it
    must exist, so that a mistyped --db is an error, not a new empty database."""
    path = _db_path(args, create_dir=False)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError:  # this user cannot look: opening it says why (the group to join ...)
        return path
    if info is None or info.st_size == 0:  # (an empty file is no database: reading writes one)
        raise UsageError(
            f"no database at {one_line(str(path))}; give --db the team's database, or make one "
            "with `triage init` (or by running `triage`)"
        )
    return path


def _read_only(args: argparse.Namespace) -> bool | None:
    """``Store.open``'s ``read_only`` for a command that only reads: True with --read-only,
    else None (write if this user may, read otherwise)."""
    return True if getattr(args, "read_only", False) else None


def _writes(args: argparse.Namespace, what: str) -> None:
    """A command that writes refuses --read-only."""
    if getattr(args, "read_only", False):
        raise UsageError(f"{what} writes to the database; drop --read-only")


async def _with_store(
    path: Path,
    operator: str,
    body: Callable[[Store], Coroutine[Any, Any, int]],
    *,
    read_only: bool | None = False,
    config: Config | None = None,
) -> int:
    """Run ``body`` on the store; ``config`` gives the response-clock targets new mentions
    are due by (a command that stores mentions passes it)."""
    sla = config.on_call.sla if config is not None else None
    store = await Store.open(path, operator, read_only=read_only, sla=sla)
    try:
        if store.read_only and read_only is None:
            print(f"triage: reading only: {store.read_only_reason}", file=sys.stderr)
        return await body(store)
    finally:
        await store.close()


def _check_store(path: Path, operator: str, read_only: bool | None = False) -> bool:
    """Open (and migrate) the database once, so problems show before the screen takes over;
    whether it opened read-only."""

    async def check() -> bool:
        store = await Store.open(path, operator, read_only=read_only)
        await store.close()
        return store.read_only

    return asyncio.run(check())


# -- subcommands -------------------------------------------------------------------------------


def cmd_app(args: argparse.Namespace, config: Config) -> int:
    from tui.collector import build_sources
    from tui.ui.app import TriageApp, check_keymap

    check_keymap(config)
    build_sources(config)  # a source misconfigured is an error now, not a collector that stops
    path, operator = _db_path(args), operator_name(config)
    read_only = _check_store(path, operator, _read_only(args))
    _run_full_screen(TriageApp(config, path, operator, read_only=read_only))
    return EXIT_OK


def _run_full_screen(app: App[object]) -> None:
    """Run ``app`` at the terminal's real size. ``COLUMNS`` and ``LINES``, when exported
    (some shells and tools do), would pin the size the app reads on every resize, so a
    resized terminal would keep the first layout: they are dropped for this process."""
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
    app.run()


def cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from tui.demo import BRAND, BRAND_TERMS
    from tui.ui.app import TriageApp, check_keymap

    check_keymap(config)
    _writes(args, "the demo")
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
    else:
        path = path.expanduser()
        if path.exists():
            _refuse_real_mentions(path, operator)
    try:
        _check_store(path, operator)
        _run_full_screen(
            TriageApp(
                config,
                path,
                operator,
                demo_rate=args.rate,
                demo_seed=args.seed,
                demo_backlog=args.backlog,
                collect=False,
            )
        )
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    return EXIT_OK


def _refuse_real_mentions(path: Path, operator: str) -> None:
    """``triage demo --db PATH``: the demo feeds only a database of its own (new, or holding
    demo mentions only), never one holding real mentions."""
    from tui.demo import holds_only_demo

    async def only_demo(store: Store) -> int:
        return int(await holds_only_demo(store))

    if not asyncio.run(_with_store(path, operator, only_demo)):
        raise UsageError(
            f"{one_line(str(path))} holds mentions that are not from the demo, and the demo "
            "would mix simulated posts into them; pass --db with a new file, or omit --db "
            "for a temporary database"
        )


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    from tui.exchange import import_file
    from tui.files import read_input
    from tui.ingest import Ingestor, make_scorer
    from tui.progress import meter

    _writes(args, "import")
    # Read before the database is opened: a file that cannot be read changes nothing.
    data = None if str(args.file) == "-" else read_input(args.file)

    async def run(store: Store) -> int:
        ingestor = Ingestor(store, make_scorer(config), config.auto_snapshot)
        try:
            with meter(f"importing {args.file}") as progress:
                report = await import_file(
                    ingestor,
                    args.file,
                    data=data,
                    fmt=args.format,
                    source=args.source,
                    on_total=progress.set_total,
                    on_record=progress,
                )
        except ValueError as error:
            raise UsageError(str(error)) from error
        for problem in report.problems:
            print(one_line(problem), file=sys.stderr)
        print(
            f"imported {report.added} new mentions ({report.duplicates} already present: "
            f"{report.updated} updated with new text, {report.unchanged} unchanged; "
            f"{report.skipped} lines skipped, {report.unmarked} imported without the operators' "
            f"work on them); restored {report.restored.labels} labels, "
            f"{report.restored.tags} tags, {report.restored.statuses} statuses, "
            f"{report.restored.follow_ups} follow-ups, {report.restored.notes} notes, "
            f"{report.restored.assignments} assignments"
            + (
                f"; {report.history} already past their response time, kept as history "
                "without a response clock"
                if report.history
                else ""
            ),
            file=sys.stderr,
        )
        return EXIT_FAILURE if report.problems else EXIT_OK

    return asyncio.run(_with_store(_db_path(args), operator_name(config), run, config=config))


def _since(text: str | None) -> datetime | None:
    """``--since``: a duration back from now (``7d``, ``12h``, ``30m``) or an ISO time."""
    if text is None:
        return None
    try:
        return utcnow() - timedelta(seconds=parse_duration(text))
    except ValueError:
        pass
    try:
        return parse_time(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: neither a duration nor a time; give a duration back from now "
            "(30m, 12h, 7d) or an ISO 8601 time (2026-01-31 or 2026-01-31T09:30:00Z)"
        ) from None


def _tag(text: str | None) -> str | None:
    """``--tag`` in the form tags are stored in (``#Billing`` matches ``billing``)."""
    if text is None:
        return None
    try:
        return normalize_tag(text)
    except ValueError as error:
        raise UsageError(f"--tag: {error}") from None


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    from tui.exchange import export
    from tui.files import check_output_file, output_file
    from tui.progress import meter, off_screen

    since = _since(args.since)
    if args.output is not None:
        check_output_file(args.output)  # before the database is read
    filt = Filter(tag=_tag(args.tag), status=args.status)
    # Not over data that may reach the same terminal, through a pipe too (``| head``).
    show = args.output is not None or off_screen(sys.stdout)

    async def run(store: Store) -> int:
        with meter("exporting", show=show) as progress:
            options: dict[str, Any] = dict(
                fmt=args.format,
                filt=filt,
                since=since,
                on_total=progress.set_total,
                on_record=progress,
            )
            if args.output is None:
                count = await export(store, sys.stdout, **options)
            else:
                with output_file(args.output) as out:
                    count = await export(store, out, **options)
        print(f"exported {count} mentions", file=sys.stderr)
        return EXIT_OK

    return asyncio.run(
        _with_store(_existing_db(args), operator_name(config), run, read_only=_read_only(args))
    )


def cmd_evidence(args: argparse.Namespace, config: Config) -> int:
    from tui.evidence import EvidenceExists, write_evidence
    from tui.files import check_output_dir, problem
    from tui.progress import meter

    check_output_dir(args.output)  # before the database is read

    async def run(store: Store) -> int:
        try:
            with meter(f"evidence for #{args.mention_id}", "snapshots") as progress:
                folder = await write_evidence(
                    store,
                    args.mention_id,
                    args.output,
                    force=args.force,
                    on_total=progress.set_total,
                    on_snapshot=progress,
                )
        except KeyError:
            raise UsageError(
                f"no mention {args.mention_id}; the id is shown in the detail pane (#N)"
            ) from None
        except EvidenceExists as exists:
            raise UsageError(
                f"{one_line(str(exists.folder))} already exists; pass --force to replace it "
                "or -o another directory"
            ) from None
        except OSError as error:  # (the folder is written aside first: nothing is left)
            if isinstance(error, BrokenPipeError):
                raise
            raise problem(args.output, error, writing=True, kind="directory") from None
        print(folder)
        return EXIT_OK

    return asyncio.run(
        _with_store(_existing_db(args), operator_name(config), run, read_only=_read_only(args))
    )


def cmd_collect(args: argparse.Namespace, config: Config) -> int:
    from tui.collector import run_collect_cli

    _writes(args, "collect")
    return run_collect_cli(config, _db_path(args), once=args.once, operator=operator_name(config))


def cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    from tui.collector import DoctorRow, run_doctor_cli
    from tui.store.sharing import diagnose
    from tui.ui.app import keymap_errors

    database = [
        DoctorRow("-", "database", finding.status, finding.detail)
        for finding in diagnose(_db_path(args, create_dir=False))
    ]
    # The [keys] table is checked against the app's bindings exactly as ``triage`` checks it.
    return run_doctor_cli(
        config, [str(error) for error in keymap_errors(config)], more_rows=database
    )


def cmd_learn(args: argparse.Namespace, config: Config) -> int:
    """``triage learn``: train on every operator label, report the cross-validated figures
    next to the lexicon's, store the model and re-score; ``--list`` shows the stored ones."""
    from tui.learning import (
        describe_models,
        describe_outcome,
        learn,
        unusable,
        use_lexicon,
    )
    from tui.store.models import LEXICON

    if args.folds is not None and not 2 <= args.folds <= 20:
        raise UsageError("--folds must be between 2 and 20")
    if args.list and (args.lexicon or args.rescore or args.folds is not None):
        raise UsageError("--list only lists; give --lexicon, --rescore and --folds without it")
    args.rescore = args.rescore or "open"
    if not args.list:
        _writes(args, "learn")

    async def run(store: Store) -> int:
        if args.list:
            models = await store.models()
            newest = models[0] if models else None
            in_charge = newest is not None and newest.in_charge
            problem = await unusable(store, newest) if newest is not None and in_charge else None
            current = newest.name if newest is not None and in_charge and not problem else LEXICON
            retrains = config.learning.retrain_after > 0
            print(describe_models(models, current, problem, retrains=retrains))
            return EXIT_OK
        if args.lexicon:
            count = await use_lexicon(store, config, rescore_scope=args.rescore)
            done = (
                "nothing re-scored (--rescore none)"
                if args.rescore == "none"
                else f"re-scored {count} mentions"
            )
            print(f"the lexicon scores from now on; {done}")
            return EXIT_OK
        try:
            outcome = await learn(
                store,
                config,
                rescore_scope=args.rescore,
                folds=args.folds,
                in_process=True,  # the command waits for it: no process of its own needed
                log=lambda line: print(one_line(line), file=sys.stderr),
            )
        except ImportError as error:
            print(
                f"triage: learning needs scikit-learn ({error}); install it with "
                "`pip install scikit-learn`",
                file=sys.stderr,
            )
            return EXIT_FAILURE
        print(describe_outcome(outcome, config, args.rescore))
        return EXIT_FAILURE if outcome.skipped else EXIT_OK

    # --list only reads: it works on a database this user may only read, as export does.
    read_only = _read_only(args) if args.list else False
    return asyncio.run(
        _with_store(
            _existing_db(args), operator_name(config), run, read_only=read_only, config=config
        )
    )


def cmd_who(args: argparse.Namespace, config: Config) -> int:
    """One row per running app (``tui.team``): text columns, or a JSON array."""
    import json

    from tui import team
    from tui.store import LEASE_TTL

    async def run(store: Store) -> int:
        members = await store.team()
        if args.format == "json":
            listed = json.dumps([team.record(m) for m in members], ensure_ascii=False, indent=2)
            print(json_escaped(listed))
            return EXIT_OK
        if members:
            width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 0
            print(team.table(members, width=width))
        else:
            print("nobody is running the app (read-only apps are not shown)")
        print(f"collector: {team.lease_line(await store.lease(LEASE_TTL))}")
        return EXIT_OK

    return asyncio.run(
        _with_store(_existing_db(args), operator_name(config), run, read_only=_read_only(args))
    )


def cmd_report(args: argparse.Namespace, config: Config) -> int:
    """``triage report``: what happened in the period, for the next shift (``tui.report``)."""
    import json

    from tui import report

    now = utcnow()
    since = report.shift_start(now) if args.shift else _since(args.since or "8h")
    assert since is not None

    async def run(store: Store) -> int:
        try:
            built = await report.build_report(
                store, since, now, ahead=timedelta(hours=report.SHIFT_HOURS) if args.shift else None
            )
        except ValueError as error:
            raise UsageError(f"--since: {error}") from None
        if args.format == "json":
            print(json_escaped(json.dumps(report.to_json(built), ensure_ascii=False, indent=2)))
        else:
            print(report.render_markdown(built), end="")
        return EXIT_OK

    return asyncio.run(
        _with_store(_existing_db(args), operator_name(config), run, read_only=_read_only(args))
    )


def cmd_init(args: argparse.Namespace, config: Config) -> int:
    """``triage init [--shared GROUP]``: create or migrate the database; with ``--shared``,
    first make its directory the group's (setgid, group rwx) and its files group rw."""
    from tui.store.schema import MIGRATIONS
    from tui.store.sharing import ShareError, describe, share

    _writes(args, "init")
    path = _db_path(args, create_dir=args.shared is None)
    if args.shared is not None:
        try:
            for line in share(path, args.shared):
                print(line)
        except ShareError as error:
            raise UsageError(str(error)) from None

    async def report(store: Store) -> int:
        print(f"{one_line(str(path))}: ready, schema version {len(MIGRATIONS)}")
        return EXIT_OK

    code = asyncio.run(_with_store(path, operator_name(config), report))
    if args.shared is not None:
        print(describe(path))
        print(
            f"others: an admin adds each operator with `usermod -aG {args.shared} USER` (they "
            f"log in again to pick it up); then each runs `triage --db {one_line(str(path))}`"
        )
    return code


def cmd_alerts(args: argparse.Namespace, config: Config) -> int:
    """``triage alerts test``: replay the rules over history (``tui.alerts_cli``)."""
    from tui.alerts_cli import run_test

    try:
        since = parse_duration(args.since)
    except ValueError as error:
        raise UsageError(f"--since: {error}") from None
    if not config.on_call.rules:
        raise UsageError("no [[alerts]] rules in the config; add one (see config.example.toml)")

    async def run(store: Store) -> int:
        return await run_test(store, config, since, args.format, sys.stdout)

    return asyncio.run(
        _with_store(_existing_db(args), operator_name(config), run, read_only=True, config=config)
    )


COMMANDS: dict[str | None, Callable[[argparse.Namespace, Config], int]] = {
    None: cmd_app,
    "alerts": cmd_alerts,
    "demo": cmd_demo,
    "import": cmd_import,
    "export": cmd_export,
    "evidence": cmd_evidence,
    "collect": cmd_collect,
    "doctor": cmd_doctor,
    "learn": cmd_learn,
    "init": cmd_init,
    "who": cmd_who,
    "report": cmd_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(getattr(args, "config", None))
        return COMMANDS[args.command](args, config)
    except (ConfigError, UsageError, StoreError, FileProblem) as error:
        # One line, whatever the error quotes (a config key, a path, an operator's name).
        print(f"triage: {one_line(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (``triage export | head``): nothing is wrong with the data.
        # Point stdout at /dev/null so the interpreter's final flush does not complain too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as error:
        print(f"triage: {one_line(str(error))}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
