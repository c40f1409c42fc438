"""EUROCONTROL ASTERIX in and out: CAT 048 radar plots and CAT 062 system tracks.

Decoding and encoding use the pure-Python PyPI package ``libasterix`` (module
``asterix``) with the editions it ships as ``Cat_048_1_31`` and ``Cat_062_1_20``.

CAT 048 (monoradar target reports) -> Detections, ``meas_type`` ``rae``
    ``z = (RHO, THETA, elevation)``: slant range I048/040 RHO (NM -> m, 1852 m/NM),
    azimuth I048/040 THETA (deg from north -> rad) and the elevation that puts the
    target at its measured height, I048/110 3-D height or else I048/090 flight level
    (FL x 100 ft; pressure altitude used as geometric height), seen from the radar site.
    The site (lat deg, lon deg, alt m) comes from ``sites[(SAC, SIC)]`` (I048/010).
    Heights are taken as heights above the WGS-84 ellipsoid (the geoid undulation, tens
    of metres, is ignored).

    Elevation: a radar derives the height it reports from its measured, refracted
    elevation with the 4/3-Earth model (effective radius k a, k = 4/3: the height
    equation ``h = sqrt(r^2 + (k a)^2 + 2 r k a sin(el)) - k a + h_site`` of Skolnik
    [Sko01] and Doerry [Doe13]). The reported height is therefore the radar's estimate
    of the true height, and the Detections table wants the geometric elevation in the
    site's ENU frame (DESIGN.md, no refraction). The reader solves the same height
    equation with the true radius (k = 1, Gaussian radius of curvature at the site) for
    a first guess and refines it with Newton steps on the WGS-84 ellipsoid
    (``hyperdef.core.frames``) until the converted point has the reported height; using
    k = 4/3 here would put back the refraction the radar already removed. A height that
    the slant range cannot reach is skipped (``height inconsistent with slant range``).

    ``R = diag(sigma_r^2, sigma_az^2, sigma_el^2)`` with the EUROCONTROL radar
    standard's SSR accuracies [ERS97] (:data:`RANGE_SIGMA_M`,
    :data:`AZIMUTH_SIGMA_RAD`) and ``sigma_el = sigma_h / (r cos(el))`` from an
    assumed height error (:data:`HEIGHT_SIGMA_3D_M`, :data:`HEIGHT_SIGMA_FL_M`).
    ``sensor_id`` is ``asterix:SAC/SIC``, ``sensor_x..z`` the site in ECEF, sensor
    velocity 0, ``snr`` NaN, ``truth_id`` -1, ``false_alarm`` False.

CAT 062 (SDPS system tracks) -> Tracks
    ``track_id`` I062/040 track number; position I062/105 (WGS-84 lat, lon) at height
    I062/130 (geometric altitude) or else I062/136 (measured flight level) or else 0;
    velocity: I062/185 (Vx, Vy) taken as east and north at the track position (the
    SDPS Cartesian frame is a stereographic plane about a system reference point the
    data do not carry; near it the axes are east and north), vertical I062/220 rate of
    climb/descent; ``status`` from I062/080 (TSE set: ``deleted``, CNF set:
    ``tentative``, else ``confirmed``). ``P`` from I062/500 where present: APC (sigma
    x, y), COV (sign(c) sqrt|c| of the x-y covariance), AGA (altitude), ATV (sigma vx,
    vy), ARC (rate of climb). A missing accuracy reads conservatively: 1 km
    horizontally and in altitude (30 km with no altitude at all), 3000 m/s per
    velocity component (the tracker's one-point initialisation default). Extra columns
    ``sac`` and ``sic`` (int) name the SDPS.

Time
    ASTERIX carries only the UTC time of day (I048/140, I062/070, 1/128 s). The date
    is the UTC date of ``epoch`` (default: midnight UTC today), so ``t = tod + (that
    midnight - epoch)``. Data that cross midnight need one call per day.

Releasability and node
    ASTERIX carries no releasability: ``marking`` and ``node`` are required arguments
    (an :class:`InputError` naming them before any decoding).

Bad input
    A data block whose length field runs past the data, an unsupported category, a
    block libasterix cannot decode, and records missing a needed item or naming an
    unknown radar site are skipped and counted by reason. ``packets`` counts records
    decoded plus blocks skipped whole, so ``packets == records + sum(skipped.values())``.

References
----------
.. [A048] EUROCONTROL, "EUROCONTROL Specification for Surveillance Data Exchange, ASTERIX
   Part 4, Category 048: Monoradar Target Reports", edition 1.31.
.. [A062] EUROCONTROL, "ASTERIX Part 9, Category 062: SDPS Track Messages", edition 1.20.
.. [ERS97] EUROCONTROL, "Standard for Radar Surveillance in En-Route Airspace and Major
   Terminal Areas", SUR.ET1.ST01.1000-STD-01-01, 1997 (SSR: range sigma 70 m, azimuth
   sigma 0.08 deg).
.. [Sko01] M. I. Skolnik, "Introduction to Radar Systems", 3rd ed., McGraw-Hill, 2001,
   section 8.2 (4/3-Earth model, height equation).
.. [Doe13] A. W. Doerry, "Earth Curvature and Atmospheric Refraction Effects on Radar
   Signal Propagation", Sandia report SAND2012-10690, 2013.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from hyperdef.core.earth import WGS84_A_M, WGS84_E2
from hyperdef.core.frames import aer_to_ecef, ecef_to_lla, enu_rotation, lla_to_ecef
from hyperdef.core.markings import check_node
from hyperdef.errors import InputError
from hyperdef.io import IngestResult, default_epoch
from hyperdef.io.cot import (
    check_data,
    check_epoch,
    check_marking,
    seconds_between,
    tracks_table,
)

__all__ = [
    "AZIMUTH_SIGMA_RAD",
    "HEIGHT_SIGMA_3D_M",
    "HEIGHT_SIGMA_FL_M",
    "RANGE_SIGMA_M",
    "read_asterix",
    "write_asterix",
]

NM_M = 1852.0
FT_M = 0.3048
FT_MIN_M_S = FT_M / 60.0
DAY_S = 86400.0
#: SSR slant-range standard deviation, m [ERS97]
RANGE_SIGMA_M = 70.0
#: SSR azimuth standard deviation, rad [ERS97]
AZIMUTH_SIGMA_RAD = math.radians(0.08)
#: assumed standard deviation of a 3-D radar height (I048/110), m
HEIGHT_SIGMA_3D_M = 300.0
#: assumed standard deviation of a flight level used as height (I048/090), m: pressure
#: altitude departs from geometric height by up to a few hundred metres off-standard
HEIGHT_SIGMA_FL_M = 150.0
#: CAT 062 standard deviations where I062/500 gives no accuracy, m and m/s
TRACK_POSITION_SIGMA_M = 1000.0
TRACK_ALTITUDE_SIGMA_M = 1000.0
UNKNOWN_ALTITUDE_SIGMA_M = 30000.0
UNKNOWN_VELOCITY_SIGMA_M_S = 3000.0
_NEWTON_STEPS = 5
_HEIGHT_TOLERANCE_M = 1e-4
_MAX_BLOCK = 65535
_RECORDS_PER_BLOCK = 100

_GEN = None


def _gen():
    """The libasterix generated module (imported on first use: it takes about 1 s)."""
    global _GEN
    if _GEN is None:
        import asterix.generated as gen

        _GEN = gen
    return _GEN


# ---------------------------------------------------------------------- arguments


def _check_sites(sites) -> dict[tuple[int, int], tuple[float, float, float]]:
    if sites is None:
        return {}
    if not isinstance(sites, Mapping):
        raise InputError(f"sites: expected a mapping (SAC, SIC) -> (lat, lon, alt), got {sites!r}")
    checked = {}
    for key, value in sites.items():
        ok_key = (
            isinstance(key, tuple) and len(key) == 2
            and all(isinstance(k, int | np.integer) and 0 <= k <= 255 for k in key)
        )
        if not ok_key:
            raise InputError(f"sites: key {key!r} is not a (SAC, SIC) pair of ints 0-255")
        key = (int(key[0]), int(key[1]))
        try:
            lat, lon, alt = (float(v) for v in value)
        except (TypeError, ValueError):
            raise InputError(
                f"sites[{key}]: {value!r} is not (lat deg, lon deg, alt m)"
            ) from None
        if not (math.isfinite(lon) and math.isfinite(alt) and -90.0 <= lat <= 90.0):
            raise InputError(f"sites[{key}]: latitude {lat} outside [-90, 90] or not finite")
        checked[key] = (lat, lon, alt)
    return checked


def _midnight_offset(epoch: datetime) -> float:
    """Seconds from ``epoch`` to midnight UTC of its date (<= 0)."""
    midnight = datetime(epoch.year, epoch.month, epoch.day, tzinfo=UTC)
    return seconds_between(midnight, epoch)


# ------------------------------------------------------------------------ decoding


def _q(item, *path_unit):
    """Quantity of a (possibly nested) item: _q(item, 'RHO', 'NM') -> float."""
    *path, unit = path_unit
    variation = item.variation
    for key in path:
        variation = variation.get_item(key).variation
    return variation.content.as_quantity(unit)


def _sub(variation, key):
    sub = variation.get_item(key)
    return None if sub is None else sub.variation


def _blocks(data: bytes, skipped: Counter):
    """(category, record bytes) of each data block; bad framing counted and stops."""
    offset, n = 0, len(data)
    while offset < n:
        if n - offset < 3:
            skipped["truncated data block"] += 1
            return
        length = int.from_bytes(data[offset + 1 : offset + 3], "big")
        if length < 3 or offset + length > n:
            skipped["truncated data block"] += 1
            return
        yield data[offset], data[offset + 3 : offset + length]
        offset += length


def _decode_records(spec, body: bytes):
    """Records of one block, or None when libasterix cannot decode it."""
    from asterix.base import Bits

    if not body:
        return None
    try:
        records = spec.cv_uap.parse(Bits.from_bytes(body))
    except Exception:  # noqa: BLE001 - a third-party decoder on untrusted bytes
        return None
    return None if isinstance(records, ValueError) else records


def _plot_fields(record, sites) -> tuple | str:
    """(sac, sic, tod s, rho m, theta rad, height m, height sigma m) or the reason."""
    for item in ("010", "140", "040"):
        if record.get_item(item) is None:
            return f"missing I048/{item}"
    sac = record.get_item("010").variation.get_item("SAC").variation.content.as_uint()
    sic = record.get_item("010").variation.get_item("SIC").variation.content.as_uint()
    if (sac, sic) not in sites:
        return "unknown radar site SAC/SIC"
    tod = _q(record.get_item("140"), "s")
    rho = _q(record.get_item("040"), "RHO", "NM") * NM_M
    theta = math.radians(_q(record.get_item("040"), "THETA", "°"))
    if record.get_item("110") is not None:
        height, sigma = _q(record.get_item("110"), "3DH", "ft") * FT_M, HEIGHT_SIGMA_3D_M
    elif record.get_item("090") is not None:
        height, sigma = _q(record.get_item("090"), "FL", "FL") * 100.0 * FT_M, HEIGHT_SIGMA_FL_M
    else:
        return "no height (I048/110 or I048/090)"
    if rho <= 0.0:
        return "zero slant range"
    return sac, sic, tod, rho, theta, height, sigma


def _elevation(rho, azimuth, height, site_lla) -> np.ndarray:
    """Geometric elevation (rad) putting a target at ``height`` (m) at slant range ``rho``.

    First guess from the spherical height equation with the Gaussian radius of
    curvature at the site (k = 1, [Sko01] section 8.2), then Newton steps on the
    ellipsoid (until the height is within 0.1 mm, at most 5 steps). NaN where the height
    cannot be reached at that range (or the steps leave it more than 1 m off).
    """
    lat, alt_site = site_lla[:, 0], site_lla[:, 2]
    w = 1.0 - WGS84_E2 * np.sin(lat) ** 2
    radius = WGS84_A_M * np.sqrt(1.0 - WGS84_E2) / w
    rho_site, rho_target = radius + alt_site, radius + height
    sin_el = (rho_target**2 - rho_site**2 - rho**2) / (2.0 * rho * rho_site)
    reachable = np.abs(sin_el) <= 1.0
    el = np.arcsin(np.clip(sin_el, -1.0, 1.0))
    def residual_m(el):
        aer = np.stack((rho, azimuth, el), axis=-1)
        return ecef_to_lla(aer_to_ecef(aer, site_lla, check=False))[:, 2] - height

    residual = residual_m(el)
    for _ in range(_NEWTON_STEPS):
        if np.all(np.abs(residual[reachable]) < _HEIGHT_TOLERANCE_M):
            break
        step = residual / (rho * np.maximum(np.cos(el), 1e-6))
        el = np.clip(el - step, -0.5 * np.pi, 0.5 * np.pi)
        residual = residual_m(el)
    return np.where(reachable & (np.abs(residual) < 1.0), el, np.nan)


def _detections(plots: list[tuple], sites, node, marking, day_offset) -> tuple[pa.Table, int]:
    """Detections table of decoded plots and the number dropped by the height check."""
    from hyperdef.sensors.detections import make_detections

    sac, sic, tod, rho, theta, height, sigma_h = (np.array(c) for c in zip(*plots, strict=True))
    site_deg = np.array([sites[(a, b)] for a, b in zip(sac, sic, strict=True)], dtype=float)
    site_lla = np.stack((np.radians(site_deg[:, 0]), np.radians(site_deg[:, 1]), site_deg[:, 2]), 1)
    el = _elevation(rho, theta, height, site_lla)
    good = ~np.isnan(el)
    n = int(good.sum())
    sigma_el = sigma_h / (rho * np.maximum(np.cos(el), 1e-3))
    R = np.zeros((n, 3, 3))
    R[:, 0, 0] = RANGE_SIGMA_M**2
    R[:, 1, 1] = AZIMUTH_SIGMA_RAD**2
    R[:, 2, 2] = sigma_el[good] ** 2
    t = tod[good] + day_offset
    table = make_detections(
        t=t, t_report=t,
        sensor_id=np.array([f"asterix:{a}/{b}" for a, b in zip(sac[good], sic[good], strict=True)],
                           dtype=object),
        node=node, meas_type="rae",
        z=np.stack((rho[good], theta[good], el[good]), axis=-1),
        R=R, sensor_r_ecef_m=lla_to_ecef(site_lla[good], check=False),
        sensor_v_ecef_m_s=np.zeros(3), snr=np.nan,
        truth_id=np.full(n, -1, np.int64), false_alarm=False, marking=marking,
    )
    return table, len(plots) - n


def _track_fields(record) -> tuple | str:
    """Values of one CAT 062 record (tuple, NaN where absent) or the reason skipped."""
    for item in ("010", "040", "070", "105"):
        if record.get_item(item) is None:
            return f"missing I062/{item}"
    nan = math.nan
    sac = record.get_item("010").variation.get_item("SAC").variation.content.as_uint()
    sic = record.get_item("010").variation.get_item("SIC").variation.content.as_uint()
    number = record.get_item("040").variation.content.as_uint()
    tod = _q(record.get_item("070"), "s")
    lat = _q(record.get_item("105"), "LAT", "°")
    lon = _q(record.get_item("105"), "LON", "°")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return "latitude or longitude out of range"
    if record.get_item("130") is not None:
        alt = _q(record.get_item("130"), "ft") * FT_M
    elif record.get_item("136") is not None:
        alt = _q(record.get_item("136"), "FL") * 100.0 * FT_M
    else:
        alt = nan
    vx = vy = vz = nan
    if record.get_item("185") is not None:
        vx, vy = _q(record.get_item("185"), "VX", "m/s"), _q(record.get_item("185"), "VY", "m/s")
    if record.get_item("220") is not None:
        vz = _q(record.get_item("220"), "ft/min") * FT_MIN_M_S
    status = "confirmed"
    if record.get_item("080") is not None:
        flags = record.get_item("080").variation
        if _flag(flags, "TSE"):
            status = "deleted"
        elif _flag(flags, "CNF"):
            status = "tentative"
    return (sac, sic, number, tod, lat, lon, alt, vx, vy, vz, status, *_accuracies(record))


def _flag(variation, key) -> bool:
    sub = _sub(variation, key)
    return sub is not None and sub.content.as_uint() == 1


def _accuracies(record) -> tuple[float, ...]:
    """(sx, sy, cov_xy_signed_root, s_alt, svx, svy, s_roc) from I062/500, NaN if absent."""
    out = [math.nan] * 7
    item = record.get_item("500")
    if item is None:
        return tuple(out)
    acc = item.variation
    if _sub(acc, "APC") is not None:
        out[0], out[1] = _q(acc.get_item("APC"), "X", "m"), _q(acc.get_item("APC"), "Y", "m")
    if _sub(acc, "COV") is not None:
        out[2] = _q(acc.get_item("COV"), "m")
    if _sub(acc, "AGA") is not None:
        out[3] = _q(acc.get_item("AGA"), "ft") * FT_M
    if _sub(acc, "ATV") is not None:
        out[4] = _q(acc.get_item("ATV"), "X", "m/s")
        out[5] = _q(acc.get_item("ATV"), "Y", "m/s")
    if _sub(acc, "ARC") is not None:
        out[6] = _q(acc.get_item("ARC"), "ft/min") * FT_MIN_M_S
    return tuple(out)


def _or(values: np.ndarray, default) -> np.ndarray:
    return np.where(np.isnan(values), default, values)


def _tracks(rows: list[tuple], node: str, marking: str, day_offset: float) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    sac, sic, number = (np.array(c, dtype=np.int64) for c in columns[:3])
    tod, lat, lon, alt, vx, vy, vz = (np.array(c, dtype=float) for c in columns[3:10])
    status = list(columns[10])
    sx, sy, cxy, s_alt, svx, svy, s_roc = (np.array(c, dtype=float) for c in columns[11:])
    n = len(rows)
    known_alt = ~np.isnan(alt)
    lla = np.stack((np.radians(lat), np.radians(lon), _or(alt, 0.0)), axis=-1)
    rotation = enu_rotation(lla, check=False)
    velocity_enu = np.stack((_or(vx, 0.0), _or(vy, 0.0), _or(vz, 0.0)), axis=-1)
    cov = np.zeros((n, 6, 6))
    cov[:, 0, 0] = _or(sx, TRACK_POSITION_SIGMA_M) ** 2
    cov[:, 1, 1] = _or(sy, TRACK_POSITION_SIGMA_M) ** 2
    cov[:, 0, 1] = cov[:, 1, 0] = np.sign(_or(cxy, 0.0)) * _or(cxy, 0.0) ** 2
    altitude_default = np.where(known_alt, TRACK_ALTITUDE_SIGMA_M, UNKNOWN_ALTITUDE_SIGMA_M)
    cov[:, 2, 2] = np.where(np.isnan(s_alt), altitude_default, s_alt) ** 2
    cov[:, 3, 3] = _or(svx, UNKNOWN_VELOCITY_SIGMA_M_S) ** 2
    cov[:, 4, 4] = _or(svy, UNKNOWN_VELOCITY_SIGMA_M_S) ** 2
    cov[:, 5, 5] = _or(s_roc, UNKNOWN_VELOCITY_SIGMA_M_S) ** 2
    P = np.zeros((n, 6, 6))
    for a in (0, 3):
        P[:, a:a + 3, a:a + 3] = np.einsum(
            "nki,nkl,nlj->nij", rotation, cov[:, a:a + 3, a:a + 3], rotation
        )
    state = np.concatenate(
        (lla_to_ecef(lla, check=False), np.einsum("nki,nk->ni", rotation, velocity_enu)), axis=1
    )
    return tracks_table(
        t=tod + day_offset, track_id=number, node=[node] * n, status=status, state=state, P=P,
        marking=[marking] * n, extra={"sac": pa.array(sac), "sic": pa.array(sic)},
    )


def read_asterix(
    data: bytes,
    *,
    marking: str | None = None,
    node: str | None = None,
    epoch: datetime | None = None,
    sites: Mapping[tuple[int, int], tuple[float, float, float]] | None = None,
) -> IngestResult:
    """Read ASTERIX CAT 048 plots into Detections and CAT 062 tracks into Tracks.

    Parameters
    ----------
    data : bytes
        Concatenated ASTERIX data blocks (category octet, 2-octet length, records).
    marking : str
        Releasability of every record (``REL TO USA, JPN``); required, ASTERIX carries
        none.
    node : str
        ISO 3166 trigraph of the nation that operates the radars/SDPS; required.
    epoch : datetime, optional
        Timezone-aware UTC instant ``t`` counts from; its UTC date is the date of the
        data (default: midnight UTC today).
    sites : mapping, optional
        Radar site per (SAC, SIC): (lat deg, lon deg, alt m, WGS-84). CAT 048 records
        of a radar not listed are skipped.

    Returns
    -------
    IngestResult
        ``format`` ``"asterix"``; ``detections`` (CAT 048, ``rae``) and ``tracks``
        (CAT 062, with ``sac`` and ``sic`` columns), each None when the data hold no
        record of that category; counts of skipped records and blocks by reason.

    Raises
    ------
    InputError
        For a missing or bad ``marking`` or ``node``, a naive ``epoch``, bad ``sites``
        or ``data`` that are not bytes; never for bad data blocks.

    References
    ----------
    [A048], [A062], [ERS97], [Sko01], [Doe13] (module notes).
    """
    if marking is None:
        raise InputError("marking: required, ASTERIX carries no releasability ('REL TO USA')")
    marking = check_marking(marking)
    if node is None:
        raise InputError("node: required, the ISO 3166 trigraph of the nation operating the radar")
    check_node(node, "node")
    data = check_data(data)
    epoch = check_epoch(epoch) or default_epoch(None)
    sites = _check_sites(sites)
    gen = _gen()
    specs = {48: gen.Cat_048_1_31, 62: gen.Cat_062_1_20}
    skipped: Counter = Counter()
    plots: list[tuple] = []
    tracks: list[tuple] = []
    for category, body in _blocks(data, skipped):
        if category not in specs:
            skipped[f"unsupported category {category}"] += 1
            continue
        records = _decode_records(specs[category], body)
        if records is None:
            skipped["corrupt data block"] += 1
            continue
        fields_of = _track_fields if category == 62 else (lambda r: _plot_fields(r, sites))
        target = tracks if category == 62 else plots
        for record in records:
            try:
                fields = fields_of(record)
            except Exception:  # noqa: BLE001 - a third-party decoder on untrusted bytes
                fields = "undecodable record"
            if isinstance(fields, str):
                skipped[fields] += 1
            else:
                target.append(fields)
    day_offset = _midnight_offset(epoch)
    detections = None
    if plots:
        detections, unreachable = _detections(plots, sites, node, marking, day_offset)
        if unreachable:
            skipped["height inconsistent with slant range"] += unreachable
    table = _tracks(tracks, node, marking, day_offset) if tracks else None
    records = (detections.num_rows if detections is not None else 0) + len(tracks)
    return IngestResult(
        format="asterix", epoch=epoch, detections=detections, tracks=table,
        packets=records + sum(skipped.values()), skipped=skipped,
    )


# ------------------------------------------------------------------------ encoding


def _pack(spec, records: list, category: int) -> bytes:
    """Data blocks of at most :data:`_RECORDS_PER_BLOCK` records (and 65535 octets)."""
    out = []
    for start in range(0, len(records), _RECORDS_PER_BLOCK):
        chunk = records[start : start + _RECORDS_PER_BLOCK]
        body = b"".join(r.unparse().to_bytes() for r in chunk)
        if len(body) + 3 > _MAX_BLOCK:  # pragma: no cover - 100 records are far smaller
            raise InputError(f"table: records too large for one category {category} block")
        out.append(bytes([category]) + (len(body) + 3).to_bytes(2, "big") + body)
    return b"".join(out)


def _time_of_day(t: np.ndarray, epoch: datetime) -> np.ndarray:
    return np.mod(t - _midnight_offset(epoch), DAY_S)


def _within(values: np.ndarray, limit: float) -> np.ndarray:
    """Rows (first axis) whose values all lie within +-limit (and are finite)."""
    inside = np.abs(values) <= limit
    return inside if inside.ndim == 1 else inside.all(axis=tuple(range(1, inside.ndim)))


def _write_plots(table: pa.Table, epoch: datetime, sac: int, sic: int, counts: Counter) -> bytes:
    from hyperdef.sensors.detections import measurements

    spec = _gen().Cat_048_1_31
    kinds = table.column("meas_type").to_pylist()
    rows_list, z_list = [], []
    for kind in ("rae", "raer"):
        rows, z, _ = measurements(table, kind)
        rows_list.append(rows)
        z_list.append(z[:, :3])
    rows, z = np.concatenate(rows_list), np.concatenate(z_list)
    counts["not a rae/raer report"] += len(kinds) - rows.size
    order = np.argsort(rows, kind="stable")
    rows, z = rows[order], z[order]
    sensors = {table.column("sensor_id")[int(r)].as_py() for r in rows}
    if len(sensors) > 1:
        raise InputError(
            f"table: reports of {len(sensors)} sensors; a SAC/SIC names one radar, "
            "write one sensor per call"
        )
    site = np.stack([table.column(c).to_numpy()[rows] for c in ("sensor_x", "sensor_y",
                                                                "sensor_z")], axis=1)
    site_lla = ecef_to_lla(site)
    height = ecef_to_lla(aer_to_ecef(z, site_lla, check=False))[:, 2]
    tod = _time_of_day(table.column("t").to_numpy()[rows], epoch)
    in_range = np.isfinite(z).all(axis=1) & (z[:, 0] < 256.0 * NM_M) & np.isfinite(tod)
    counts["slant range beyond I048/040 (256 NM) or not finite"] += int((~in_range).sum())
    low = _within(height / FT_M, 8191 * 25.0)
    counts["height beyond I048/110 range"] += int((in_range & ~low).sum())
    keep = in_range & low
    height_ft = height[keep] / FT_M
    records = [
        spec.cv_record.create({
            "010": (("SAC", sac), ("SIC", sic)),
            "140": (float(s), "s"),
            "040": (("RHO", (float(r / NM_M), "NM")),
                    ("THETA", (float(np.degrees(a) % 360.0), "°"))),
            "110": (0, ("3DH", (float(h), "ft"))),
        })
        for s, r, a, h in zip(tod[keep], z[keep, 0], z[keep, 1], height_ft, strict=True)
    ]
    counts["written"] += len(records)
    return _pack(spec, records, 48)


def _track_record(spec, sac, sic, values) -> object:
    number, tod, lat, lon, alt_ft, ve, vn, roc, status, acc = values
    return spec.cv_record.create({
        "010": (("SAC", sac), ("SIC", sic)),
        "040": int(number),
        "070": (float(tod), "s"),
        "080": (1 if status == "tentative" else 0, (1 << 5) if status == "deleted" else 0),
        "105": (("LAT", (float(lat), "°")), ("LON", (float(lon), "°"))),
        "130": (float(alt_ft), "ft"),
        "185": (("VX", (float(ve), "m/s")), ("VY", (float(vn), "m/s"))),
        "220": (float(roc), "ft/min"),
        "500": _accuracy_item(acc) or None,
    })


def _accuracy_item(acc) -> dict:
    """I062/500 subfields of the finite accuracies (NaN marks one beyond its range)."""
    sx, sy, cxy, s_alt, svx, svy, s_roc = (float(a) for a in acc)
    item = {}
    if math.isfinite(sx) and math.isfinite(sy):
        item["APC"] = (("X", (sx, "m")), ("Y", (sy, "m")))
    if math.isfinite(cxy):
        item["COV"] = (cxy, "m")
    if math.isfinite(s_alt):
        item["AGA"] = (s_alt, "ft")
    if math.isfinite(svx) and math.isfinite(svy):
        item["ATV"] = (("X", (svx, "m/s")), ("Y", (svy, "m/s")))
    if math.isfinite(s_roc):
        item["ARC"] = (s_roc, "ft/min")
    return item


def _write_tracks(table: pa.Table, epoch: datetime, sac: int, sic: int, counts: Counter) -> bytes:
    spec = _gen().Cat_062_1_20
    n = table.num_rows
    state = np.stack([table.column(c).to_numpy() for c in ("x", "y", "z", "vx", "vy", "vz")], 1)
    P = table.column("P").combine_chunks().flatten().to_numpy().reshape(n, 6, 6)
    keep = np.isfinite(state).all(axis=1) & np.isfinite(P).all(axis=(1, 2))
    keep &= np.isfinite(table.column("t").to_numpy())
    counts["non-finite state or time"] += int((~keep).sum())
    rows = np.flatnonzero(keep)
    state, P = state[rows], P[rows]
    lla = ecef_to_lla(state[:, :3])
    rotation = enu_rotation(lla, check=False)
    v_enu = np.einsum("nij,nj->ni", rotation, state[:, 3:])
    cov_r = np.einsum("nik,nkl,njl->nij", rotation, P[:, :3, :3], rotation)
    cov_v = np.einsum("nik,nkl,njl->nij", rotation, P[:, 3:, 3:], rotation)
    ids = table.column("track_id").to_numpy()[rows]
    counts["track_id wrapped to 16 bits"] += int((ids > 0xFFFF).sum() + (ids < 0).sum())
    alt_ft, roc = lla[:, 2] / FT_M, v_enu[:, 2] / FT_MIN_M_S
    fits = {
        "altitude beyond I062/130 range": _within(alt_ft, 32767 * 6.25),
        "velocity beyond I062/185 range": _within(v_enu[:, :2], 32767 * 0.25),
        "climb rate beyond I062/220 range": _within(roc, 32767 * 6.25),
    }
    good = np.ones(rows.size, dtype=bool)
    for reason, ok in fits.items():
        counts[reason] += int((good & ~ok).sum())
        good &= ok
    cxy = cov_r[:, 0, 1]
    accuracy = np.stack((
        np.sqrt(np.maximum(cov_r[:, 0, 0], 0)),
        np.sqrt(np.maximum(cov_r[:, 1, 1], 0)),
        np.sign(cxy) * np.sqrt(np.abs(cxy)),
        np.sqrt(np.maximum(cov_r[:, 2, 2], 0)) / FT_M,
        np.sqrt(np.maximum(cov_v[:, 0, 0], 0)),
        np.sqrt(np.maximum(cov_v[:, 1, 1], 0)),
        np.sqrt(np.maximum(cov_v[:, 2, 2], 0)) / FT_MIN_M_S,
    ), axis=1)
    limits = np.array([65535 * 0.5, 65535 * 0.5, 32767 * 0.5, 255 * 6.25, 255 * 0.25,
                       255 * 0.25, 255 * 6.25])
    over = accuracy > limits
    counts["accuracy beyond I062/500 range, omitted"] += int((good & over.any(axis=1)).sum())
    accuracy = np.where(over, np.nan, accuracy)
    tod = _time_of_day(table.column("t").to_numpy()[rows], epoch)
    status = table.column("status").to_pylist()
    records = [
        _track_record(spec, sac, sic, (
            int(ids[k]) & 0xFFFF, tod[k], np.degrees(lla[k, 0]), np.degrees(lla[k, 1]),
            alt_ft[k], v_enu[k, 0], v_enu[k, 1], roc[k], status[row], accuracy[k],
        ))
        for k, row in enumerate(rows)
        if good[k]
    ]
    counts["written"] += len(records)
    return _pack(spec, records, 62)


def write_asterix(
    table: pa.Table, epoch: datetime, *, sac: int = 0, sic: int = 1
) -> tuple[bytes, Counter]:
    """Write Detections as CAT 048 plots or Tracks as CAT 062 system tracks.

    Detections: ``rae``/``raer`` rows of one sensor become plots with I048/010 (SAC,
    SIC), I048/140 time of day, I048/040 (RHO, THETA) and I048/110 3-D height (the
    ellipsoidal height of the converted position); other types are left out. Tracks:
    every row becomes a track with I062/010, 040 (``track_id`` modulo 2^16), 070, 080
    (CNF for tentative, TSE for deleted), 105, 130, 185 (east, north), 220 and 500
    (APC, COV, AGA, ATV, ARC from ``P``, module notes). Rows with a value beyond its
    item's range (slant range over 256 NM, height or altitude over about 62 km, speed
    over 8191 m/s, climb rate over 1040 m/s) are left out and counted, never clipped;
    an accuracy beyond its I062/500 subfield's range is omitted (the reader then uses
    its default) and counted.

    Parameters
    ----------
    table : pyarrow.Table
        Detections or Tracks table.
    epoch : datetime
        Timezone-aware UTC instant ``t`` counts from; times are written as UTC time
        of day.
    sac, sic : int, optional
        System area code and system identification code, 0-255.

    Returns
    -------
    bytes
        ASTERIX data blocks.
    collections.Counter
        ``written`` records and rows left out or clipped, by reason.

    Raises
    ------
    InputError
        For a table that is neither Detections nor Tracks, detections of several
        sensors, a naive ``epoch`` or a ``sac``/``sic`` outside 0-255.

    References
    ----------
    [A048], [A062] (module notes).
    """
    if not isinstance(table, pa.Table):
        raise InputError(f"table: expected a pyarrow.Table, got {type(table).__name__}")
    for name, value in (("sac", sac), ("sic", sic)):
        if not isinstance(value, int) or not 0 <= value <= 255:
            raise InputError(f"{name}: {value!r} must be an integer 0-255")
    checked = check_epoch(epoch)
    if checked is None:
        raise InputError("epoch: required, a timezone-aware datetime")
    names = set(table.column_names)
    counts: Counter = Counter()
    if {"t", "track_id", "status", "x", "y", "z", "vx", "vy", "vz", "P"} <= names:
        data = _write_tracks(table, checked, sac, sic, counts)
    elif {"t", "meas_type", "z", "R", "sensor_id", "sensor_x", "sensor_y", "sensor_z"} <= names:
        data = _write_plots(table, checked, sac, sic, counts)
    else:
        raise InputError("table: not a Tracks or Detections table (missing columns)")
    return data, +counts
