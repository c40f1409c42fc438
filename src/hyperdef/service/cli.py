"""Commands of the shared analysis store: ``hyperdef ingest | export | users add |
audit verify | serve``.

:func:`register` adds them to the ``hyperdef`` application (:mod:`hyperdef.cli`). Like
the rest of the CLI they are thin: files are decoded by :mod:`hyperdef.io`, access and
audit are the store's (:mod:`hyperdef.store`), the HTTP API is
:func:`hyperdef.service.create_app`.

The store
    ``--db URL`` is a SQLAlchemy URL (``sqlite:///path/hyperdef.db``,
    ``postgresql+psycopg://user@host/db``); without it the store uses the environment
    variable ``HYPERDEF_DB``, else a SQLite file in the user data directory.

Acting user
    Local commands act as a user of the store, so the store's access rules and audit
    log apply to them as to the HTTP API. ``--user NAME`` (``--as-user`` for export)
    names that user; without it the command acts as the store's single admin, and
    asks for ``--user`` when there are several admins or none. (A local command is not
    authenticated by key: whoever can open the database file can act as any user, which
    the audit log records with client ``local``.)

Errors
    Bad input is one line ``error: ...`` on stderr and exit code 2, with nothing written:
    ``ingest`` decodes every file before it stores any, ``export`` writes its output
    atomically. ``audit verify`` exits 1 when the log has been tampered with.
"""

from __future__ import annotations

import contextlib
import enum
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from hyperdef.errors import HyperdefError, InputError

__all__ = ["register"]

#: exit status of ``audit verify`` when the log is not intact
EXIT_TAMPERED = 1

IngestFormat = enum.Enum("IngestFormat", {n: n for n in ("auto", "klv", "gmti", "cot",
                                                           "asterix")}, type=str)
ExportFormat = enum.Enum("ExportFormat", {n: n for n in ("cot", "klv", "gmti", "asterix")},
                         type=str)
Role = enum.Enum("Role", {n: n for n in ("analyst", "admin")}, type=str)
Table = enum.Enum("Table", {n: n for n in ("auto", "detections", "tracks")}, type=str)

_DB_HELP = ("Store URL (SQLAlchemy), e.g. sqlite:///hyperdef.db; default: $HYPERDEF_DB, else "
            "a SQLite file in the user data directory.")
_SUFFIXES = {"cot": (".xml", ".cot"), "klv": (".klv", ".bin"), "gmti": (".4607", ".gmti",
                                                                          ".bin"),
             "asterix": (".ast", ".asterix", ".bin")}


def _checked(work, *args):
    from hyperdef.cli import _checked as checked

    return checked(work, *args)


# ----------------------------------------------------------------------------- store helpers


@contextlib.contextmanager
def open_store(url: str | None):
    """Open the store at ``url``; a URL it cannot open is an :class:`InputError`.

    Yields
    ------
    hyperdef.store.Store
    """
    from hyperdef.store import Store

    try:
        store = Store.open(url)
    except HyperdefError:
        raise
    except Exception as exc:  # SQLAlchemy / driver errors: a bad URL or unreachable server
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise InputError(f"--db: cannot open store {url or '(default)'!r}: {first}") from None
    try:
        yield store
    finally:
        store.close()


def acting_user(store, name: str | None, option: str = "--user"):
    """The user a local command acts as: ``name``, else the store's single admin.

    Raises
    ------
    InputError
        Naming ``option`` when no such user exists, or when no name is given and the
        store has no admin or several.
    """
    users = store.users()
    if name is not None:
        for user in users:
            if user.name == name:
                return user
        known = ", ".join(sorted(u.name for u in users)) or "none yet (hyperdef users add)"
        raise InputError(f"{option}: no user {name!r} in the store; users: {known}")
    admins = [u for u in users if u.role == "admin"]
    if len(admins) == 1:
        return admins[0]
    if not admins:
        raise InputError(f"{option}: the store has no admin; create one with "
                         "'hyperdef users add NAME --nation XXX --role admin' or name a user")
    raise InputError(f"{option}: the store has {len(admins)} admins ("
                     + ", ".join(sorted(a.name for a in admins)) + "); name one")


