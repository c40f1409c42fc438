"""NATO STANAG 4607 GMTI in and out of the Detections table.

A STANAG 4607 stream is a sequence of packets: a 32-byte packet header (version,
size, nationality, classification, platform and mission identifiers) and segments.
The mission segment gives the reference date; each dwell segment gives the dwell time
(ms from midnight UTC of that date), the sensor position and velocity, and a batch of
target reports of fixed layout chosen by the dwell's existence mask: the target
location (high-resolution SA32 latitude / BA32 longitude, or the reduced form from the
dwell centre and scale factors), its geodetic height, the line-of-sight velocity, the
SNR and the one-sigma uncertainties.

:func:`read_gmti` turns every target report into one ``xyz`` detection (with the
range-rate in an extra column ``range_rate_m_s``); :func:`write_gmti` writes
positional detections as one dwell per (sensor, time). Packets and segments are
framed and decoded with the ``stanag4607`` package; the target reports of a dwell are
converted as one NumPy record array. The package has no encoder from physical values,
so the small one here packs the fields itself.

Conventions
-----------
Node and marking
    STANAG 4607 carries a classification (P4), not releasability: the ``marking``
    argument is required and applies to every report. The node is the packet header's
    nationality (P3), else its classification system (P5), when that two-character
    code (ISO 3166-1 alpha-2, or the STANAG 1059 ``UK``) names a coalition node;
    otherwise the ``node`` argument; otherwise the packet is skipped.
Sensor id
    The platform ID of the packet header (P8).
Uncertainty
    The slant-range (D32.12, cm), cross-range (D32.13, dm) and height (D32.14, m)
    uncertainties are one-sigma values ([AEDP7]_) and are applied along the line of
    sight ``u``, the horizontal ``c = u x up / |u x up|`` across it, and ``w = c x u``
    (the vertical for a target at zero grazing angle). Where the dwell's mask lacks
    them, or a value is 0 (no statement), the notional MQ-9 radar of
    :class:`hyperdef.sensors.airborne.AirborneRadar` sets the default (range sigma
    20 m, angle sigma 3 mrad across the line of sight at the slant range), with the
    dwell's sensor position uncertainty (D12-D14, RMS) or the 3 m of
    :class:`~hyperdef.sensors.airborne.Navigation` added in quadrature.
    On export R is projected on the same axes (its off-axis terms are dropped).
Velocity
    D32.7, the target velocity line-of-sight component, is the target's
    ground-referenced velocity along the line of sight, positive away from the sensor
    (platform motion removed, [AEDP7]_). ``range_rate_m_s = v_los - v_sensor . u``,
    with the sensor velocity of D15-D17 (0 where absent); NaN when the dwell has no
    D32.7. Its I16 cm/s field limits export to |v_los| <= 327.67 m/s: a GMTI report
    describes a ground mover, not a hypersonic glide vehicle.

References
----------
.. [STANAG4607] NATO STANAG 4607 Ed. 3, *NATO Ground Moving Target Indicator (GMTI)
   Format*, NATO Standardization Office, 2010.
.. [AEDP7] NATO AEDP-7 Ed. 2, *NATO Ground Moving Target Indicator (GMTI) Format
   Implementation Guide* (AEDP-4607 Ed. A): packet header P1-P10 (Table 3-1), mission
   segment M1-M7, dwell segment D1-D32.18, binary angle formats SA32 / BA32 / BA16.
"""

from __future__ import annotations

import math
import re
import struct
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
from stanag4607 import (
    DWELL_SEGMENT_TYPE,
    MISSION_SEGMENT_TYPE,
    PACKET_HEADER_SIZE,
    DecodeError,
    DecodeLimits,
    MissionSegment,
    decode_dwell_segment,
    decode_mission_segment,
    decode_packet,
)

from hyperdef.core.frames import (
    ecef_to_lla,
    ecef_vector_to_enu,
    enu_vector_to_ecef,
    lla_to_ecef,
    local_east_ecef,
    local_up_ecef,
)
from hyperdef.core.markings import check_node, format_marking, parse_marking
from hyperdef.errors import InputError
from hyperdef.io import IngestResult, default_epoch
from hyperdef.io.klv import _check_epoch, _check_writer_input, _positions
from hyperdef.sensors.airborne import AirborneRadar, Navigation
from hyperdef.sensors.detections import SCHEMA, make_detections

__all__ = [
    "VERSION_ID",
    "NODE_DIGRAPHS",
    "GMTI_SCHEMA",
    "MAX_TARGETS_PER_DWELL",
    "read_gmti",
    "write_gmti",
]

