"""MISB ST 0601 KLV (UAS Datalink Local Set) in and out of the Detections table.

An MQ-9-class aircraft streams ST 0601 packets: a 16-byte SMPTE universal key, a BER
length and a local set of tag-length-value items, closed by a 16-bit running-sum
checksum (tag 1). Each packet carries the platform position (tags 13, 14 and the
ellipsoid height, tag 75), the point the sensor looks at (the target location, tags
40-42, or the frame centre, tags 23-25 / 78), its error estimate (CE90 and LE90, tags
45 and 46) and, nested as tag 48, the MISB ST 0102 security local set whose
classifying country and releasing instructions give the node and the coalition
marking.

:func:`read_klv` turns every packet with a located target into one ``xyz`` detection;
:func:`write_klv` writes positional detections back out as ST 0601 packets. Packets
are decoded with the ``stanag4609`` package; this module frames the byte stream
itself so that it can resynchronise on the next universal key after a bad packet.

Conventions
-----------
Time
    Tag 2, the Precision Time Stamp, is read as microseconds since 1970-01-01 UTC.
    Strictly it is a MISP Time count (UTC plus the accumulated leap seconds); when a
    packet carries the leap-second offset (tag 136, with the correction of tag 137)
    it is converted to UTC exactly, else the count is taken as UTC (an error of the
    leap-second count, 37 s since 2017, for a stream that uses true MISP time).
    :func:`write_klv` writes UTC microseconds and no tag 136.
Heights
    Tag 75 (sensor ellipsoid height, HAE) is preferred for the platform; tag 15
    (MSL) is used only when tag 75 is absent, as if it were HAE (the geoid undulation,
    at most about 107 m, is neglected: hyperdef carries no geoid model). The target
    elevation (tag 42) is HAE when the frame-centre HAE (tag 78) is present and MSL
    otherwise (ST 0601.19 section 8.42.1); MSL is again taken as HAE.
Errors
    For a circular bivariate normal horizontal error of per-axis sigma,
    ``CE90 = sqrt(-2 ln 0.1) sigma = 2.1460 sigma``; for a normal vertical error
    ``LE90 = 1.6449 sigma`` ([NGA0026]_, [Greenwalt]_). R in ECEF is
    ``diag(sigma_h^2, sigma_h^2, sigma_v^2)`` in the ENU frame at the target (a CE90 or
    LE90 of 0 is read as no statement, as if absent). On
    export a non-circular horizontal covariance is written as the CE90 of its mean
    horizontal variance (exact for a circular error). Without tags 45/46 R is
    isotropic, ``(position_sigma_m^2 + (slant_range attitude_sigma_rad)^2) I_3``,
    from the default MQ-9 navigation error of
    :class:`hyperdef.sensors.airborne.Navigation` (3 m GPS-class position, 0.5 mrad
    boresight): the platform position and pointing errors carried to the target.
Velocity
    The platform velocity is built from the true heading (tag 5), the ground speed
    (tag 56) and the vertical speed (tag 51, 0 if absent); without tags 5 and 56 the
    sensor velocity columns are 0 (unknown, not measured stationary).

References
----------
.. [ST0601] MISB ST 0601.19, *UAS Datalink Local Set*, Motion Imagery Standards
   Board, 2023 (tags, their mappings and resolutions; checksum, section 6.5).
.. [ST0102] MISB ST 0102.12, *Security Metadata Universal and Local Sets for Motion
   Imagery Data*, 2020 (classifying country, releasing instructions).
.. [ST0107] MISB ST 0107.4, *KLV Metadata in Motion Imagery* (BER lengths, keys).
.. [NGA0026] NGA.SIG.0026.02, *Accuracy and Predicted Accuracy in the NSG*, 2016
   (CE90 = 2.1460 sigma, LE90 = 1.6449 sigma).
.. [Greenwalt] C. R. Greenwalt, M. E. Shultz, *Principles of Error Theory and
   Cartographic Applications*, ACIC Technical Report 96, 1962.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from stanag4609 import (
    ST0601_KEY,
    CountryCodingMethod,
    FieldDecodingMode,
    SecurityClassification,
    SecurityLocalSet,
    decode_security_local_set,
    decode_uas_local_set,
    encode_security_local_set,
    encode_uas_local_set,
)
from stanag4609.errors import ChecksumError, Stanag4609Error, TruncatedData
from stanag4609.klv.checksum import running_sum_16
from stanag4609.klv.model import KLVPacket

from hyperdef.core.frames import (
    aer_to_ecef,
    ecef_to_lla,
    ecef_vector_to_enu,
    enu_rotation,
    enu_vector_to_ecef,
    lla_to_ecef,
)
from hyperdef.core.markings import NODES, check_node, format_marking, parse_marking
from hyperdef.errors import InputError
from hyperdef.io import IngestResult, default_epoch
from hyperdef.sensors.airborne import Navigation
from hyperdef.sensors.detections import COLUMNS, MEAS_DIM, empty_detections, make_detections

__all__ = [
    "CE90_PER_SIGMA",
    "LE90_PER_SIGMA",
    "ST0601_VERSION",
    "HEIGHT_LIMITS_M",
    "ERROR_ESTIMATE_MAX_M",
    "read_klv",
    "write_klv",
]

#: ST 0601 version written in tag 65
ST0601_VERSION: int = 19
#: ST 0102 version written in its tag 22
ST0102_VERSION: int = 12
#: CE90 over the per-axis sigma of a circular normal, sqrt(-2 ln 0.1) ([NGA0026])
CE90_PER_SIGMA: float = math.sqrt(-2.0 * math.log(0.1))
#: LE90 over the sigma of a normal, the 95th percentile z ([NGA0026])
LE90_PER_SIGMA: float = 1.6448536269514722
#: domain of the 2-byte height tags 15, 25, 42, 75 and 78, m ([ST0601])
HEIGHT_LIMITS_M: tuple[float, float] = (-900.0, 19_000.0)
#: largest CE90 / LE90 tags 45 and 46 can carry, m ([ST0601])
ERROR_ESTIMATE_MAX_M: float = 4095.0
#: largest ground speed tag 56 can carry, m/s (1-byte unsigned integer)
_GROUND_SPEED_MAX_M_S = 255
#: vertical speed domain of tag 51, m/s
_VERTICAL_SPEED_MAX_M_S = 180.0

_DEFAULT_NAV = Navigation()
_SMPTE_PREFIX = ST0601_KEY[:4]
_KEY_LENGTH = len(ST0601_KEY)
_MAX_BER_OCTETS = 8
_US_PER_S = 1_000_000
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: last microsecond a datetime can hold (9999-12-31T23:59:59.999999 UTC)
_MAX_MICROS = 253_402_300_799_999_999
_THREE_LETTER_METHOD = int(CountryCodingMethod.ISO_3166_THREE_LETTER)
_EMPTY = empty_detections()  # shared: pyarrow tables are immutable
_DECODER_ERRORS = (Stanag4609Error, ValueError, TypeError, ArithmeticError, LookupError)

# ------------------------------------------------------------------ framing


def _ber_length(data: bytes, offset: int) -> tuple[int, int] | str:
    """BER length at ``offset``: ``(value, octets)`` or the reason it cannot be read."""
    if offset >= len(data):
        return "truncated packet"
    first = data[offset]
    if first < 0x80:
        return first, 1
    width = first & 0x7F
    if width == 0 or width > _MAX_BER_OCTETS:
        return "bad BER length"
    if offset + 1 + width > len(data):
        return "truncated packet"
    return int.from_bytes(data[offset + 1 : offset + 1 + width], "big"), 1 + width


def _frames(data: bytes):
    """Split a byte stream into units: yields ``(start, end, reason)``.

    ``reason`` is None for a framed ST 0601 packet ``data[start:end]``; otherwise the
    unit is a run of bytes to skip (up to the next ST 0601 universal key) and the
    reason says why.
    """
    n = len(data)
    p = 0
    while p < n:
        if data.startswith(ST0601_KEY, p):
            parsed = _ber_length(data, p + _KEY_LENGTH)
            if not isinstance(parsed, str):
                length, used = parsed
                end = p + _KEY_LENGTH + used + length
                inner = data.find(ST0601_KEY, p + 1, end + _KEY_LENGTH - 1)
                if end <= n and inner < 0:
                    yield p, end, None
                    p = end
                    continue
                # ends past the data, or the next packet starts inside it
                parsed = "truncated packet"
            q = data.find(ST0601_KEY, p + 1)
            q = n if q < 0 else q
            yield p, q, parsed
            p = q
            continue
        q = data.find(ST0601_KEY, p)
        q = n if q < 0 else q
        if q == n and ST0601_KEY.startswith(data[p:]):
            reason = "truncated packet"
        elif data.startswith(_SMPTE_PREFIX, p):
            reason = "unknown universal key"
        else:
            reason = "unrecognised bytes"
        yield p, q, reason
        p = q


def _checksum_ok(packet: bytes) -> bool:
    """Whether the packet ends with a tag-1 checksum item that matches ([ST0601] 6.5)."""
    if len(packet) < _KEY_LENGTH + 5 or packet[-4:-2] != b"\x01\x02":
        return False
    return running_sum_16(packet[:-2]) == int.from_bytes(packet[-2:], "big")


# ------------------------------------------------------------------ reading


def _security(uas) -> tuple[str | None, str | None, str | None]:
    """(classifying country, nations to release to, reason to skip) from tag 48."""
    if not uas.local_set.getall(48):
        return None, None, None
    security = uas.value(48)
    if not isinstance(security, SecurityLocalSet):
        return None, None, "corrupt security local set"
    country = security.value(3)
    if not isinstance(country, str) or not country.startswith("//"):
        return None, None, "corrupt security local set"
    country = country[2:]
    if country not in NODES:
        return None, None, "unknown source node"
    releasing = security.value(6)
    nations = {country}
    if isinstance(releasing, str):
        nations.update(code for code in releasing.split() if code)
    if not nations <= NODES:
        return None, None, "unknown releasability nation"
    return country, format_marking(nations), None


def _number(uas, tag: int) -> float | None:
    value = uas.value(tag)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _platform_height(uas) -> float | None:
    for tag in (75, 15):
        height = _number(uas, tag)
        if height is not None:
            return height
    return None


def _target(uas) -> tuple[float, float, float] | None:
    """Target (lat deg, lon deg, height m): tags 40-42, else the frame centre."""
    for lat_tag, lon_tag, height_tags in ((40, 41, (42,)), (23, 24, (78, 25))):
        lat, lon = _number(uas, lat_tag), _number(uas, lon_tag)
        if lat is None or lon is None:
            continue
        for tag in height_tags:
            height = _number(uas, tag)
            if height is not None:
                return lat, lon, height
    return None


def _utc_microseconds(uas) -> int:
    micros = uas.misp_timestamp_microseconds
    leaps = uas.value(136)
    if isinstance(leaps, int) and not isinstance(leaps, bool):
        correction = uas.value(137, 0)
        correction = correction if isinstance(correction, int) else 0
        micros = micros + correction - leaps * _US_PER_S
    return micros


def _sensor_id(uas) -> str:
    for tag in (10, 3):
        value = uas.value(tag)
        if isinstance(value, str) and value:
            return value
    return "uas"


def _decode(packet: bytes, marking: str | None, node: str | None):
    """One framed packet: the record tuple, or the reason to skip it."""
    if not _checksum_ok(packet):
        return "checksum mismatch"
    used = 1 if packet[_KEY_LENGTH] < 0x80 else 1 + (packet[_KEY_LENGTH] & 0x7F)
    klv = KLVPacket(
        ST0601_KEY, packet[_KEY_LENGTH + used :], packet[_KEY_LENGTH : _KEY_LENGTH + used]
    )
    try:
        uas = decode_uas_local_set(klv, field_decoding=FieldDecodingMode.PRESERVE)
    except ChecksumError:
        return "checksum mismatch"
    except TruncatedData:
        return "truncated local set"
    except _DECODER_ERRORS:
        # the third-party decoder's failure modes on malformed input: never raise
        return "malformed packet"
    try:
        return _record(uas, marking, node)
    except _DECODER_ERRORS:  # e.g. a field the decoder kept raw
        return "malformed packet"


def _record(uas, marking: str | None, node: str | None):
    """The record tuple of a decoded packet, or the reason to skip it."""
    if uas.misp_timestamp_microseconds is None:
        return "malformed packet"
    micros = _utc_microseconds(uas)
    if not 0 <= micros <= _MAX_MICROS:
        return "time stamp out of range"
    country, release, reason = _security(uas)
    if reason is not None:
        return reason
    packet_marking = release if release is not None else marking
    if packet_marking is None:
        return "no releasability marking"
    packet_node = country if country is not None else node
    if packet_node is None:
        return "no source node"
    lat, lon, height = _number(uas, 13), _number(uas, 14), _platform_height(uas)
    if lat is None or lon is None or height is None:
        return "no platform position"
    target = _target(uas)
    if target is None:
        return "no target location"
    ce90, le90 = _number(uas, 45), _number(uas, 46)
    heading, speed = _number(uas, 5), _number(uas, 56)
    has_velocity = heading is not None and speed is not None
    return (
        micros,
        _sensor_id(uas),
        packet_node,
        packet_marking,
        (lat, lon, height, *target),
        (np.nan if ce90 is None else ce90, np.nan if le90 is None else le90),
        (
            heading if has_velocity else np.nan,
            speed if has_velocity else 0.0,
            (_number(uas, 51) or 0.0) if has_velocity else 0.0,
        ),
    )


def _covariance_ecef(target_lla, sensor_r, target_r, errors) -> np.ndarray:
    """R (n, 3, 3) in ECEF from CE90/LE90, or the geometric default where absent."""
    ce90, le90 = errors[:, 0], errors[:, 1]
    slant = np.linalg.norm(target_r - sensor_r, axis=-1)
    default_var = _DEFAULT_NAV.position_sigma_m**2 + (slant * _DEFAULT_NAV.attitude_sigma_rad) ** 2
    with np.errstate(invalid="ignore"):  # NaN: tag absent; 0 is read as no statement
        var_h = np.where(ce90 > 0.0, (ce90 / CE90_PER_SIGMA) ** 2, default_var)
        var_v = np.where(le90 > 0.0, (le90 / LE90_PER_SIGMA) ** 2, default_var)
    rot = enu_rotation(target_lla, check=False)  # rows e, n, u
    diag = np.stack((var_h, var_h, var_v), axis=-1)
    return np.einsum("nki,nk,nkj->nij", rot, diag, rot)


def _sensor_velocity(sensor_lla, motion) -> np.ndarray:
    heading = np.radians(motion[:, 0])
    known = ~np.isnan(heading)
    heading = np.where(known, heading, 0.0)
    speed = np.where(known, motion[:, 1], 0.0)
    v_enu = np.stack((speed * np.sin(heading), speed * np.cos(heading), motion[:, 2]), axis=-1)
    return enu_vector_to_ecef(v_enu, sensor_lla, check=False)


def _check_epoch(epoch: datetime | None) -> None:
    if epoch is not None and (
        not isinstance(epoch, datetime) or epoch.tzinfo is None or epoch.utcoffset() is None
    ):
        raise InputError(f"epoch: {epoch!r} is not a timezone-aware datetime")


def _check_arguments(marking, node, epoch) -> str | None:
    """Validate the reader's arguments; return the marking in canonical form."""
    if node is not None:
        check_node(node, "node")
    _check_epoch(epoch)
    if marking is None:
        return None
    return format_marking(parse_marking(marking, "marking"), "marking")