def _dataset_id(store, user, name: str):
    for d in store.datasets(user):
        d_name = d["name"] if isinstance(d, dict) else d.name
        if d_name == name:
            return d["id"] if isinstance(d, dict) else d.id
    raise InputError(f"--dataset: no dataset {name!r} visible to user {user.name!r}")


@contextlib.contextmanager
def _progress(total: int, what: str):
    """A rich progress bar on stderr (shown only on a terminal); yields ``advance(text)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda text: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(what, total=total)

        def advance(text: str) -> None:
            bar.update(task, advance=1, description=text)

        yield advance


# ----------------------------------------------------------------------------- ingest


def ingest(
    files: Annotated[list[Path], typer.Argument(
        metavar="FILE", show_default=False,
        help="Files to ingest (KLV, GMTI, CoT or ASTERIX).")],
    fmt: Annotated[IngestFormat, typer.Option(
        "--format", help="File format; auto detects it from each file's bytes.")
    ] = IngestFormat.auto,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", show_default=False,
                                           help=_DB_HELP)] = None,
    marking: Annotated[str | None, typer.Option(
        "--marking", metavar="'REL TO USA, JPN'", show_default=False,
        help="Releasability of records that carry none.")] = None,
    node: Annotated[str | None, typer.Option(
        "--node", metavar="ISO3", show_default=False,
        help="Source node of records that carry none.")] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", metavar="NAME", show_default=False,
        help="Dataset to add to (created on first use); default: the first file's stem.")
    ] = None,
    user: Annotated[str | None, typer.Option(
        "--user", metavar="NAME", show_default=False,
        help="Store user to act as; default: the single admin.")] = None,
    site: Annotated[list[str] | None, typer.Option(
        "--site", metavar="SAC/SIC=LAT,LON,ALT", show_default=False,
        help="Radar site of ASTERIX CAT 048 plots (degrees, m above WGS-84); repeat for "
             "several radars.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Decode files and add their detections and tracks to a dataset of the store."""
    summary = _checked(_ingest, files, fmt.value, db, marking, node, dataset, user, site)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(f"dataset {summary['dataset']!r} (id {summary['dataset_id']}): "
               f"{summary['records']} records in from {len(summary['files'])} file(s), "
               f"{summary['added_detections']} detections and {summary['added_tracks']} "
               f"tracks added, {summary['duplicates']} duplicates")
    if summary["skipped"]:
        typer.echo("skipped packets: " + ", ".join(
            f"{reason} {n}" for reason, n in sorted(summary["skipped"].items())))
    else:
        typer.echo("skipped packets: none")


def _preflight(result, user, name: str) -> None:
    """Refuse, before anything is stored, a file the store would refuse: a marking that
    does not parse or does not release the records to the user's nation (the store's
    write policy; it checks again, per file)."""
    from hyperdef.core.markings import parse_marking
    from hyperdef.store import AccessDenied

    for table in (result.detections, result.tracks):
        if table is None or "marking" not in table.column_names:
            continue
        for marking in table.column("marking").unique().to_pylist():
            if marking is None:
                raise InputError(f"{name}: a record has no marking; give --marking")
            if user.nation not in parse_marking(marking, f"{name}: marking"):
                raise AccessDenied(f"{name}: records marked {marking!r} are not releasable to "
                                   f"{user.nation} (user {user.name!r}); nothing stored")


