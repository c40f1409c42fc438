"""Cursor on Target (CoT) XML events in and out, as exchanged by TAK.

A CoT event is a report about one entity: a ``uid``, a ``type`` from the CoT type tree,
``time``/``start``/``stale`` instants, a ``<point lat lon hae ce le>`` and an open
``<detail>``. :func:`read_cot` turns every event with a point into one row of a Tracks
table (:data:`hyperdef.tracking.tracker.TRACKS_SCHEMA` plus the string columns ``uid``
and ``cot_type``); :func:`write_cot` writes a Tracks table (type ``a-h-A``, hostile air
track) or a Detections table (type ``b-d``, detection) as CoT events.

Column mapping (read)
    ``t``  event ``time`` (ISO 8601 UTC) minus the epoch, s;
    ``track_id``  the first 8 bytes of BLAKE2b(uid) as a big-endian integer with the sign
    bit cleared (stable across runs and machines); ``uid``, ``cot_type`` the event's
    ``uid`` and ``type``; ``x, y, z`` ECEF of (lat, lon, hae) on WGS-84; ``vx, vy, vz``
    ECEF of the ``<detail><track course speed slope>`` velocity (zero when there is no
    track); ``P`` the 6x6 position-velocity covariance below; ``status`` ``confirmed``;
    ``model_probs`` empty; ``n_updates`` 1; ``truth_id`` -1.

Covariance
    CoT ``ce`` and ``le`` are 90 % errors (MITRE CoT event schema 2.0: circular error
    about lat/lon and linear error of hae, m). For a circular bivariate normal with
    per-axis standard deviation sigma_h, P(r <= CE90) = 1 - exp(-CE90^2 / (2 sigma_h^2))
    = 0.9, so ``sigma_h = ce / 2.1460``; the linear error of a normal is ``sigma_v =
    le / 1.6449`` (Greenwalt and Shultz [GS62]; NGA.SIG.0026.02 [NGA16] uses the same
    factors). The ENU position covariance is diag(sigma_h^2, sigma_h^2,
    sigma_v^2). ``hae`` of 9999999 (CoT's "unknown") reads as altitude 0 with the
    ``le`` variance. The velocity covariance in ENU is
    ``sA^2 a a' + sC^2 c c' + sN^2 n n'`` with ``a`` the unit velocity direction (from
    course and slope), ``c`` horizontal across it and ``n`` normal to both; ``sA`` is
    ``eSpeed``, ``sC = speed cos(slope) eCourse``, ``sN = speed eSlope`` (the track
    detail's one-sigma errors, degrees converted to rad); an error attribute that is
    absent gives :data:`TRACK_VELOCITY_SIGMA_M_S`; a track of speed 0 has no direction
    and its ``eSpeed`` applies to every axis. With no track the velocity is zero
    with :data:`UNKNOWN_VELOCITY_SIGMA_M_S` per axis. Position and velocity errors are
    uncorrelated.

Releasability
    hyperdef is for unclassified research data: an event whose ``access`` names
    anything but ``Unclassified``/``U``/``Undefined`` (any case) is skipped. The
    nations come from the event attribute ``releasableTo`` (also accepted spelled
    ``releaseableTo``), else from the same attribute on a ``<detail>`` child named
    ``__releasability``, ``releasability`` or ``marti``: ISO 3166 trigraphs separated by
    spaces or commas, or a full ``REL TO USA, JPN`` marking. ``caveat`` is ignored.
    Without either the ``marking`` argument applies; with neither the event is skipped
    (``no releasability marking``).

Node
    The ``node`` argument; without it the first nation as listed in the event's
    ``releasableTo`` (producers list their own nation first; :func:`write_cot` writes
    the table's node first), else the first nation of the ``marking`` argument.

Bad input
    Malformed XML, forbidden constructs (DTD, entities: parsed with ``defusedxml``),
    missing or bad attributes and out-of-range latitude/longitude skip the event and
    count it in ``IngestResult.skipped`` by reason; ``packets == records +
    sum(skipped.values())`` always holds.

References
----------
.. [CoT] MITRE, "Cursor-on-Target Event Data Model", schema version 2.0 (Event.xsd,
   MITRE case 11-3895), attributes of ``event`` and ``point``; "CoT Track" detail
   sub-schema (course, speed, slope, eCourse, eSpeed, eSlope); CoTtypes.xml type tree
   (``a-h-A`` hostile air, ``b-d`` detection).
.. [GS62] C. R. Greenwalt, M. E. Shultz, "Principles of Error Theory and Cartographic
   Applications", ACIC Technical Report 96, 1962 (CE90 = 2.1460 sigma_c, LE90 = 1.6449
   sigma).
.. [NGA16] NGA.SIG.0026.02, "Accuracy and Predicted Accuracy in the NSG", 2016.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
import numpy as np
import pyarrow as pa
from defusedxml import DefusedXmlException

from hyperdef.core.frames import ecef_to_lla, enu_rotation, lla_to_ecef
from hyperdef.core.markings import NODES, check_node, format_marking, parse_marking
from hyperdef.errors import InputError
from hyperdef.io import IngestResult, default_epoch
from hyperdef.tracking.tracker import TRACKS_SCHEMA

__all__ = [
    "CE90_PER_SIGMA",
    "LE90_PER_SIGMA",
    "TRACK_VELOCITY_SIGMA_M_S",
    "UNKNOWN_VELOCITY_SIGMA_M_S",
    "read_cot",
    "track_id_from_uid",
    "write_cot",
]

#: CE90 / sigma of a circular bivariate normal: sqrt(-2 ln 0.1) [GS62]
CE90_PER_SIGMA = math.sqrt(-2.0 * math.log(0.1))
#: LE90 / sigma of a normal: the 95 % quantile of N(0, 1) [GS62]
LE90_PER_SIGMA = 1.6448536269514722
#: one-sigma velocity error per component where a track detail gives no error, m/s
TRACK_VELOCITY_SIGMA_M_S = 50.0
#: velocity standard deviation per axis of an event without a track detail, m/s (the
#: tracker's one-point initialisation default, hyperdef.tracking.tracker.TrackerConfig)
UNKNOWN_VELOCITY_SIGMA_M_S = 3000.0
#: largest |t| written, s (about 300 years: keeps every instant a valid datetime)
MAX_ABS_T_S = 1e10
#: CoT's "unknown" value of hae, ce and le
COT_UNKNOWN = 9999999.0

TRACK_TYPE = "a-h-A"
DETECTION_TYPE = "b-d"
_UNCLASSIFIED = {"", "u", "unclassified", "undefined"}
_RELEASE_ATTRS = ("releasableTo", "releaseableTo")
_RELEASE_DETAILS = ("__releasability", "releasability", "marti")
_EVENT_START = re.compile(rb"<event[\s/>]")
_EVENT_END = re.compile(rb"</event\s*>")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$"
)
_EXTRA_FIELDS = [pa.field("uid", pa.string()), pa.field("cot_type", pa.string())]
COT_TRACKS_SCHEMA = pa.schema(list(TRACKS_SCHEMA) + _EXTRA_FIELDS, metadata=TRACKS_SCHEMA.metadata)


# ------------------------------------------------------------------ shared helpers


def track_id_from_uid(uid: str) -> int:
    """Stable non-negative int64 track number of a CoT ``uid`` (BLAKE2b, 63 bits)."""
    digest = hashlib.blake2b(uid.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def check_epoch(epoch: datetime | None) -> datetime | None:
    """Validate an ``epoch`` argument (timezone-aware) and return it in UTC."""
    if epoch is None:
        return None
    if not isinstance(epoch, datetime) or epoch.tzinfo is None:
        raise InputError(f"epoch: expected a timezone-aware datetime, got {epoch!r}")
    return epoch.astimezone(UTC)


def check_marking(marking: str | None) -> str | None:
    """Canonical form of a ``marking`` argument, or None."""
    if marking is None:
        return None
    return format_marking(parse_marking(marking, "marking"), "marking")


def check_data(data: object) -> bytes:
    """The ``data`` argument as bytes."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"data: expected bytes, got {type(data).__name__}")
    return bytes(data)