def _epoch_micros(epoch: datetime) -> int:
    delta = epoch.astimezone(UTC) - _UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US_PER_S + delta.microseconds


def _table(records: list, epoch: datetime | None) -> tuple[pa.Table, datetime]:
    """Detections table (batched conversions) from decoded packet records."""
    micros = np.array([r[0] for r in records], dtype=np.int64)
    if epoch is None:
        first = min(r[0] for r in records) if records else None
        first_utc = None
        if first is not None:
            try:
                first_utc = datetime.fromtimestamp(first / _US_PER_S, UTC)
            except (OverflowError, ValueError, OSError):
                first_utc = _UNIX_EPOCH
        epoch = default_epoch(first_utc)
    if not records:
        return _EMPTY, epoch
    t = (micros - _epoch_micros(epoch)) / _US_PER_S
    geo = np.array([r[4] for r in records], dtype=float)
    sensor_lla = np.column_stack((np.radians(geo[:, 0:2]), geo[:, 2]))
    target_lla = np.column_stack((np.radians(geo[:, 3:5]), geo[:, 5]))
    sensor_r = lla_to_ecef(sensor_lla, check=False)
    target_r = lla_to_ecef(target_lla, check=False)
    errors = np.array([r[5] for r in records], dtype=float)
    motion = np.array([r[6] for r in records], dtype=float)
    table = make_detections(
        t=t,
        t_report=t,
        sensor_id=np.array([r[1] for r in records], dtype=object),
        node=np.array([r[2] for r in records], dtype=object),
        meas_type="xyz",
        z=target_r,
        R=_covariance_ecef(target_lla, sensor_r, target_r, errors),
        sensor_r_ecef_m=sensor_r,
        sensor_v_ecef_m_s=_sensor_velocity(sensor_lla, motion),
        snr=np.nan,
        truth_id=np.full(len(records), -1),
        false_alarm=False,
        marking=np.array([r[3] for r in records], dtype=object),
    )
    return table, epoch