#: P1 version written (AEDP-4607 Edition A Version 1)
VERSION_ID: bytes = b"31"
#: ISO 3166-1 alpha-2 code of each coalition node (hyperdef.core.markings.NODES)
NODE_DIGRAPHS: dict[str, str] = dict(
    pair.split(":")
    for pair in """USA:US JPN:JP AUS:AU CAN:CA GBR:GB NZL:NZ KOR:KR PHL:PH SGP:SG IND:IN
    ALB:AL BEL:BE BGR:BG HRV:HR CZE:CZ DNK:DK EST:EE FIN:FI FRA:FR DEU:DE GRC:GR HUN:HU
    ISL:IS ITA:IT LVA:LV LTU:LT LUX:LU MNE:ME NLD:NL MKD:MK NOR:NO POL:PL PRT:PT ROU:RO
    SVK:SK SVN:SI ESP:ES SWE:SE TUR:TR""".split()
)
_TRIGRAPHS: dict[bytes, str] = {v.encode(): k for k, v in NODE_DIGRAPHS.items()} | {b"UK": "GBR"}
#: Detections schema plus the range-rate column
GMTI_SCHEMA = SCHEMA.append(pa.field("range_rate_m_s", pa.float64(), metadata={"unit": "m/s"}))
_EMPTY = GMTI_SCHEMA.empty_table()  # shared: pyarrow tables are immutable
#: the decoder's failure modes on malformed input (caught: the reader never raises)
_DECODER_ERRORS = (DecodeError, ValueError, TypeError, ArithmeticError, LookupError)
#: target reports per dwell segment written (longer dwells are split)
MAX_TARGETS_PER_DWELL: int = 1000

_UNCLASSIFIED = 5  # P4
_EXERCISE_SIMULATED = 129  # P7: exercise, simulated
_PLATFORM_OTHER = 255  # M3
_LIMITS = DecodeLimits(max_packet_size=2**24, max_segments=4096)
_DEFAULT_RADAR = AirborneRadar()
_DEFAULT_NAV = Navigation()
_WRAP_VELOCITY_CM_S = 65535  # D32.8: no ambiguity within the field
_TWO32 = 2.0**32
_HEADER = struct.Struct(">2sI2sB2sHB10sII")
_SEGMENT_HEADER = struct.Struct(">BI")
_CANDIDATE = re.compile(rb"(?=[0-9][0-9][\s\S]{6}[\x01-\x05])")
_SEGMENT_TYPES = frozenset((1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 101, 102))

#: big-endian NumPy formats of D32.1-D32.18 ([AEDP7] Table 3-9)
_TARGET_FORMATS: dict[int, str] = {
    1: ">u2", 2: ">i4", 3: ">u4", 4: ">i2", 5: ">i2", 6: ">i2", 7: ">i2", 8: ">u2", 9: "i1",
    10: "u1", 11: "u1", 12: ">u2", 13: ">u2", 14: "u1", 15: ">u2", 16: "u1", 17: ">u4", 18: "i1",
}  # fmt: skip
#: formats of the dwell fields written, in wire order
_DWELL_FORMATS: dict[int, str] = {
    2: ">u2", 3: ">u2", 4: "u1", 5: ">u2", 6: ">u4", 7: ">i4", 8: ">u4", 9: ">i4",
    12: ">u4", 13: ">u4", 14: ">u2", 15: ">u2", 16: ">u4", 17: "i1",
    24: ">i4", 25: ">u4", 26: ">u2", 27: ">u2",
}  # fmt: skip
#: limits of the target fields written (uncertainty and velocity fields), wire units
_U16 = 65535
_VLOS_MAX_CM_S = 32767
_SIGMA_V_MAX_CM_S = 5000  # D32.15 ([AEDP7], validation rule)
_HEIGHT_LIMITS_M = (-1000, 32767)  # D32.6

# ------------------------------------------------------------------ framing


def _plausible_header(data: bytes, p: int) -> bool:
    """Whether a packet header could start at ``p`` (used to resynchronise)."""
    if len(data) - p < PACKET_HEADER_SIZE:
        return False
    version, size, _, cls, _, _, exercise, _, _, _ = _HEADER.unpack_from(data, p)
    if not (version.isdigit() and 1 <= cls <= 5 and exercise in (0, 1, 2, 128, 129, 130)):
        return False
    if size < PACKET_HEADER_SIZE + 5 or size > _LIMITS.max_packet_size:
        return False
    if len(data) - p >= PACKET_HEADER_SIZE + 5:
        kind, seg_size = _SEGMENT_HEADER.unpack_from(data, p + PACKET_HEADER_SIZE)
        return kind in _SEGMENT_TYPES and 5 <= seg_size <= size - PACKET_HEADER_SIZE
    return True


def _next_header(data: bytes, start: int, stop: int | None = None) -> int:
    """First plausible header at or after ``start`` (and before ``stop``), else ``stop``."""
    stop = len(data) if stop is None else stop
    for match in _CANDIDATE.finditer(data, start):
        if match.start() >= stop:
            break
        if _plausible_header(data, match.start()):
            return match.start()
    return stop


def _well_framed(data: bytes, p: int, end: int) -> bool:
    """Whether ``data[p:end]`` can be a whole packet: it fits, and unless another header
    follows it (or the data ends there), no header starts inside it. 4607 has no
    checksum; this catches a cut packet whose size runs into the next one."""
    if end > len(data):
        return False
    if end == len(data) or _plausible_header(data, end):
        return True
    return _next_header(data, p + 1, end) == end