def lists_column(values: np.ndarray, width: int) -> pa.ListArray:
    """List column of ``width`` floats per row from an (n, width) array."""
    n = values.shape[0]
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * width)
    return pa.ListArray.from_arrays(offsets, pa.array(values.reshape(-1).astype(float)))


def tracks_table(
    *,
    t: np.ndarray,
    track_id: np.ndarray,
    node: list[str],
    status: list[str],
    state: np.ndarray,
    P: np.ndarray,
    marking: list[str],
    extra: dict[str, pa.Array] | None = None,
) -> pa.Table:
    """Tracks table (TRACKS_SCHEMA plus ``extra`` columns) of n rows.

    Parameters
    ----------
    t : ndarray, shape (n,)
        Seconds from the epoch.
    track_id : ndarray of int64, shape (n,)
    node, status, marking : list of str, length n
    state : ndarray, shape (n, 6)
        ECEF position (m) and velocity (m/s).
    P : ndarray, shape (n, 6, 6)
        Covariance of ``state``, SI squared (symmetrised on output).
    extra : dict of str to pyarrow.Array, optional
        Extra columns appended after the schema's.
    """
    n = t.shape[0]
    state = state.reshape(n, 6)
    P = 0.5 * (P + np.swapaxes(P, -1, -2))  # rotations leave rounding asymmetries
    arrays = [
        pa.array(t.astype(float)),
        pa.array(track_id.astype(np.int64)),
        pa.array(node, pa.string()),
        pa.array(status, pa.string()),
        *(pa.array(state[:, k].astype(float)) for k in range(6)),
        lists_column(P.reshape(n, 36), 36),
        pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), pa.array([], pa.float64())),
        pa.array(marking, pa.string()),
        pa.array(np.ones(n, np.int64)),
        pa.array(np.full(n, -1, np.int64)),
    ]
    fields = list(TRACKS_SCHEMA)
    for name, column in (extra or {}).items():
        arrays.append(column)
        fields.append(pa.field(name, column.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=TRACKS_SCHEMA.metadata))