def _ingest(files: list[Path], fmt: str, db: str | None, marking: str | None,
            node: str | None, dataset: str | None, user_name: str | None,
            site: list[str] | None = None) -> dict[str, Any]:
    from hyperdef.io.formats import read_file
    from hyperdef.service.ops import parse_sites

    sites = parse_sites(site)
    for path in files:
        if not Path(path).is_file():
            raise InputError(f"FILE: {str(path)!r} does not exist or is not a file")
    dataset = dataset or Path(files[0]).stem
    with open_store(db) as store:
        user = acting_user(store, user_name)
        results = []
        with _progress(2 * len(files), "reading") as advance:
            # decode everything first: a bad file stops the command before anything is stored
            for path in files:
                advance(f"reading {Path(path).name}")
                results.append(read_file(path, format=fmt, marking=marking, node=node,
                                         sites=sites))
            for path, result in zip(files, results, strict=True):
                _preflight(result, user, Path(path).name)
            per_file = []
            for path, result in zip(files, results, strict=True):
                advance(f"storing {Path(path).name}")
                try:
                    s = store.ingest(result, user=user, dataset=dataset,
                                     source=Path(path).name, client="local")
                except HyperdefError as exc:
                    raise type(exc)(f"{Path(path).name}: {exc}") from None
                per_file.append({
                    "file": str(path), "format": result.format, "packets": result.packets,
                    "records": result.records, "added_detections": s.added_detections,
                    "added_tracks": s.added_tracks, "duplicates": s.duplicates,
                    "skipped": {str(k): int(v) for k, v in dict(s.skipped).items()},
                    "dataset_id": s.dataset_id,
                })
    skipped: Counter = Counter()
    for f in per_file:
        skipped.update(f["skipped"])
    return {
        "dataset": dataset,
        "dataset_id": per_file[-1]["dataset_id"],
        "user": user.name,
        "records": sum(f["records"] for f in per_file),
        "added_detections": sum(f["added_detections"] for f in per_file),
        "added_tracks": sum(f["added_tracks"] for f in per_file),
        "duplicates": sum(f["duplicates"] for f in per_file),
        "skipped": dict(skipped),
        "files": per_file,
    }


# ----------------------------------------------------------------------------- export