def _frames(data: bytes):
    """Yield ``(start, end, packet or reason)`` for each packet or skipped byte run.

    A framed packet is decoded (``stanag4607.decode_packet``); a unit that is not
    comes with the reason it is skipped and ends at the next plausible header.
    """
    n = len(data)
    p = 0
    while p < n:
        if not _plausible_header(data, p):
            q = _next_header(data, p + 1)
            short = n - p < PACKET_HEADER_SIZE and q == n
            yield p, q, "truncated packet" if short else "unrecognised bytes"
            p = q
            continue
        size = int.from_bytes(data[p + 2 : p + 6], "big")
        if _well_framed(data, p, p + size):
            try:
                yield p, p + size, decode_packet(data[p : p + size], limits=_LIMITS)
                p += size
                continue
            except _DECODER_ERRORS:
                pass
        q = _next_header(data, p + 1)
        # ends past the data, or the next packet starts inside it: truncated
        yield p, q, "truncated packet" if p + size > min(q, n) else "corrupt packet"
        p = q


# ------------------------------------------------------------------ reading


def _node(header, node: str | None) -> str | None:
    for code in (header.nationality, header.classification_system):
        if code in _TRIGRAPHS:
            return _TRIGRAPHS[code]
    return node


def _reference(segment) -> datetime | str:
    try:
        mission = decode_mission_segment(segment)
        day = date(mission.reference_year, mission.reference_month, mission.reference_day)
    except _DECODER_ERRORS:
        return "corrupt mission segment"
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _target_dtype(fields: tuple[int, ...]) -> np.dtype:
    return np.dtype([(f"d{f}", _TARGET_FORMATS[f]) for f in fields])


def _sa32_deg(raw) -> np.ndarray:
    return np.asarray(raw, dtype=float) * (180.0 / _TWO32)


def _ba32_deg(raw) -> np.ndarray:
    lon = np.asarray(raw, dtype=float) * (360.0 / _TWO32)
    return np.where(lon >= 180.0, lon - 360.0, lon)


def _locations(dwell, reports) -> tuple[np.ndarray, np.ndarray] | None:
    """Target latitude and longitude (deg), or None if the mask carries no location."""
    names = reports.dtype.names
    if "d2" in names and "d3" in names:
        return _sa32_deg(reports["d2"]), _ba32_deg(reports["d3"])
    scale_lat, scale_lon = dwell.latitude_scale, dwell.longitude_scale
    if "d4" in names and "d5" in names and scale_lat is not None and scale_lon is not None:
        lat_raw = dwell.center_latitude.raw + reports["d4"].astype(np.int64) * scale_lat.raw
        lon_raw = (dwell.center_longitude.raw + reports["d5"].astype(np.int64) * scale_lon.raw) % (
            2**32
        )
        return _sa32_deg(lat_raw), _ba32_deg(lon_raw)
    return None