def seconds_between(instant: datetime, epoch: datetime) -> float:
    """``instant - epoch`` in seconds, exact to the microsecond."""
    delta = instant - epoch
    return delta.days * 86400.0 + delta.seconds + delta.microseconds * 1e-6


def enu_position_covariance(rotation: np.ndarray, sigma_h: np.ndarray, sigma_v: np.ndarray):
    """ECEF covariance (n, 3, 3) of diagonal ENU errors (sigma_h, sigma_h, sigma_v), m."""
    diag = np.stack((sigma_h**2, sigma_h**2, sigma_v**2), axis=-1)
    return np.einsum("nki,nk,nkj->nij", rotation, diag, rotation)


# ------------------------------------------------------------------------- reading


def _parse_time(text: str | None) -> tuple[datetime, float] | None:
    """ISO 8601 instant as (whole-second UTC datetime, fraction s), or None."""
    if not text:
        return None
    match = _ISO.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    zone = match.group(8)
    try:
        instant = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        if zone and zone != "Z":
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            instant -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    except (ValueError, OverflowError):
        return None
    fraction = float(match.group(7)) if match.group(7) else 0.0
    return instant, fraction


def _split_events(data: bytes) -> list[bytes]:
    """Byte segments, one per ``<event`` start (a stream or an ``<events>`` wrapper)."""
    starts = [m.start() for m in _EVENT_START.finditer(data)]
    segments = []
    for k, start in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else len(data)
        segment = data[start:stop]
        ends = list(_EVENT_END.finditer(segment))
        if ends:
            segment = segment[: ends[-1].end()]
        segments.append(segment)
    return segments


def _float(element: Element, name: str) -> float | None:
    text = element.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _nations(text: str) -> list[str] | None:
    """Trigraphs of a releasableTo value in the order written, or None if malformed."""
    body = text.strip()
    if body.upper().startswith("REL TO "):
        body = body[7:]
    names = [part.upper() for part in re.split(r"[\s,;]+", body) if part]
    if not names or any(name not in NODES for name in names):
        return None
    return list(dict.fromkeys(names))


