"""The HTTP API over the shared analysis store: upload files, query detections and tracks,
run the tracker on a dataset, read the audit log.

:func:`create_app` builds a FastAPI application around an open
:class:`hyperdef.store.Store`; the OpenAPI spec is served at ``/openapi.json`` and the
interactive docs at ``/docs``. The API is a thin layer: the store decides what each user
may see and records every read and write in its audit log (the API passes the remote
address through as ``client``); the format readers decode the files; the tracker tracks.

Authentication
    Every endpoint needs the caller's API key in the ``X-API-Key`` header (``hyperdef users
    add`` prints it once); a missing or unknown key is answered 401.

Errors
    ``detail`` always says what was wrong. 401 no or unknown key; 403 the store refused
    the caller (:class:`hyperdef.store.AccessDenied`) or a non-admin asked for the audit
    log; 413 upload larger than the limit; 415 upload content type not allowed for its
    format; 422 bad input (any other :class:`hyperdef.errors.HyperdefError`, e.g. a bad
    marking, time, bbox or tracker setting, an unknown dataset or run).

Uploads
    The whole file is decoded in memory (up to the size limit) and stored in one
    transaction. ASTERIX CAT 048 plots need their radar sites (``site`` query parameter,
    ``SAC/SIC=LAT,LON,ALT``, repeated per radar).

Times
    Query parameters ``t0``/``t1`` take Unix seconds or ISO 8601 (UTC when no offset is
    given); ``t`` and ``t_report`` in responses are UTC Unix seconds (the store's
    epoch-relative times converted), ``t_utc`` repeats ``t``.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, File, Query, Request, Security, UploadFile
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException

from hyperdef import __version__
from hyperdef.errors import HyperdefError, InputError, NotFoundError
from hyperdef.service import ops
from hyperdef.service.models import (
    AuditCheckOut,
    AuditRecord,
    Dataset,
    DetectionPage,
    ErrorOut,
    IngestOut,
    RunOut,
    RunRequest,
    TrackPage,
)

__all__ = ["ALLOWED_CONTENT_TYPES", "DEFAULT_MAX_UPLOAD_BYTES", "MAX_PAGE", "create_app"]

#: default upload size limit, bytes (64 MiB)
DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024
#: largest ``limit`` of one page
MAX_PAGE = 10_000
#: multipart overhead allowed on top of the file itself (boundaries, part headers, fields)
_MULTIPART_SLACK_BYTES = 64 * 1024
#: upload content types and the formats each may carry
ALLOWED_CONTENT_TYPES: dict[str, frozenset[str]] = {
    "application/octet-stream": frozenset({"klv", "gmti", "asterix"}),
    "application/xml": frozenset({"cot"}),
    "text/xml": frozenset({"cot"}),
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or unknown X-API-Key."},
    403: {"model": ErrorOut, "description": "The store refused the caller."},
    404: {"model": ErrorOut, "description": "No such dataset or run."},
    422: {"model": ErrorOut, "description": "Bad input; detail names the field."},
}

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False,
                        description="The caller's API key (printed by `hyperdef users add`).")


def _access_denied() -> type[Exception]:
    from hyperdef.store import AccessDenied

    return AccessDenied


def _reader(fmt: str):
    """``read_<fmt>`` of :mod:`hyperdef.io.<fmt>`."""
    module = importlib.import_module(f"hyperdef.io.{fmt}")
    return getattr(module, f"read_{fmt}")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _page(rows: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    """The first ``limit`` rows and the next offset (rows holds up to limit + 1)."""
    more = len(rows) > limit
    return {"items": rows[:limit], "next_offset": offset + limit if more else None}


class _UploadLimit:
    """ASGI middleware: 413 for an upload body over ``limit`` bytes (the file limit plus
    multipart overhead), before it is read.

    A declared ``Content-Length`` over the limit is answered at once; a body streamed
    without one is counted as it arrives and stopped when it passes the limit.
    """

    def __init__(self, app, limit: int, file_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.file_limit = file_limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" \
                or not scope["path"].endswith("/files"):
            await self.app(scope, receive, send)
            return
        detail = f"upload larger than the limit of {self.file_limit} bytes"
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return dict(obj)
    if hasattr(obj, "_asdict"):
        return obj._asdict()
    import dataclasses

    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def _jsonable(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def current_user(request: Request,
                 key: Annotated[str | None, Security(_api_key)] = None):
    """The store user whose API key the request carries (401 without a known key)."""
    store = request.app.state.store
    user = store.user_for_key(key, client=_client(request)) if key else None
    if user is None:
        raise HTTPException(401, "missing or unknown API key (header X-API-Key)")
    return user


# parameter types of the endpoints (module level: FastAPI resolves annotations here)
User = Annotated[Any, Depends(current_user)]
T0 = Annotated[str | None, Query(description="Start of the time window (inclusive): Unix "
                                             "seconds or ISO 8601.")]
T1 = Annotated[str | None, Query(description="End of the time window: Unix seconds or "
                                             "ISO 8601.")]
Bbox = Annotated[str | None, Query(description="Area: lat_min,lat_max,lon_min,lon_max in "
                                               "degrees.")]
Source = Annotated[str | None, Query(description="Source (uploaded file name or node).")]
DatasetId = Annotated[int | None, Query(description="Only this dataset.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page.")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]



def create_app(store, *, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES) -> FastAPI:
    """The HTTP API over ``store``.

    Parameters
    ----------
    store : hyperdef.store.Store
        An open store; the application does not close it.
    max_upload_bytes : int
        Largest file accepted by ``POST /datasets/{name}/files``, bytes (413 above it).

    Returns
    -------
    fastapi.FastAPI
        The application; serve it with uvicorn (``hyperdef serve``).

    Raises
    ------
    InputError
        If ``max_upload_bytes`` is not a positive integer.
    """
    if isinstance(max_upload_bytes, bool) or not isinstance(max_upload_bytes, int) \
            or max_upload_bytes <= 0:
        raise InputError(f"max_upload_bytes: {max_upload_bytes!r} must be a positive integer")
    access_denied = _access_denied()
    app = FastAPI(
        title="hyperdef analysis store",
        version=__version__,
        description=(__doc__ or "").split("\n\n")[0],
    )
    app.state.store = store
    app.state.max_upload_bytes = max_upload_bytes

    @app.exception_handler(access_denied)
    async def _denied(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(HyperdefError)
    async def _bad_input(request: Request, exc: Exception) -> JSONResponse:
        status = 404 if isinstance(exc, NotFoundError) else 422
        return JSONResponse({"detail": str(exc)}, status_code=status)

    # ------------------------------------------------------------------ upload
    app.add_middleware(_UploadLimit, limit=max_upload_bytes + _MULTIPART_SLACK_BYTES,
                       file_limit=max_upload_bytes)

    @app.post(
        "/datasets/{name}/files", status_code=201, response_model=IngestOut,
        responses={**_ERRORS, 413: {"model": ErrorOut, "description": "File too large."},
                   415: {"model": ErrorOut, "description": "Content type not allowed."}},
        summary="Upload a file (KLV, GMTI, CoT or ASTERIX) into a dataset",
    )
    def upload(
        name: str,
        request: Request,
        user: User,
        file: Annotated[UploadFile, File(description=(
            "The file. Content type application/octet-stream for klv, gmti and asterix; "
            "application/xml or text/xml for cot."))],
        format: Annotated[str, Query(
            description="auto (detect from the bytes), klv, gmti, cot or asterix.",
            pattern="^(auto|klv|gmti|cot|asterix)$")] = "auto",
        marking: Annotated[str | None, Query(
            description="Releasability for records without one, e.g. 'REL TO USA, JPN'.")
        ] = None,
        node: Annotated[str | None, Query(
            description="Source node (ISO 3166 trigraph) for records without one.")] = None,
        site: Annotated[list[str] | None, Query(
            description="ASTERIX CAT 048 radar site SAC/SIC=LAT,LON,ALT (deg, m); repeat "
                        "per radar.")] = None,
    ) -> dict[str, Any]:
        """Decode a file and add its detections and tracks to the dataset ``name``
        (created on first use). Rows already stored are counted as duplicates; packets the
        reader could not decode are counted in ``skipped`` by reason."""
        data = file.file.read(max_upload_bytes + 1)
        if len(data) > max_upload_bytes:
            raise HTTPException(413, f"file {file.filename!r} larger than the limit of "
                                     f"{max_upload_bytes} bytes")
        content_type = (file.content_type or "").split(";")[0].strip().lower()
        if content_type not in ALLOWED_CONTENT_TYPES:
            raise HTTPException(415, f"content type {content_type or 'none'!r} not allowed; "
                                     "use application/octet-stream (klv, gmti, asterix) or "
                                     "application/xml, text/xml (cot)")
        if format == "auto":
            from hyperdef.io.formats import detect_format

            fmt = detect_format(data)
        else:
            fmt = format
        if fmt not in ALLOWED_CONTENT_TYPES[content_type]:
            raise HTTPException(415, f"content type {content_type!r} does not fit format "
                                     f"{fmt!r}; allowed for {fmt}: " + ", ".join(
                                         sorted(c for c, f in ALLOWED_CONTENT_TYPES.items()
                                                if fmt in f)))
        options: dict[str, Any] = {"marking": marking, "node": node}
        if fmt == "asterix":
            options["sites"] = ops.parse_sites(site, "site")
        result = _reader(fmt)(data, **options)
        summary = store.ingest(result, user=user, dataset=name, source=file.filename or "",
                               client=_client(request))
        return {
            "dataset_id": summary.dataset_id,
            "dataset": name,
            "filename": file.filename or "",
            "format": result.format,
            "packets": result.packets,
            "records": result.records,
            "added_detections": summary.added_detections,
            "added_tracks": summary.added_tracks,
            "duplicates": summary.duplicates,
            "skipped": {str(k): int(v) for k, v in dict(summary.skipped).items()},
        }

    # ------------------------------------------------------------------ queries
    def _query(method, user, request, t0, t1, bbox, source, dataset_id, limit, offset):
        table = method(
            user, client=_client(request), dataset_id=dataset_id,
            t0=ops.parse_time(t0, "t0"), t1=ops.parse_time(t1, "t1"),
            bbox=ops.parse_bbox(bbox), source=source, limit=limit + 1, offset=offset)
        return _page(ops.table_rows(ops.absolute_times(table)), limit, offset)

    @app.get("/detections", response_model=DetectionPage, responses=_ERRORS,
             summary="Detections visible to the caller, by time window, area and source")
    def detections(request: Request, user: User, t0: T0 = None, t1: T1 = None,
                   bbox: Bbox = None, source: Source = None, dataset_id: DatasetId = None,
                   limit: Limit = 1000, offset: Offset = 0) -> dict[str, Any]:
        """A page of detections, oldest first."""
        return _query(store.query_detections, user, request, t0, t1, bbox, source,
                      dataset_id, limit, offset)

    @app.get("/tracks", response_model=TrackPage, responses=_ERRORS,
             summary="Track states visible to the caller, by time window, area and source")
    def tracks(request: Request, user: User, t0: T0 = None, t1: T1 = None,
               bbox: Bbox = None, source: Source = None, dataset_id: DatasetId = None,
               limit: Limit = 1000, offset: Offset = 0) -> dict[str, Any]:
        """A page of track states, oldest first."""
        return _query(store.query_tracks, user, request, t0, t1, bbox, source,
                      dataset_id, limit, offset)

    @app.get("/datasets", response_model=list[Dataset], responses=_ERRORS,
             summary="Datasets visible to the caller")
    def datasets(request: Request, user: User) -> list[dict[str, Any]]:
        """Every dataset the caller may read."""
        found = store.datasets(user, client=_client(request))
        return [_jsonable(_as_dict(d)) for d in found]

    # ------------------------------------------------------------------ runs
    @app.post("/datasets/{dataset_id}/runs", status_code=201, response_model=RunOut,
              responses=_ERRORS, summary="Run the tracker on a dataset")
    def start_run(dataset_id: int, request: Request, user: User,
                  settings: Annotated[RunRequest | None, Body()] = None) -> dict[str, Any]:
        """Track the caller's visible detections of the dataset (synchronously) and record
        the tracks as a run; each track is marked with the intersection of its reports'
        markings."""
        settings = settings or RunRequest()
        config = ops.tracker_config(settings.model, settings.association, settings.settings)
        return ops.run_on_dataset(store, user, dataset_id, config, client=_client(request))

    @app.get("/runs/{run_id}/tracks", response_model=TrackPage, responses=_ERRORS,
             summary="Tracks of a run")
    def run_tracks(run_id: int, request: Request, user: User, limit: Limit = 1000,
                   offset: Offset = 0) -> dict[str, Any]:
        """A page of the run's track states visible to the caller."""
        table = store.run_tracks(user, run_id, client=_client(request))
        rows = ops.table_rows(ops.absolute_times(table.slice(offset, limit + 1)))
        return _page(rows, limit, offset)

    # ------------------------------------------------------------------ audit
    def _admin(user) -> None:
        if getattr(user, "role", None) != "admin":
            raise HTTPException(403, f"user {user.name!r} is not an admin: the audit log is "
                                     "for admins only")

    @app.get("/audit", response_model=list[AuditRecord], responses=_ERRORS,
             summary="The audit log (admins only)")
    def audit(request: Request, user: User, limit: Limit = 100,
              offset: Offset = 0) -> list[dict[str, Any]]:
        """Audit records, newest first as the store orders them."""
        _admin(user)
        records = store.audit_log(user, client=_client(request), limit=limit, offset=offset)
        return [_jsonable(_as_dict(r)) for r in records]

    @app.get("/audit/verify", response_model=AuditCheckOut, responses=_ERRORS,
             summary="Check the audit chain (admins only)")
    def audit_verify(request: Request, user: User) -> dict[str, Any]:
        """Whether the audit log is intact, and the first bad record if not."""
        _admin(user)
        return _jsonable(_as_dict(store.verify_audit()))

    return app