def export(
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", show_default=False, help="Output format.")],
    out: Annotated[Path, typer.Option(
        "--out", metavar="FILE", show_default=False, help="File to write.")],
    run_dir: Annotated[Path | None, typer.Argument(
        metavar="RUN_DIR", show_default=False,
        help="A run directory (hyperdef run --out) whose detections.parquet and "
             "tracks.parquet to export; leave out to export a stored dataset (--dataset).")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", show_default=False,
                                           help=_DB_HELP)] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", metavar="NAME", show_default=False,
        help="Stored dataset to export (what --as-user may see of it).")] = None,
    run: Annotated[int | None, typer.Option(
        "--run", metavar="ID", show_default=False,
        help="With --dataset: export this stored tracking run's tracks instead of the "
             "dataset's ingested tracks.")] = None,
    as_user: Annotated[str | None, typer.Option(
        "--as-user", metavar="NAME", show_default=False,
        help="Store user to act as; default: the single admin.")] = None,
    table: Annotated[Table, typer.Option(
        "--table", help="Which table to write; auto: tracks if there are any and the format "
                        "carries them, else detections.")] = Table.auto,
    epoch: Annotated[str | None, typer.Option(
        "--epoch", metavar="ISO8601", show_default=False,
        help="UTC instant the run's times count from (RUN_DIR only; default: summary.json "
             "'epoch' if present, else midnight UTC today).")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Write a run's or a stored dataset's detections or tracks as CoT, KLV (ST 0601),
    GMTI (STANAG 4607) or ASTERIX."""
    summary = _checked(_export, run_dir, fmt.value, out, db, dataset, as_user, table.value,
                       epoch, run)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    counts = dict(summary["written"])
    rows = summary["rows"]
    reasons = {k: v for k, v in counts.items() if k != "written"}
    written = counts.get("written", rows - sum(reasons.values()))
    notes = "; ".join(f"{k}: {v:,}" for k, v in reasons.items())
    typer.echo(f"wrote {written:,} of {rows:,} {summary['table']} rows as "
               f"{summary['format']} to {summary['out']}"
               + (f" (not written or not in full: {notes})" if notes else ""))


def _read_run(run_dir: Path) -> tuple[Any, Any, dict[str, Any]]:
    import pyarrow.parquet as pq

    if not run_dir.is_dir():
        raise InputError(f"RUN_DIR: {str(run_dir)!r} is not a directory")
    tables = {}
    for name in ("detections", "tracks"):
        path = run_dir / f"{name}.parquet"
        if path.is_file():
            try:
                tables[name] = pq.read_table(path)
            except (OSError, ValueError):
                raise InputError(f"RUN_DIR: {str(path)!r} is not a Parquet table") from None
    if not tables:
        raise InputError(f"RUN_DIR: {str(run_dir)!r} holds neither detections.parquet nor "
                         "tracks.parquet")
    meta: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        meta = json.loads((run_dir / "summary.json").read_text())
    return tables.get("detections"), tables.get("tracks"), meta


def _pick(detections, tracks, table: str, fmt: str):
    if table == "detections":
        if detections is None or detections.num_rows == 0:
            raise InputError("--table: there are no detections to export")
        return "detections", detections
    if table == "tracks":
        if tracks is None or tracks.num_rows == 0:
            raise InputError("--table: there are no tracks to export")
        return "tracks", tracks
    # auto: tracks where the format carries tracks (CoT and ASTERIX), else detections
    if tracks is not None and tracks.num_rows and fmt in ("cot", "asterix"):
        return "tracks", tracks
    if detections is not None and detections.num_rows:
        return "detections", detections
    if tracks is not None and tracks.num_rows:
        return "tracks", tracks
    raise InputError("nothing to export: no detections and no tracks")


def _export(run_dir: Path | None, fmt: str, out: Path, db: str | None, dataset: str | None,
            as_user: str | None, table: str, epoch_text: str | None,
            run_id: int | None = None) -> dict[str, Any]:
    from hyperdef.io import default_epoch
    from hyperdef.io.formats import write_file
    from hyperdef.report import atomic_output, check_output_path
    from hyperdef.service import ops

    check_output_path(out, _SUFFIXES[fmt], "--out")
    if (run_dir is None) == (dataset is None):
        raise InputError("give either RUN_DIR or --dataset NAME (with --db), not both "
                         "or neither")
    if run_dir is not None and run_id is not None:
        raise InputError("--run: only with --dataset (a stored run), not with RUN_DIR")
    if run_dir is not None:
        detections, tracks, meta = _read_run(Path(run_dir))
        text = epoch_text or meta.get("epoch")
        if text is not None:
            seconds = ops.parse_time(text, "--epoch")
            epoch = datetime.fromtimestamp(seconds, UTC)
        else:
            epoch = default_epoch(None)
        source = str(run_dir)
    else:
        if epoch_text is not None:
            raise InputError("--epoch: only for RUN_DIR; a stored dataset has absolute times")
        with open_store(db) as store:
            user = acting_user(store, as_user, "--as-user")
            dataset_id = _dataset_id(store, user, dataset)
            detections = ops.absolute_times(ops.fetch_all(
                store.query_detections, user, dataset_id=dataset_id, client="local"))
            if run_id is None:
                tracks = ops.absolute_times(ops.fetch_all(
                    store.query_tracks, user, dataset_id=dataset_id, client="local"))
            else:
                tracks = ops.absolute_times(store.run_tracks(user, run_id, client="local"))
                if table == "auto":
                    table = "tracks"
        times = [float(t.column("t").to_numpy().min()) for t in (detections, tracks)
                 if t is not None and t.num_rows]
        epoch = default_epoch(datetime.fromtimestamp(min(times), UTC) if times else None)
        detections = ops.shift_times(detections, -epoch.timestamp())
        tracks = ops.shift_times(tracks, -epoch.timestamp())
        source = f"dataset {dataset!r}"
    which, chosen = _pick(detections, tracks, table, fmt)
    with atomic_output(out) as tmp:
        written = write_file(chosen, tmp, fmt, epoch)
    return {
        "source": source, "table": which, "rows": chosen.num_rows, "format": fmt,
        "epoch": epoch.isoformat(), "out": str(Path(out).resolve()),
        "written": {str(k): int(v) for k, v in dict(written or {}).items()},
    }


# ----------------------------------------------------------------------------- users, audit


def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", show_default=False,
                                        help="User name.")],
    nation: Annotated[str, typer.Option(
        "--nation", metavar="ISO3", show_default=False,
        help="The user's nation (ISO 3166 trigraph); it decides what the user may read.")],
    role: Annotated[Role, typer.Option("--role", help="analyst or admin.")] = Role.analyst,
    db: Annotated[str | None, typer.Option("--db", metavar="URL", show_default=False,
                                           help=_DB_HELP)] = None,
    by: Annotated[str | None, typer.Option(
        "--by", metavar="ADMIN", show_default=False,
        help="Admin who adds the user (the store's policy applies: an admin adds users of "
             "the admin's own nation); default: the local operator, recorded as such in "
             "the audit log.")] = None,
) -> None:
    """Add a user to the store and print the user's API key (shown only this once)."""
    user, key = _checked(_users_add, name, nation, role.value, db, by)
    typer.echo(f"added user {user.name!r} ({user.nation}, {user.role}); its API key follows "
               "on stdout and is shown only this once", err=True)
    typer.echo(key)


def _users_add(name: str, nation: str, role: str, db: str | None, by: str | None):
    with open_store(db) as store:
        admin = acting_user(store, by, "--by") if by is not None else None
        return store.add_user(name, nation, role, by=admin)


def audit_verify(
    db: Annotated[str | None, typer.Option("--db", metavar="URL", show_default=False,
                                           help=_DB_HELP)] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object on stdout and nothing else.")] = False,
) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 (naming the first bad
    record) when it has been altered."""
    check = _checked(_audit_verify, db)
    if as_json:
        typer.echo(json.dumps({"ok": check.ok, "records": check.records,
                               "first_bad": check.first_bad, "reason": check.reason}))
    elif check.ok:
        typer.echo(f"audit log intact: {check.records} records")
    else:
        typer.echo(f"audit log NOT intact: first bad record {check.first_bad}: {check.reason} "
                   f"({check.records} records)")
    if not check.ok:
        raise typer.Exit(EXIT_TAMPERED)


def _audit_verify(db: str | None):
    with open_store(db) as store:
        return store.verify_audit()


# ----------------------------------------------------------------------------- serve


def serve(
    db: Annotated[str | None, typer.Option("--db", metavar="URL", show_default=False,
                                           help=_DB_HELP)] = None,
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on; loopback by default. Put a TLS proxy in front "
                       "before listening on another address: API keys travel in headers.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    max_upload_mib: Annotated[float, typer.Option(
        "--max-upload-mib", min=0.001, help="Largest upload accepted, MiB.")] = 64.0,
) -> None:
    """Serve the HTTP API (OpenAPI spec at /openapi.json, docs at /docs) with uvicorn."""
    import uvicorn

    from hyperdef.service.app import create_app

    if host not in ("127.0.0.1", "::1", "localhost"):
        typer.echo(f"warning: listening on {host}, not loopback; use TLS in front of it",
                   err=True)
    with contextlib.ExitStack() as stack:
        store = _checked(lambda: stack.enter_context(open_store(db)))
        app = create_app(store, max_upload_bytes=int(max_upload_mib * 1024 * 1024))
        uvicorn.run(app, host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    """Add ``ingest``, ``export``, ``users add``, ``audit verify`` and ``serve`` to ``app``."""
    app.command("ingest")(ingest)
    app.command("export")(export)
    users = typer.Typer(help="Users of the store.", no_args_is_help=True)
    users.command("add")(users_add)
    app.add_typer(users, name="users")
    audit = typer.Typer(help="The store's audit log.", no_args_is_help=True)
    audit.command("verify")(audit_verify)
    app.add_typer(audit, name="audit")
    app.command("serve")(serve)