def read_klv(
    data: bytes,
    *,
    marking: str | None = None,
    node: str | None = None,
    epoch: datetime | None = None,
) -> IngestResult:
    """Read a MISB ST 0601 KLV byte stream into ``xyz`` detections.

    Each ST 0601 packet with a target location (tags 40-42, else the frame centre,
    tags 23/24 with 78 or 25) becomes one detection: ``z`` the ECEF position of that
    point (m), ``R`` from the CE90/LE90 error estimates (tags 45/46) or the default
    of the module notes (m^2), ``sensor_x..z`` the ECEF platform position (tags 13,
    14, 75 or 15), ``sensor_vx..vz`` from the heading and ground speed (tags 5, 56,
    51) or 0, ``t = t_report`` the Precision Time Stamp (tag 2) in s from ``epoch``,
    ``sensor_id`` the Platform Designation (tag 10) or Mission ID (tag 3), ``snr``
    NaN, ``truth_id`` -1, ``false_alarm`` False. ``node`` is the ST 0102 classifying
    country and ``marking`` the ST 0102 releasing instructions plus that country;
    packets without an ST 0102 set take the ``node`` and ``marking`` arguments.

    Bad bytes never raise: a packet with a bad BER length, a checksum mismatch
    ([ST0601] 6.5, tag 1 is mandatory), a malformed local set, an unknown universal
    key or a truncation is skipped and counted, and reading resumes at the next
    ST 0601 universal key. ``packets`` counts ST 0601 packets and skipped runs of
    other bytes alike, so ``records + sum(skipped.values()) == packets``.

    Parameters
    ----------
    data : bytes
        The KLV stream (concatenated universal-key packets).
    marking : str, optional
        Marking (``REL TO USA, JPN``) for packets without an ST 0102 set.
    node : str, optional
        ISO 3166 trigraph of the source node for packets without an ST 0102 set.
    epoch : datetime, optional
        Timezone-aware UTC instant ``t`` counts from; default: midnight UTC of the
        day of the earliest packet (:func:`hyperdef.io.default_epoch`).

    Returns
    -------
    IngestResult
        ``format="klv"``, the Detections table (sorted as read), the counts.

    Raises
    ------
    InputError
        If ``data`` is not bytes, or ``marking``, ``node`` or ``epoch`` is invalid
        (the error names the argument).

    References
    ----------
    MISB ST 0601.19; MISB ST 0102.12; MISB ST 0107.4; NGA.SIG.0026.02.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"data: expected bytes, got {type(data).__name__}")
    marking = _check_arguments(marking, node, epoch)
    data = bytes(data)
    skipped: Counter = Counter()
    records = []
    packets = 0
    for start, end, reason in _frames(data):
        packets += 1
        if reason is None:
            decoded = _decode(data[start:end], marking, node)
            if isinstance(decoded, str):
                reason = decoded
            else:
                records.append(decoded)
                continue
        skipped[reason] += 1
    table, epoch = _table(records, epoch)
    return IngestResult(
        format="klv", epoch=epoch, detections=table, packets=packets, skipped=skipped
    )


# ------------------------------------------------------------------ writing


def _positions(table: pa.Table):
    """Target ECEF position (n, 3, m) and covariance (n, 3, 3, m^2) of every row.

    ``xyz`` rows as they are; ``rae`` / ``raer`` rows carried from the sensor's ENU
    frame; other rows NaN. Also returns the sensor ECEF position (n, 3) and the
    ``meas_type`` of each row.
    """
    kinds = table.column("meas_type").to_numpy(zero_copy_only=False)
    n = table.num_rows
    target = np.full((n, 3), np.nan)
    cov = np.full((n, 3, 3), np.nan)
    sensor = np.column_stack(
        [
            table.column(c).to_numpy(zero_copy_only=False)
            for c in ("sensor_x", "sensor_y", "sensor_z")
        ]
    ).astype(float)
    for kind in ("xyz", "rae", "raer"):
        rows = np.flatnonzero(kinds == kind)
        if rows.size == 0:
            continue
        m = MEAS_DIM[kind]
        sub = table.take(pa.array(rows))
        z = np.asarray(sub.column("z").combine_chunks().flatten().to_numpy(), float)
        r = np.asarray(sub.column("R").combine_chunks().flatten().to_numpy(), float)
        if z.size != rows.size * m or r.size != rows.size * m * m:
            continue  # malformed lists: rows stay NaN and are counted as such
        z, r = z.reshape(-1, m), r.reshape(-1, m, m)
        if kind == "xyz":
            target[rows], cov[rows] = z, r
            continue
        target[rows], cov[rows] = _aer_position(z[:, :3], r[:, :3, :3], sensor[rows])
    return target, cov, sensor, kinds


def _aer_position(aer, r_aer, sensor_r):
    """ECEF position and covariance of (range, az, el) seen from ``sensor_r``."""
    with np.errstate(invalid="ignore"):
        sensor_lla = ecef_to_lla(sensor_r)
    ok = np.all(np.isfinite(sensor_lla), axis=-1) & np.all(np.isfinite(aer), axis=-1)
    sensor_lla = np.where(ok[:, None], sensor_lla, 0.0)
    aer_safe = np.where(ok[:, None], aer, 1.0)
    position = aer_to_ecef(aer_safe, sensor_lla, check=False)
    rng, az, el = aer_safe.T
    ce, se, ca, sa = np.cos(el), np.sin(el), np.cos(az), np.sin(az)
    jac = np.zeros((aer.shape[0], 3, 3))  # d(e, n, u) / d(range, az, el)
    jac[:, 0] = np.stack((ce * sa, rng * ce * ca, -rng * se * sa), axis=-1)
    jac[:, 1] = np.stack((ce * ca, -rng * ce * sa, -rng * se * ca), axis=-1)
    jac[:, 2] = np.stack((se, np.zeros_like(se), rng * ce), axis=-1)
    rot = enu_rotation(sensor_lla, check=False)
    full = np.einsum("nki,nkl->nil", rot, jac)  # d(ecef) / d(aer)
    cov = full @ r_aer @ np.swapaxes(full, -1, -2)
    position[~ok] = np.nan
    return position, cov


def _error_estimates(target_lla, cov):
    """CE90 and LE90 (m) of ECEF covariances at the target ([NGA0026])."""
    rot = enu_rotation(target_lla, check=False)
    enu = rot @ cov @ np.swapaxes(rot, -1, -2)
    with np.errstate(invalid="ignore"):
        sigma_h = np.sqrt(0.5 * (enu[:, 0, 0] + enu[:, 1, 1]))
        sigma_v = np.sqrt(enu[:, 2, 2])
    return CE90_PER_SIGMA * sigma_h, LE90_PER_SIGMA * sigma_v


def _motion(sensor_lla, sensor_v):
    """Heading (deg), ground speed (m/s) and vertical speed (m/s) of the platform."""
    v_enu = ecef_vector_to_enu(sensor_v, sensor_lla, check=False)
    heading = np.degrees(np.arctan2(v_enu[:, 0], v_enu[:, 1])) % 360.0
    return heading, np.hypot(v_enu[:, 0], v_enu[:, 1]), v_enu[:, 2]


def _security_set(node: str, nations: frozenset[str]) -> SecurityLocalSet:
    release = format_marking(nations)[len("REL TO ") :].replace(",", "")
    encoded = encode_security_local_set(
        {
            1: int(SecurityClassification.UNCLASSIFIED),
            2: _THREE_LETTER_METHOD,
            3: f"//{node}",
            6: release,
            12: _THREE_LETTER_METHOD,
            13: node,  # object country unknown to hyperdef: the node as placeholder
            22: ST0102_VERSION,
        }
    )
    return decode_security_local_set(encoded, standalone=False)


def _row_checks(target_lla, sensor_lla, ce90, le90) -> list[str | None]:
    """Reason a positional row cannot be written, or None (vectorised tests)."""
    low, high = HEIGHT_LIMITS_M
    finite = (
        np.all(np.isfinite(target_lla), axis=-1)
        & np.all(np.isfinite(sensor_lla), axis=-1)
        & np.isfinite(ce90)
        & np.isfinite(le90)
    )
    with np.errstate(invalid="ignore"):
        tests = (
            (~finite, "non-finite position or covariance"),
            (
                (target_lla[:, 2] < low) | (target_lla[:, 2] > high),
                "target height outside ST 0601 range",
            ),
            (
                (sensor_lla[:, 2] < low) | (sensor_lla[:, 2] > high),
                "sensor height outside ST 0601 range",
            ),
            (
                (ce90 > ERROR_ESTIMATE_MAX_M) | (le90 > ERROR_ESTIMATE_MAX_M),
                "error estimate beyond ST 0601 range",
            ),
        )
    reasons: list[str | None] = [None] * target_lla.shape[0]
    for mask, reason in reversed(tests):  # the first failing test wins
        for i in np.flatnonzero(mask):
            reasons[i] = reason
    return reasons


def _check_writer_input(detections: pa.Table, epoch: datetime | None) -> None:
    """A writer's arguments: a table with every Detections column, an aware UTC epoch."""
    if not isinstance(detections, pa.Table):
        raise InputError("detections: expected a pyarrow.Table of detections")
    missing = [c for c in COLUMNS if c not in detections.column_names]
    if missing:
        raise InputError(f"detections: missing columns {', '.join(missing)}")
    if epoch is None:
        raise InputError("epoch: required (the UTC instant t counts from)")
    _check_epoch(epoch)