def _dwell_sensor(field: dict[int, bytes]):
    """Sensor ECEF position (3,), LLA (3,), velocity (3,) and position sigma (m).

    ``field`` maps the dwell's field numbers to their wire bytes (keyed once by the
    existence mask: the package's per-field accessors rescan the mask every call).
    """

    def number(f: int, signed: bool = False) -> int | None:
        raw = field.get(f)
        return None if raw is None else int.from_bytes(raw, "big", signed=signed)

    lla = np.array(
        [
            math.radians(number(7, True) * (180.0 / _TWO32)),
            math.radians(float(_ba32_deg(number(8)))),
            number(9, True) / 100.0,
        ]
    )
    track, speed, vertical = number(15), number(16), number(17, True)
    velocity = np.zeros(3)
    if track is not None and speed is not None:
        heading = track * (2.0 * math.pi / 65536.0)  # BA16
        v_enu = np.array(
            [
                speed / 1000.0 * math.sin(heading),
                speed / 1000.0 * math.cos(heading),
                (vertical or 0) / 10.0,
            ]
        )
        velocity = enu_vector_to_ecef(v_enu, lla, check=False)
    sigmas = (number(12), number(13), number(14))
    if all(s is not None for s in sigmas):
        nav_sigma = math.sqrt(sum((s / 100.0) ** 2 for s in sigmas) / 3.0)
    else:
        nav_sigma = _DEFAULT_NAV.position_sigma_m
    return lla_to_ecef(lla, check=False), lla, velocity, nav_sigma


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (n, 3) arrays, written out (np.cross is slow)."""
    ax, ay, az = a[:, 0], a[:, 1], a[:, 2]
    bx, by, bz = b[:, 0], b[:, 1], b[:, 2]
    return np.column_stack((ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx))


def _axes(target_r: np.ndarray, sensor_r: np.ndarray):
    """Line of sight u, cross-range c and w = c x u (n, 3) each, and the slant range."""
    target_lla = ecef_to_lla(target_r)
    up = local_up_ecef(target_lla, check=False)
    los = target_r - sensor_r
    slant = np.linalg.norm(los, axis=-1)
    u = np.where((slant > 0.0)[:, None], los / np.where(slant > 0.0, slant, 1.0)[:, None], -up)
    c = _cross(u, up)
    norm = np.linalg.norm(c, axis=-1, keepdims=True)
    # a vertical line of sight has no horizontal normal: take east as cross-range
    c = np.where(norm > 1e-9, c / np.where(norm > 1e-9, norm, 1.0), local_east_ecef(target_lla))
    w = _cross(c, u)
    return u, c, w, slant


def _variance(reports, name: str, metres_per_step: float, default: np.ndarray) -> np.ndarray:
    """Variance (m^2) from a one-sigma uncertainty field; absent or 0: the default."""
    if name not in reports.dtype.names:
        return default
    sigma = reports[name].astype(float) * metres_per_step
    return np.where(sigma > 0.0, sigma**2, default)


def _dwell_records(dwell, payload: bytes, reference: datetime, skipped: Counter):
    """Arrays of one dwell's target reports (dict of columns), or None."""
    mask = dwell.mask
    field = dict(zip(mask.present_dwell_fields, dwell.fields, strict=True))
    fields = mask.present_target_fields
    count = int.from_bytes(field[5], "big")
    if count == 0:
        return None
    dtype = _target_dtype(fields)
    reports = np.frombuffer(
        payload, dtype=dtype, count=count, offset=len(payload) - count * dtype.itemsize
    )
    location = _locations(dwell, reports)
    if location is None:
        skipped["no target location"] += count
        return None
    if "d6" not in reports.dtype.names:
        skipped["no target height"] += count
        return None
    lat, lon = location
    keep = np.abs(lat) <= 90.0
    if not keep.all():
        skipped["no target location"] += int((~keep).sum())
    reports, lat, lon = reports[keep], lat[keep], lon[keep]
    k = lat.size
    if k == 0:
        return None
    sensor_r, _, sensor_v, nav_sigma = _dwell_sensor(field)
    target_lla = np.column_stack((np.radians(lat), np.radians(lon), reports["d6"].astype(float)))
    target_r = lla_to_ecef(target_lla, check=False)
    sensor_rk = np.broadcast_to(sensor_r, (k, 3))
    u, c, w, slant = _axes(target_r, sensor_rk)
    names = reports.dtype.names
    angle_var = (slant * _DEFAULT_RADAR.angle_sigma_rad) ** 2 + nav_sigma**2
    range_var = np.full(k, _DEFAULT_RADAR.range_sigma_m**2 + nav_sigma**2)
    var_s = _variance(reports, "d12", 0.01, range_var)
    var_c = _variance(reports, "d13", 0.1, angle_var)
    var_w = _variance(reports, "d14", 1.0, angle_var)
    cov = (
        var_s[:, None, None] * u[:, :, None] * u[:, None, :]
        + var_c[:, None, None] * c[:, :, None] * c[:, None, :]
        + var_w[:, None, None] * w[:, :, None] * w[:, None, :]
    )
    if "d7" in names:
        range_rate = reports["d7"] / 100.0 - u @ sensor_v
    else:
        range_rate = np.full(k, np.nan)
    snr = 10.0 ** (reports["d9"] / 10.0) if "d9" in names else np.full(k, np.nan)
    t_utc = reference + timedelta(milliseconds=int.from_bytes(field[6], "big"))
    return {
        "t_utc": t_utc,
        "z": target_r,
        "R": cov,
        "sensor_r": sensor_rk,
        "sensor_v": np.broadcast_to(sensor_v, (k, 3)),
        "snr": snr,
        "range_rate": range_rate,
    }


def _packet_records(packet, state: dict, node: str | None, skipped: Counter):
    """Records of one decoded packet: list of (sensor_id, node, dwell arrays) or a reason."""
    packet_node = _node(packet.header, node)
    if packet_node is None:
        return "no source node"
    sensor_id = packet.header.platform_id.decode("ascii", "replace").strip(" \x00") or "gmti"
    out = []
    for segment in packet.segments:
        if segment.segment_type == MISSION_SEGMENT_TYPE:
            reference = _reference(segment)
            if isinstance(reference, str):
                skipped[reference] += 1
            else:
                state["reference"] = reference
        elif segment.segment_type == DWELL_SEGMENT_TYPE:
            try:
                dwell = decode_dwell_segment(segment)
            except _DECODER_ERRORS:
                skipped["corrupt dwell segment"] += 1
                continue
            if state.get("reference") is None:
                skipped["dwell without mission segment"] += 1
                continue
            try:
                arrays = _dwell_records(dwell, segment.payload, state["reference"], skipped)
            except _DECODER_ERRORS:
                skipped["corrupt dwell segment"] += 1
                continue
            if arrays is not None:
                out.append((sensor_id, packet_node, arrays))
    return out