def _releasable_to(event: Element) -> str | None:
    for name in _RELEASE_ATTRS:
        if event.get(name) is not None:
            return event.get(name)
    detail = event.find("detail")
    if detail is not None:
        for child in detail:
            if child.tag in _RELEASE_DETAILS:
                for name in _RELEASE_ATTRS:
                    if child.get(name) is not None:
                        return child.get(name)
    return None


def _event_fields(event: Element, fallback: list[str] | None) -> dict | str:
    """The values one event contributes, or the reason it is skipped."""
    if event.tag != "event":
        return "not a CoT event"
    uid = event.get("uid")
    if not uid:
        return "missing uid"
    when = _parse_time(event.get("time"))
    if when is None:
        return "bad or missing time"
    if (event.get("access") or "").strip().lower() not in _UNCLASSIFIED:
        return "access not unclassified"
    point = event.find("point")
    if point is None:
        return "missing point"
    values = [_float(point, name) for name in ("lat", "lon", "hae", "ce", "le")]
    if any(v is None for v in values):
        return "bad or missing point attribute"
    lat, lon, hae, ce, le = values
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return "latitude or longitude out of range"
    if ce <= 0.0 or le <= 0.0:
        return "non-positive ce or le"
    released = _releasable_to(event)
    if released is not None:
        nations = _nations(released)
        if nations is None:
            return "bad releasableTo"
    elif fallback is not None:
        nations = fallback
    else:
        return "no releasability marking"
    velocity = _track_fields(event.find("detail"))
    if isinstance(velocity, str):
        return velocity
    return {
        "uid": uid,
        "type": event.get("type") or "",
        "when": when,
        "point": (lat, lon, hae, ce, le),
        "track": velocity,
        "nations": nations,
    }


def _track_fields(detail: Element | None) -> tuple | str:
    """(speed, course, slope, eSpeed, eCourse, eSlope) with NaN where absent, or reason."""
    nan = math.nan
    track = detail.find("track") if detail is not None else None
    if track is None:
        return (nan,) * 6
    names = ("speed", "course", "slope", "eSpeed", "eCourse", "eSlope")
    values = []
    for name in names:
        value = _float(track, name)
        if value is None and track.get(name) is not None:
            return "bad track attribute"
        values.append(nan if value is None else value)
    if math.isnan(values[0]) or math.isnan(values[1]) or values[0] < 0.0:
        return "bad track attribute"
    if any(v < 0.0 for v in values[3:] if not math.isnan(v)):
        return "bad track attribute"
    if not math.isnan(values[2]) and abs(values[2]) > 90.0:
        return "bad track attribute"
    return tuple(values)


def _velocity_basis(course_rad: np.ndarray, slope_rad: np.ndarray):
    """ENU unit vectors (n, 3): along the velocity, across it horizontally, normal."""
    sc, cc, ss, cs = np.sin(course_rad), np.cos(course_rad), np.sin(slope_rad), np.cos(slope_rad)
    along = np.stack((cs * sc, cs * cc, ss), axis=-1)
    across = np.stack((cc, -sc, np.zeros_like(sc)), axis=-1)
    normal = np.stack((-ss * sc, -ss * cc, cs), axis=-1)
    return along, across, normal