def write_klv(detections: pa.Table, epoch: datetime) -> tuple[bytes, Counter]:
    """Write positional detections as MISB ST 0601 packets.

    One packet per ``xyz``, ``rae`` or ``raer`` row: Precision Time Stamp (tag 2,
    UTC microseconds of ``epoch + t``), Platform Designation (tag 10, the
    ``sensor_id``), platform heading and ground / vertical speed (tags 5, 56, 51)
    from the sensor velocity, platform position (tags 13, 14, 75) from
    ``sensor_x..z``, the target location (tags 40-42 and the frame centre 23, 24,
    78, so that tag 42 reads as HAE) and its CE90 / LE90 (tags 45, 46) from R (an
    ``rae`` row's position and covariance are carried from the sensor's ENU frame to
    ECEF to first order), the ST 0102 set (tag 48: UNCLASSIFIED, the node as
    classifying country, the marking's nations as releasing instructions), the
    version (tag 65, 19) and the checksum (tag 1).

    Parameters
    ----------
    detections : pyarrow.Table
        Detections table (DESIGN.md columns).
    epoch : datetime
        Timezone-aware UTC instant the table's ``t`` counts from.

    Returns
    -------
    bytes
        The concatenated packets, in row order.
    collections.Counter
        Rows not written, by reason: ``los`` rows (no position), heights outside
        [-900, 19000] m (the domain of tags 42 and 75), CE90 or LE90 above 4095 m,
        non-finite values, a bad marking or node, a time before 1970, text the
        encoder refuses. A row whose sensor velocity is not finite (or whose ground
        speed exceeds tag 56's 255 m/s) is written without tags 5, 51 and 56.

    Raises
    ------
    InputError
        If ``detections`` lacks a Detections column or ``epoch`` is not a
        timezone-aware datetime.

    References
    ----------
    MISB ST 0601.19; MISB ST 0102.12; NGA.SIG.0026.02.
    """
    _check_writer_input(detections, epoch)
    skipped: Counter = Counter()
    target, cov, sensor, kinds = _positions(detections)
    n = detections.num_rows
    with np.errstate(invalid="ignore"):
        target_lla = ecef_to_lla(target)
        sensor_lla = ecef_to_lla(sensor)
    ce90, le90 = _error_estimates(np.nan_to_num(target_lla), cov)
    sensor_v = np.column_stack(
        [
            detections.column(c).to_numpy(zero_copy_only=False)
            for c in ("sensor_vx", "sensor_vy", "sensor_vz")
        ]
    ).astype(float)
    heading, ground_speed, vertical_speed = _motion(np.nan_to_num(sensor_lla), sensor_v)
    reasons = _row_checks(target_lla, sensor_lla, ce90, le90)
    epoch_us = _epoch_micros(epoch)
    t = detections.column("t").to_numpy(zero_copy_only=False).astype(float)
    sensor_ids = detections.column("sensor_id").to_pylist()
    nodes = detections.column("node").to_pylist()
    markings = detections.column("marking").to_pylist()
    target_deg = np.degrees(target_lla[:, :2])
    sensor_deg = np.degrees(sensor_lla[:, :2])
    out = []
    for i in range(n):
        if kinds[i] not in ("xyz", "rae", "raer"):
            skipped[f"{kinds[i]} row has no position"] += 1
            continue
        if reasons[i] is not None:
            skipped[reasons[i]] += 1
            continue
        try:
            nations = parse_marking(markings[i])
            node = check_node(nodes[i])
        except InputError:
            skipped["bad marking or node"] += 1
            continue
        if not math.isfinite(t[i]):
            skipped["non-finite time"] += 1
            continue
        micros = epoch_us + round(t[i] * _US_PER_S)
        if not 0 <= micros <= _MAX_MICROS:
            skipped["time outside 1970-9999"] += 1
            continue
        values = {
            2: micros,
            10: (sensor_ids[i] or "uas")[:127],
            13: float(sensor_deg[i, 0]),
            14: float(sensor_deg[i, 1]),
            23: float(target_deg[i, 0]),
            24: float(target_deg[i, 1]),
            40: float(target_deg[i, 0]),
            41: float(target_deg[i, 1]),
            42: float(target_lla[i, 2]),
            45: float(ce90[i]),
            46: float(le90[i]),
            48: _security_set(node, nations),
            65: ST0601_VERSION,
            75: float(sensor_lla[i, 2]),
            78: float(target_lla[i, 2]),
        }
        if np.isfinite(vertical_speed[i]) and ground_speed[i] <= _GROUND_SPEED_MAX_M_S:
            values[5] = float(heading[i])
            values[56] = int(round(ground_speed[i]))
            values[51] = float(
                np.clip(vertical_speed[i], -_VERTICAL_SPEED_MAX_M_S, _VERTICAL_SPEED_MAX_M_S)
            )
        try:
            out.append(encode_uas_local_set(values))
        except (ValueError, TypeError):  # e.g. a sensor_id with control characters
            skipped["not encodable in ST 0601"] += 1
    return b"".join(out), skipped