def _table(dwells: list, marking: str, epoch: datetime | None):
    if epoch is None:
        first = min((d[2]["t_utc"] for d in dwells), default=None)
        epoch = default_epoch(first)
    if not dwells:
        return _EMPTY, epoch
    sizes = [d[2]["z"].shape[0] for d in dwells]
    t = np.repeat([(d[2]["t_utc"] - epoch).total_seconds() for d in dwells], sizes)
    column = {
        key: np.concatenate([d[2][key] for d in dwells])
        for key in ("z", "R", "sensor_r", "sensor_v", "snr", "range_rate")
    }
    table = make_detections(
        t=t,
        t_report=t,
        sensor_id=np.repeat(np.array([d[0] for d in dwells], dtype=object), sizes),
        node=np.repeat(np.array([d[1] for d in dwells], dtype=object), sizes),
        meas_type="xyz",
        z=column["z"],
        R=column["R"],
        sensor_r_ecef_m=column["sensor_r"],
        sensor_v_ecef_m_s=column["sensor_v"],
        snr=column["snr"],
        truth_id=np.full(t.size, -1),
        false_alarm=False,
        marking=marking,
    )
    return table.append_column(GMTI_SCHEMA.field("range_rate_m_s"), [column["range_rate"]]), epoch


def read_gmti(
    data: bytes,
    *,
    marking: str | None = None,
    node: str | None = None,
    epoch: datetime | None = None,
) -> IngestResult:
    """Read a STANAG 4607 GMTI byte stream into ``xyz`` detections.

    Each target report of each dwell becomes one detection: ``z`` the ECEF position
    of its location and geodetic height (m), ``R`` from its uncertainty fields or the
    default of the module notes (m^2), ``sensor_x..z`` / ``sensor_vx..vz`` the dwell's
    sensor position (D7-D9) and velocity (D15-D17, else 0), ``t = t_report`` the
    mission reference date plus the dwell time (s from ``epoch``), ``sensor_id`` the
    platform ID (P8), ``snr`` from D32.9 (dB to linear; NaN where absent),
    ``truth_id`` -1, ``false_alarm`` False, ``marking`` the argument, and an extra
    last column ``range_rate_m_s`` (see the module notes).

    Bad bytes never raise. ``packets`` counts framed packets and skipped runs of
    unrecognised bytes; ``skipped`` counts, by reason, whole packets and byte runs
    (``truncated packet``, ``unrecognised bytes``, ``corrupt packet``, ``no source
    node``), segments (``corrupt dwell segment``, ``corrupt mission segment``,
    ``dwell without mission segment``) and target reports (``no target location``,
    ``no target height``). Reading resumes at the next plausible packet header.

    Parameters
    ----------
    data : bytes
        The packet stream.
    marking : str
        Marking (``REL TO USA, JPN``) of every report; required, since STANAG 4607
        carries no releasability.
    node : str, optional
        ISO 3166 trigraph of the source node for packets whose header names none.
    epoch : datetime, optional
        Timezone-aware UTC instant ``t`` counts from; default: midnight UTC of the
        day of the earliest dwell.

    Returns
    -------
    IngestResult
        ``format="gmti"``; detections with the extra ``range_rate_m_s`` column.

    Raises
    ------
    InputError
        If ``marking`` is missing or invalid, or ``node``, ``epoch`` or ``data`` is
        invalid (checked before any decoding; the error names the argument).

    References
    ----------
    NATO STANAG 4607 Ed. 3; NATO AEDP-7 Ed. 2 (AEDP-4607).
    """
    if marking is None:
        raise InputError("marking: required for STANAG 4607, which carries no releasability")
    marking = format_marking(parse_marking(marking, "marking"), "marking")
    if node is not None:
        check_node(node, "node")
    _check_epoch(epoch)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"data: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    skipped: Counter = Counter()
    dwells: list = []
    state: dict = {"reference": None}
    packets = 0
    for _, _, unit in _frames(data):
        packets += 1
        if not isinstance(unit, str):
            unit = _packet_records(unit, state, node, skipped)
            if not isinstance(unit, str):
                dwells.extend(unit)
                continue
        skipped[unit] += 1
    table, epoch = _table(dwells, marking, epoch)
    return IngestResult(
        format="gmti", epoch=epoch, detections=table, packets=packets, skipped=skipped
    )


# ------------------------------------------------------------------ writing


def _text(value: str, width: int) -> bytes:
    """Fixed-width character field: ASCII, space padded ([AEDP7] Annex A)."""
    return value.encode("ascii", "replace")[:width].ljust(width, b" ")


def _sa32(lat_deg) -> np.ndarray:
    raw = np.rint(np.asarray(lat_deg, float) * (_TWO32 / 180.0))
    return np.clip(raw, -(2**31), 2**31 - 1).astype(np.int64)


def _ba32(lon_deg) -> np.ndarray:
    return (np.rint(np.asarray(lon_deg, float) % 360.0 * (_TWO32 / 360.0)) % _TWO32).astype(
        np.int64
    )