def _velocity_enu(track: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ENU velocity (n, 3) and covariance (n, 3, 3) from track fields (n, 6)."""
    speed, course, slope, e_speed, e_course, e_slope = track.T
    has = ~np.isnan(speed)
    speed = np.where(has, speed, 0.0)
    course_rad = np.radians(np.where(has, course, 0.0))
    slope_rad = np.radians(np.nan_to_num(slope, nan=0.0))
    along, across, normal = _velocity_basis(course_rad, slope_rad)
    default = TRACK_VELOCITY_SIGMA_M_S
    s_along = np.where(np.isnan(e_speed), default, e_speed)
    s_across = speed * np.cos(slope_rad) * np.radians(e_course)
    s_across = np.where(np.isnan(s_across) | (s_across <= 0.0), default, s_across)
    s_normal = speed * np.radians(e_slope)
    s_normal = np.where(np.isnan(s_normal) | (s_normal <= 0.0), default, s_normal)
    still = speed == 0.0  # no direction: eSpeed applies to every axis
    s_across = np.where(still, s_along, s_across)
    s_normal = np.where(still, s_along, s_normal)
    cov = (
        np.einsum("ni,nj->nij", along, along) * (s_along**2)[:, None, None]
        + np.einsum("ni,nj->nij", across, across) * (s_across**2)[:, None, None]
        + np.einsum("ni,nj->nij", normal, normal) * (s_normal**2)[:, None, None]
    )
    unknown = UNKNOWN_VELOCITY_SIGMA_M_S**2 * np.eye(3)
    cov = np.where(has[:, None, None], cov, unknown)
    return along * speed[:, None], cov


def _rows_to_table(rows: list[dict], epoch: datetime, node: str | None) -> pa.Table:
    n = len(rows)
    point = np.array([r["point"] for r in rows], dtype=float).reshape(n, 5)
    track = np.array([r["track"] for r in rows], dtype=float).reshape(n, 6)
    lat, lon, hae, ce, le = point.T
    alt = np.where(hae >= COT_UNKNOWN, 0.0, hae)
    lla = np.stack((np.radians(lat), np.radians(lon), alt), axis=-1)
    rotation = enu_rotation(lla, check=False)
    position = lla_to_ecef(lla, check=False)
    velocity_enu, velocity_cov_enu = _velocity_enu(track)
    velocity = np.einsum("nki,nk->ni", rotation, velocity_enu)
    P = np.zeros((n, 6, 6))
    P[:, :3, :3] = enu_position_covariance(rotation, ce / CE90_PER_SIGMA, le / LE90_PER_SIGMA)
    P[:, 3:, 3:] = np.einsum("nki,nkl,nlj->nij", rotation, velocity_cov_enu, rotation)
    t = np.array([seconds_between(r["when"][0], epoch) + r["when"][1] for r in rows])
    return tracks_table(
        t=t,
        track_id=np.array([track_id_from_uid(r["uid"]) for r in rows], dtype=np.int64),
        node=[node or r["nations"][0] for r in rows],
        status=["confirmed"] * n,
        state=np.concatenate((position, velocity), axis=1),
        P=P,
        marking=[format_marking(r["nations"]) for r in rows],
        extra={
            "uid": pa.array([r["uid"] for r in rows], pa.string()),
            "cot_type": pa.array([r["type"] for r in rows], pa.string()),
        },
    )


def read_cot(
    data: bytes,
    *,
    marking: str | None = None,
    node: str | None = None,
    epoch: datetime | None = None,
) -> IngestResult:
    """Read CoT events into a Tracks table (module notes give the mapping).

    Parameters
    ----------
    data : bytes
        One ``<event>``, a stream of concatenated events (XML declarations between
        them allowed) or an ``<events>`` wrapper.
    marking : str, optional
        Releasability (``REL TO USA, JPN``) for events that carry none.
    node : str, optional
        ISO 3166 trigraph written to every row; default from each event's
        ``releasableTo`` (module notes).
    epoch : datetime, optional
        Timezone-aware UTC instant ``t`` counts from; default midnight UTC of the day
        of the earliest event.

    Returns
    -------
    IngestResult
        ``format`` ``"cot"``; ``tracks`` the Tracks table with ``uid`` and ``cot_type``
        columns (``detections`` None); ``packets`` the events seen; ``skipped`` counts
        by reason.

    Raises
    ------
    InputError
        Only for bad arguments (``data`` not bytes, a bad ``marking``, an unknown
        ``node``, a naive ``epoch``), never for bad events.

    References
    ----------
    [CoT], [GS62] (module notes).
    """
    data = check_data(data)
    marking = check_marking(marking)
    if node is not None:
        check_node(node, "node")
    epoch = check_epoch(epoch)
    fallback = marking[len("REL TO ") :].split(", ") if marking else None
    skipped: Counter = Counter()
    rows: list[dict] = []
    segments = _split_events(data)
    if not segments and data.strip():
        skipped["no <event> element"] += 1
    for segment in segments:
        try:
            event = safe_et.fromstring(segment, forbid_dtd=True)
        except (ParseError, DefusedXmlException, ValueError):
            skipped["malformed XML"] += 1
            continue
        fields = _event_fields(event, fallback)
        if isinstance(fields, str):
            skipped[fields] += 1
        else:
            rows.append(fields)
    if epoch is None:
        epoch = default_epoch(min((r["when"][0] for r in rows), default=None))
    table = _rows_to_table(rows, epoch, node) if rows else COT_TRACKS_SCHEMA.empty_table()
    return IngestResult(
        format="cot",
        epoch=epoch,
        tracks=table,
        packets=max(len(segments), sum(skipped.values()) + len(rows)),
        skipped=skipped,
    )


# ------------------------------------------------------------------------- writing


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _release_value(marking: str, node: str | None) -> str | None:
    """releasableTo value (node first, then the marking's order), None if malformed."""
    try:
        nations = format_marking(parse_marking(marking))[7:].split(", ")
    except InputError:
        return None
    if node in nations:
        nations.remove(node)
        nations.insert(0, node)
    return " ".join(nations)


def _g(value: float) -> str:
    return repr(float(value))


def _event_xml(
    *, uid: str, cot_type: str, when: datetime, stale: datetime, release: str,
    point: tuple[float, ...], track: tuple[float, ...] | None,
) -> str:
    lat, lon, hae, ce, le = point
    head = (
        f'<event version="2.0" uid="{_escape(uid)}" type="{cot_type}" how="m-f" '
        f'time="{_iso(when)}" start="{_iso(when)}" stale="{_iso(stale)}" '
        f'access="Unclassified" releasableTo="{release}">'
        f'<point lat="{_g(lat)}" lon="{_g(lon)}" hae="{_g(hae)}" ce="{_g(ce)}" le="{_g(le)}"/>'
    )
    detail = "<detail/>"
    if track is not None:
        names = ("speed", "course", "slope", "eSpeed", "eCourse", "eSlope")
        attrs = " ".join(
            f'{name}="{_g(value)}"' for name, value in zip(names, track, strict=True)
            if math.isfinite(value)
        )
        detail = f"<detail><track {attrs}/></detail>"
    return head + detail + "</event>"


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def _point_from(position: np.ndarray, cov: np.ndarray):
    """(lat deg, lon deg, hae m, ce m, le m) columns and ENU rotations of ECEF rows."""
    lla = ecef_to_lla(position)
    rotation = enu_rotation(lla, check=False)
    cov_enu = np.einsum("nik,nkl,njl->nij", rotation, cov, rotation)
    sigma_h = np.sqrt(np.maximum(0.5 * (cov_enu[:, 0, 0] + cov_enu[:, 1, 1]), 0.0))
    sigma_v = np.sqrt(np.maximum(cov_enu[:, 2, 2], 0.0))
    point = np.stack(
        (np.degrees(lla[:, 0]), np.degrees(lla[:, 1]), lla[:, 2],
         CE90_PER_SIGMA * sigma_h, LE90_PER_SIGMA * sigma_v),
        axis=-1,
    )
    return point, rotation


def _track_from(rotation: np.ndarray, velocity: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """CoT track fields (n, 6) from ECEF velocity (n, 3) and its covariance (n, 3, 3)."""
    v_enu = np.einsum("nij,nj->ni", rotation, velocity)
    cov_enu = np.einsum("nik,nkl,njl->nij", rotation, cov, rotation)
    speed = np.linalg.norm(v_enu, axis=1)
    horizontal = np.hypot(v_enu[:, 0], v_enu[:, 1])
    course = np.degrees(np.arctan2(v_enu[:, 0], v_enu[:, 1])) % 360.0
    slope_rad = np.arctan2(v_enu[:, 2], horizontal)
    along, across, normal = _velocity_basis(np.radians(course), slope_rad)

    def sigma(u):
        return np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", u, cov_enu, u), 0.0))

    moving = speed > 0.0
    safe_speed = np.where(moving, speed, 1.0)
    e_course = np.degrees(sigma(across) / np.where(horizontal > 1e-9, horizontal, 1.0))
    e_course = np.where(horizontal > 1e-9, e_course, np.nan)
    e_slope = np.where(moving, np.degrees(sigma(normal) / safe_speed), np.nan)
    e_speed = np.where(moving, sigma(along), np.sqrt(np.trace(cov_enu, axis1=1, axis2=2) / 3.0))
    return np.stack((speed, course, np.degrees(slope_rad), e_speed, e_course, e_slope), axis=-1)


def _detection_positions(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with a position, their ECEF positions (k, 3) and covariances (k, 3, 3)."""
    from hyperdef.sensors.detections import measurements
    from hyperdef.tracking.measurements import (
        measurement_covariance_to_ecef,
        measurement_to_ecef,
    )

    sensor = np.stack(
        [table.column(c).to_numpy() for c in ("sensor_x", "sensor_y", "sensor_z")], axis=1
    )
    rows_all, positions, covs = [], [], []
    for kind in ("xyz", "rae", "raer"):
        rows, z, R = measurements(table, kind)
        if rows.size == 0:
            continue
        rows_all.append(rows)
        positions.append(measurement_to_ecef(kind, z, sensor[rows]))
        covs.append(measurement_covariance_to_ecef(z, R, sensor[rows], kind))
    if not rows_all:
        return np.zeros(0, np.intp), np.zeros((0, 3)), np.zeros((0, 3, 3))
    return np.concatenate(rows_all), np.concatenate(positions), np.concatenate(covs)


def write_cot(
    table: pa.Table, epoch: datetime, *, stale_s: float = 60.0
) -> tuple[bytes, Counter]:
    """Write a Tracks or Detections table as CoT events (an ``<events>`` document).

    Tracks become ``a-h-A`` events (hostile air track) with a ``<track>`` detail;
    detections with a position (``xyz``, ``rae``, ``raer``) become ``b-d`` events
    (detection) without one. ``releasableTo`` lists the row's node first, then the other
    nations of its marking; ``ce``/``le`` are the 90 % errors of the position covariance
    (module notes, inverse of :func:`read_cot`); ``time`` and ``start`` are
    ``epoch + t``, ``stale`` ``stale_s`` later.

    Parameters
    ----------
    table : pyarrow.Table
        Tracks table (columns of ``TRACKS_SCHEMA``; a ``uid`` column, if present, gives
        the event uids, else ``hyperdef.<node>.<track_id>``) or Detections table.
    epoch : datetime
        Timezone-aware UTC instant the table's ``t`` counts from.
    stale_s : float, optional
        Seconds from ``time`` to ``stale``, > 0.

    Returns
    -------
    bytes
        UTF-8 XML document.
    collections.Counter
        ``written`` events, and rows left out by reason (``deleted track``,
        ``no position (los)``, ``bad marking``, ``non-finite state or time``).

    Raises
    ------
    InputError
        If ``table`` is neither a Tracks nor a Detections table, ``epoch`` is naive, or
        ``stale_s`` is not positive.
    """
    epoch = _check_write_args(table, epoch, stale_s)
    counts: Counter = Counter()
    names = table.column_names
    if "track_id" in names:
        events = _track_events(table, epoch, stale_s, counts)
    else:
        events = _detection_events(table, epoch, stale_s, counts)
    counts["written"] += len(events)
    body = "\n".join(events)
    document = f'<?xml version="1.0" encoding="UTF-8"?>\n<events>\n{body}\n</events>\n'
    return document.encode("utf-8"), +counts


def _check_write_args(table: pa.Table, epoch: datetime, stale_s: float) -> datetime:
    if not isinstance(table, pa.Table):
        raise InputError(f"table: expected a pyarrow.Table, got {type(table).__name__}")
    names = set(table.column_names)
    tracks = {"t", "track_id", "node", "status", "x", "y", "z", "vx", "vy", "vz", "P", "marking"}
    detections = {"t", "meas_type", "z", "R", "sensor_x", "sensor_y", "sensor_z", "marking"}
    if not (tracks <= names or detections <= names):
        raise InputError("table: not a Tracks or Detections table (missing columns)")
    checked = check_epoch(epoch)
    if checked is None:
        raise InputError("epoch: required, a timezone-aware datetime")
    if not isinstance(stale_s, int | float) or not math.isfinite(stale_s) or stale_s <= 0:
        raise InputError(f"stale_s: {stale_s!r} must be a positive number of seconds")
    return checked


def _instants(t: np.ndarray, epoch: datetime, stale_s: float) -> list[tuple[datetime, datetime]]:
    return [
        (epoch + timedelta(seconds=float(s)), epoch + timedelta(seconds=float(s) + stale_s))
        for s in t
    ]


def _track_events(table: pa.Table, epoch: datetime, stale_s: float, counts: Counter) -> list[str]:
    n = table.num_rows
    state = np.stack([table.column(c).to_numpy() for c in ("x", "y", "z", "vx", "vy", "vz")], 1)
    P = table.column("P").combine_chunks().flatten().to_numpy().reshape(n, 6, 6)
    keep = np.array([s != "deleted" for s in table.column("status").to_pylist()], dtype=bool)
    counts["deleted track"] += int(n - keep.sum())
    finite = np.isfinite(state).all(axis=1) & np.isfinite(P).all(axis=(1, 2))
    finite &= np.abs(table.column("t").to_numpy()) <= MAX_ABS_T_S
    counts["non-finite state or time"] += int((keep & ~finite).sum())
    rows = np.flatnonzero(keep & finite)
    if rows.size == 0:
        return []
    point, rotation = _point_from(state[rows, :3], P[rows, :3, :3])
    track = _track_from(rotation, state[rows, 3:], P[rows, 3:, 3:])
    nodes = table.column("node").to_pylist()
    ids = table.column("track_id").to_pylist()
    uids = table.column("uid").to_pylist() if "uid" in table.column_names else None
    markings = table.column("marking").to_pylist()
    times = _instants(table.column("t").to_numpy()[rows], epoch, stale_s)
    events = []
    for k, row in enumerate(rows):
        release = _release_value(markings[row], nodes[row])
        if release is None:
            counts["bad marking"] += 1
            continue
        uid = uids[row] if uids and uids[row] else f"hyperdef.{nodes[row]}.{ids[row]}"
        events.append(_event_xml(
            uid=uid, cot_type=TRACK_TYPE, when=times[k][0], stale=times[k][1], release=release,
            point=tuple(point[k]), track=tuple(track[k]),
        ))
    return events


def _detection_events(
    table: pa.Table, epoch: datetime, stale_s: float, counts: Counter
) -> list[str]:
    rows, position, cov = _detection_positions(table)
    counts["no position (los)"] += table.num_rows - rows.size
    finite = np.isfinite(position).all(axis=1) & np.isfinite(cov).all(axis=(1, 2))
    finite &= np.abs(table.column("t").to_numpy()[rows]) <= MAX_ABS_T_S
    counts["non-finite state or time"] += int((~finite).sum())
    rows, position, cov = rows[finite], position[finite], cov[finite]
    order = np.argsort(rows, kind="stable")
    rows, position, cov = rows[order], position[order], cov[order]
    if rows.size == 0:
        return []
    point, _ = _point_from(position, cov)
    nodes = table.column("node").to_pylist() if "node" in table.column_names else None
    sensors = table.column("sensor_id").to_pylist() if "sensor_id" in table.column_names else None
    markings = table.column("marking").to_pylist()
    t = table.column("t").to_numpy()
    times = _instants(t[rows], epoch, stale_s)
    events = []
    for k, row in enumerate(rows):
        node = nodes[row] if nodes else None
        release = _release_value(markings[row], node)
        if release is None:
            counts["bad marking"] += 1
            continue
        sensor = sensors[row] if sensors else "sensor"
        events.append(_event_xml(
            uid=f"hyperdef.det.{sensor}.{row}", cot_type=DETECTION_TYPE, when=times[k][0],
            stale=times[k][1], release=release, point=tuple(point[k]), track=None,
        ))
    return events