def _ba16(angle_deg) -> int:
    return int(round(angle_deg % 360.0 * 65536 / 360.0)) % 65536


def _mask(dwell_fields, target_fields) -> bytes:
    """D1 existence mask: bit 65 - n marks Dn, bit 34 - n marks D32.n ([AEDP7] D1)."""
    bits = 0
    for f in dwell_fields:
        bits |= 1 << (65 - f)
    for f in target_fields:
        bits |= 1 << (34 - f)
    return bits.to_bytes(8, "big")


def _pack(formats: dict[int, str], values: dict[int, np.ndarray], n: int) -> bytes:
    dtype = np.dtype([(f"d{f}", formats[f]) for f in sorted(values)])  # wire order
    out = np.zeros(n, dtype=dtype)
    for f, v in values.items():
        out[f"d{f}"] = v
    return out.tobytes()


def _dwell_payload(rows: dict, index: int, dwell_ms: int) -> bytes:
    """Dwell segment payload (D1-D32) of one dwell's rows (arrays of k targets)."""
    k = rows["lat"].size
    sensor_lla = rows["sensor_lla"]
    heading, speed, vertical = rows["motion"]
    centre_lat, centre_lon = rows["centre_deg"]
    dwell = {
        2: index % 65536,
        3: 0,
        4: 1,
        5: k,
        6: dwell_ms,
        7: int(_sa32(math.degrees(sensor_lla[0]))),
        8: int(_ba32(math.degrees(sensor_lla[1]))),
        9: int(round(sensor_lla[2] * 100.0)),
        12: int(round(_DEFAULT_NAV.position_sigma_m * 100)),
        13: int(round(_DEFAULT_NAV.position_sigma_m * 100)),
        14: int(round(_DEFAULT_NAV.position_sigma_m * 100)),
        24: int(_sa32(centre_lat)),
        25: int(_ba32(centre_lon)),
        26: int(min(_U16, math.ceil(rows["extent_km"] * 128.0))),
        27: _ba16(rows["half_angle_deg"]),
    }
    if math.isfinite(heading) and math.isfinite(speed) and math.isfinite(vertical):
        dwell[15] = _ba16(heading)
        dwell[16] = int(round(min(speed, 8000.0) * 1000.0))
        dwell[17] = int(np.clip(round(vertical * 10.0), -127, 127))
    targets = {
        1: np.arange(k) % 65536,
        2: _sa32(rows["lat"]),
        3: _ba32(rows["lon"]),
        6: np.rint(rows["height"]),
    }
    if np.all(np.isfinite(rows["v_los"])):
        targets[7] = np.rint(rows["v_los"] * 100.0)
        targets[8] = np.full(k, _WRAP_VELOCITY_CM_S)
    if np.all(np.isfinite(rows["snr_db"])):
        targets[9] = np.clip(np.rint(rows["snr_db"]), -128, 127)
    targets[12] = np.rint(rows["sigma"][:, 0] * 100.0)
    targets[13] = np.rint(rows["sigma"][:, 1] * 10.0)
    targets[14] = np.rint(rows["sigma"][:, 2])
    if 7 in targets:
        targets[15] = np.rint(rows["sigma_v"] * 100.0)
    dwell_bytes = _pack(_DWELL_FORMATS, {f: np.array([v]) for f, v in dwell.items()}, 1)
    target_bytes = _pack(_TARGET_FORMATS, targets, k)
    return _mask(dwell, targets) + dwell_bytes + target_bytes


def _packet(payload: bytes, reference: date, node: str, mission: str, platform_id: str) -> bytes:
    digraph = NODE_DIGRAPHS[node].encode()
    mission_segment = MissionSegment(
        _text(mission, 12),
        _text(mission, 12),
        _PLATFORM_OTHER,
        _text(platform_id, 10),
        reference.year,
        reference.month,
        reference.day,
    ).to_segment()
    segments = (
        mission_segment.to_bytes()
        + _SEGMENT_HEADER.pack(DWELL_SEGMENT_TYPE, 5 + len(payload))
        + payload
    )
    size = PACKET_HEADER_SIZE + len(segments)
    header = _HEADER.pack(
        VERSION_ID,
        size,
        digraph,
        _UNCLASSIFIED,
        digraph,
        0,
        _EXERCISE_SIMULATED,
        _text(platform_id, 10),
        1,
        0,
    )
    return header + segments


def _row_arrays(detections: pa.Table):
    """Per-row target LLA, sigmas, LOS velocity, SNR (dB), sensor geometry, reasons."""
    target, cov, sensor, kinds = _positions(detections)
    n = detections.num_rows
    with np.errstate(invalid="ignore"):
        target_lla = ecef_to_lla(target)
        sensor_lla = ecef_to_lla(sensor)
    ok = np.all(np.isfinite(target_lla), axis=-1) & np.all(np.isfinite(sensor_lla), axis=-1)
    ok &= np.all(np.isfinite(cov.reshape(n, 9)), axis=-1)
    safe_t = np.where(ok[:, None], target, sensor + 1.0)
    safe_s = np.where(ok[:, None], sensor, 0.0)
    safe_s = np.where(np.isfinite(safe_s), safe_s, 0.0)
    safe_t = np.where(np.isfinite(safe_t), safe_t, 1.0e7)
    u, c, w, _ = _axes(safe_t, safe_s)
    cov0 = np.where(ok[:, None, None], cov, 0.0)
    with np.errstate(invalid="ignore"):
        sigma = np.sqrt(
            np.stack([np.einsum("ni,nij,nj->n", a, cov0, a) for a in (u, c, w)], axis=-1)
        )
    sensor_v = np.column_stack(
        [
            detections.column(k).to_numpy(zero_copy_only=False)
            for k in ("sensor_vx", "sensor_vy", "sensor_vz")
        ]
    ).astype(float)
    z_list = detections.column("z").to_pylist()
    r_list = detections.column("R").to_pylist()
    range_rate = np.array(
        [
            z[3] if kind == "raer" and len(z) == 4 else np.nan
            for z, kind in zip(z_list, kinds, strict=True)
        ],
        dtype=float,
    )
    sigma_v = np.array(
        [
            math.sqrt(r[15]) if kind == "raer" and len(r) == 16 and r[15] >= 0 else np.nan
            for r, kind in zip(r_list, kinds, strict=True)
        ],
        dtype=float,
    )
    v_los = range_rate + np.einsum("ni,ni->n", u, np.nan_to_num(sensor_v))
    snr = detections.column("snr").to_numpy(zero_copy_only=False).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr_db = np.where(snr > 0, 10.0 * np.log10(snr), np.nan)
    return {
        "kinds": kinds,
        "ok": ok,
        "target_lla": target_lla,
        "sensor_lla": sensor_lla,
        "sensor_r": sensor,
        "sensor_v": sensor_v,
        "sigma": sigma,
        "sigma_v": sigma_v,
        "v_los": v_los,
        "snr_db": snr_db,
    }


def _reasons(a: dict) -> list[str | None]:
    """Why each row cannot be written (None: it can); the first failing test wins."""
    kinds = a["kinds"]
    height = a["target_lla"][:, 2]
    sigma = a["sigma"]
    with np.errstate(invalid="ignore"):
        tests = (
            (~np.isin(kinds, ("xyz", "rae", "raer")), None),
            (~a["ok"], "non-finite position or covariance"),
            (
                (height < _HEIGHT_LIMITS_M[0]) | (height > _HEIGHT_LIMITS_M[1]),
                "target height outside STANAG 4607 range",
            ),
            (
                (np.rint(sigma[:, 0] * 100) > _U16)
                | (np.rint(sigma[:, 1] * 10) > _U16)
                | (np.rint(sigma[:, 2]) > 255),
                "uncertainty beyond STANAG 4607 field range",
            ),
            (
                np.abs(np.rint(a["v_los"] * 100)) > _VLOS_MAX_CM_S,
                "line-of-sight velocity beyond STANAG 4607 range",
            ),
            (
                np.rint(a["sigma_v"] * 100) > _SIGMA_V_MAX_CM_S,
                "uncertainty beyond STANAG 4607 field range",
            ),
        )
    reasons: list[str | None] = [None] * kinds.size
    for mask, reason in reversed(tests):
        for i in np.flatnonzero(mask):
            reasons[i] = reason if reason is not None else f"{kinds[i]} row has no position"
    return reasons


def _dwell_rows(a: dict, rows: np.ndarray) -> dict:
    """Arrays of the rows of one dwell, for :func:`_dwell_payload`."""
    sensor_lla = a["sensor_lla"][rows[0]]
    v_enu = ecef_vector_to_enu(a["sensor_v"][rows[0]], sensor_lla, check=False)
    heading = math.degrees(math.atan2(v_enu[0], v_enu[1]))
    target_lla = a["target_lla"][rows]
    lat, lon = np.degrees(target_lla[:, 0]), np.degrees(target_lla[:, 1])
    centre_lon = math.atan2(np.mean(np.sin(target_lla[:, 1])), np.mean(np.cos(target_lla[:, 1])))
    centre = np.array([np.radians(lat.mean()), centre_lon, 0.0])  # circular mean: date line
    offsets = ecef_vector_to_enu(
        lla_to_ecef(target_lla, check=False) - lla_to_ecef(centre, check=False), centre, check=False
    )
    to_centre = ecef_vector_to_enu(
        lla_to_ecef(centre, check=False) - a["sensor_r"][rows[0]], sensor_lla, check=False
    )
    to_targets = ecef_vector_to_enu(
        lla_to_ecef(target_lla, check=False) - a["sensor_r"][rows[0]], sensor_lla, check=False
    )
    az_c = math.degrees(math.atan2(to_centre[0], to_centre[1]))
    az_t = np.degrees(np.arctan2(to_targets[:, 0], to_targets[:, 1]))
    half_angle = float(np.max(np.abs((az_t - az_c + 180.0) % 360.0 - 180.0))) + 0.01
    return {
        "lat": lat,
        "lon": lon,
        "centre_deg": (float(lat.mean()), math.degrees(centre_lon)),
        "height": target_lla[:, 2],
        "sensor_lla": sensor_lla,
        "motion": (heading, math.hypot(v_enu[0], v_enu[1]), v_enu[2]),
        "extent_km": float(np.max(np.hypot(offsets[:, 0], offsets[:, 1]))) / 1000.0 + 0.01,
        "half_angle_deg": min(half_angle, 179.99),
        "v_los": a["v_los"][rows],
        "snr_db": a["snr_db"][rows],
        "sigma": a["sigma"][rows],
        "sigma_v": a["sigma_v"][rows],
    }


def write_gmti(
    detections: pa.Table,
    epoch: datetime,
    *,
    mission: str = "HYPERDEF",
    platform_id: str = "MQ9",
) -> tuple[bytes, Counter]:
    """Write positional detections as STANAG 4607 packets, one dwell per (sensor, t).

    Each packet holds a packet header (version ``31``, the node's ISO alpha-2 code as
    nationality and classification system, UNCLASSIFIED, exercise-simulated,
    ``platform_id``), a mission segment (``mission`` as mission and flight plan, the
    UTC date of the dwell as reference date) and a dwell segment: dwell time (ms from
    that midnight), sensor position (D7-D9) from ``sensor_x..z``, sensor position
    uncertainty (D12-D14, the default 3 m navigation sigma: the table carries none),
    sensor track, speed and vertical velocity (D15-D17) from ``sensor_vx..vz``, the
    dwell area, and one target report per row (report index, SA32/BA32 location,
    geodetic height in m, the one-sigma slant-range / cross-range / height
    uncertainties; the line-of-sight velocity with its sigma when every row of the
    dwell is ``raer``; the SNR in dB when every row has one). A dwell of more than
    :data:`MAX_TARGETS_PER_DWELL` rows is split over several packets.

    Parameters
    ----------
    detections : pyarrow.Table
        Detections table.
    epoch : datetime
        Timezone-aware UTC instant the table's ``t`` counts from.
    mission : str
        Mission plan text (12 ASCII characters kept).
    platform_id : str
        Platform ID (10 ASCII characters kept); :func:`read_gmti` reads it as
        ``sensor_id``.

    Returns
    -------
    bytes
        The packets, dwells in time order.
    collections.Counter
        Rows not written, by reason (``los`` rows, a height outside [-1000, 32767] m,
        an uncertainty or line-of-sight velocity beyond its field, a bad node,
        non-finite values).

    Raises
    ------
    InputError
        If ``detections`` lacks a Detections column, ``epoch`` is not a
        timezone-aware datetime, or ``mission`` / ``platform_id`` is not a string.

    References
    ----------
    NATO STANAG 4607 Ed. 3; NATO AEDP-7 Ed. 2 (AEDP-4607).
    """
    _check_writer_input(detections, epoch)
    for name, value in (("mission", mission), ("platform_id", platform_id)):
        if not isinstance(value, str):
            raise InputError(f"{name}: expected a string, got {type(value).__name__}")
    skipped: Counter = Counter()
    arrays = _row_arrays(detections)
    reasons = _reasons(arrays)
    nodes = detections.column("node").to_pylist()
    sensor_ids = detections.column("sensor_id").to_pylist()
    t = detections.column("t").to_numpy(zero_copy_only=False).astype(float)
    groups: dict[tuple[str, float], list[int]] = {}
    for i, reason in enumerate(reasons):
        if reason is None and nodes[i] not in NODE_DIGRAPHS:
            reason = "bad node"
        if reason is None and not math.isfinite(t[i]):
            reason = "non-finite time"
        if reason is not None:
            skipped[reason] += 1
            continue
        groups.setdefault((sensor_ids[i], float(t[i])), []).append(i)
    out = []
    revisit: Counter = Counter()
    for (sensor, t_s), rows in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0])):
        try:
            instant = epoch.astimezone(UTC) + timedelta(seconds=t_s)
        except OverflowError:
            skipped["time out of range"] += len(rows)
            continue
        day = instant.date()
        dwell_ms = int(
            round(
                (instant - datetime(day.year, day.month, day.day, tzinfo=UTC)).total_seconds()
                * 1000
            )
        )
        for start in range(0, len(rows), MAX_TARGETS_PER_DWELL):
            chunk = np.array(rows[start : start + MAX_TARGETS_PER_DWELL])
            payload = _dwell_payload(_dwell_rows(arrays, chunk), revisit[sensor], dwell_ms)
            out.append(_packet(payload, day, nodes[chunk[0]], mission, platform_id))
        revisit[sensor] += 1
    return b"".join(out), skipped
