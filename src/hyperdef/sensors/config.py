"""The sensors YAML: validated with pydantic, built into sensor objects.

Degrees, km and the other human units appear only here, at the edge; every sensor
object built from the file holds SI values. The file is one mapping ``sensors:`` with a
list of entries; each entry has ``id``, ``type`` (``radar``, ``space_ir`` or
``airborne``), ``node``, ``releasable_to`` and ``report_latency_s``, and the fields of
its type:

``radar``
    ``preset`` (``s_band_ship`` or ``x_band_ground``) or explicit ``params``
    (``revisit_s``, ``max_range_km``, ``range_ref_km``, ``pd_at_ref`` required then);
    ``params`` given with a preset overrides it. Placement: ``site`` (``lat_deg``,
    ``lon_deg``, ``alt_m``; ships holding station too, ``alt_m`` then the antenna
    height) or ``route`` (``waypoints_deg: [[lat, lon], ...]``, ``speed_m_s``,
    ``t_start_s``, ``antenna_height_m``); ``boresight_az_deg`` for a one-face radar.
``space_ir``
    ``walker`` (``total``, ``planes``, ``phasing``, ``inclination_deg``,
    ``altitude_km``, ``raan0_deg``) or ``tle`` (``epoch`` UTC, ``lines: [[l1, l2],
    ...]``); ``j2``; optional ``payload`` (``nei_w_m2``, ``snr_threshold``,
    ``frame_period_s``, ``earth_background_factor``, ``band_um``).
``airborne``
    ``racetrack`` (``center_lat_deg``, ``center_lon_deg``, ``heading_deg``,
    ``leg_km``, ``altitude_km``, ``speed_m_s``); ``radar`` and ``eoir`` on or off.

Unknown keys are errors. Every error becomes one :class:`~hyperdef.errors.InputError`
line that names the YAML path of the field at fault, e.g. ``sensors[2].node: unknown
node 'XXX' ...``.
"""

from __future__ import annotations

import math
import os
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hyperdef.core.markings import check_node
from hyperdef.errors import InputError

__all__ = ["SensorsFile", "load_sensors", "build_sensors", "parse_sensors"]

#: knot, m/s (exact)
KNOT_M_S = 1852.0 / 3600.0

_TYPE_TAGS = ("radar", "space_ir", "airborne")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _node(value: str) -> str:
    check_node(value, "node")
    return value


# ------------------------------------------------------------------------- radar


class Site(_Model):
    """A fixed ground site or a ship holding station."""

    lat_deg: Annotated[float, Field(ge=-90.0, le=90.0)]
    lon_deg: Annotated[float, Field(ge=-360.0, le=360.0)]
    #: site altitude (ground) or antenna height (ship; default 20 m), m
    alt_m: float | None = None


class Route(_Model):
    """A ship sailing great-circle legs between waypoints."""

    waypoints_deg: Annotated[list[tuple[float, float]], Field(min_length=1)]
    speed_m_s: Annotated[float, Field(ge=0.0)]
    t_start_s: float = 0.0
    antenna_height_m: Annotated[float, Field(ge=0.0, le=100.0)] = 20.0


class RadarParams(_Model):
    """Explicit radar parameters (SI apart from km and deg); each overrides a preset."""

    revisit_s: Annotated[float, Field(gt=0.0)] | None = None
    max_range_km: Annotated[float, Field(gt=0.0)] | None = None
    range_ref_km: Annotated[float, Field(gt=0.0)] | None = None
    rcs_ref_m2: Annotated[float, Field(gt=0.0)] | None = None
    pd_at_ref: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    pfa: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    az_half_width_deg: Annotated[float, Field(gt=0.0, le=180.0)] | None = None
    el_min_deg: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None
    el_max_deg: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None
    beamwidth_deg: Annotated[float, Field(gt=0.0)] | None = None
    range_resolution_m: Annotated[float, Field(gt=0.0)] | None = None
    range_rate_resolution_m_s: Annotated[float, Field(gt=0.0)] | None = None


class _Entry(_Model):
    id: Annotated[str, Field(min_length=1)]
    node: str
    releasable_to: list[str] = []
    report_latency_s: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = 0.0

    @field_validator("node")
    @classmethod
    def _check_node(cls, value: str) -> str:
        return _node(value)

    @field_validator("releasable_to")
    @classmethod
    def _check_nations(cls, value: list[str]) -> list[str]:
        for i, nation in enumerate(value):
            check_node(nation, f"releasable_to[{i}]")
        return value


class RadarEntry(_Entry):
    """A surface radar: a preset or explicit parameters, on a site or a route."""

    type: Literal["radar"]
    preset: Literal["s_band_ship", "x_band_ground"] | None = None
    params: RadarParams = RadarParams()
    site: Site | None = None
    route: Route | None = None
    boresight_az_deg: float | None = None

    @model_validator(mode="after")
    def _check(self) -> RadarEntry:
        if (self.site is None) == (self.route is None):
            raise ValueError("give exactly one of site and route")
        if self.preset == "x_band_ground":
            if self.route is not None:
                raise ValueError("an x_band_ground radar needs a site, not a route")
            if self.boresight_az_deg is None:
                raise ValueError("boresight_az_deg: required for an x_band_ground radar")
        if self.preset is None:
            missing = [
                name
                for name in ("revisit_s", "max_range_km", "range_ref_km", "pd_at_ref")
                if getattr(self.params, name) is None
            ]
            if missing:
                raise ValueError(f"params.{missing[0]}: required without a preset")
        return self


# ---------------------------------------------------------------------- space IR


class Walker(_Model):
    """A Walker delta pattern i: t/p/f in circular orbits."""

    total: Annotated[int, Field(ge=1)]
    planes: Annotated[int, Field(ge=1)]
    phasing: Annotated[int, Field(ge=0)]
    inclination_deg: Annotated[float, Field(ge=0.0, le=180.0)]
    altitude_km: Annotated[float, Field(ge=150.0)]
    raan0_deg: float = 0.0


class Tle(_Model):
    """Two-line element sets and the scenario epoch (UTC) they are propagated from."""

    epoch: datetime
    lines: Annotated[list[tuple[str, str]], Field(min_length=1)]


class Payload(_Model):
    """Overrides of the infrared payload's defaults."""

    band_um: tuple[float, float] | None = None
    nei_w_m2: Annotated[float, Field(gt=0.0)] | None = None
    snr_threshold: Annotated[float, Field(gt=0.0)] | None = None
    frame_period_s: Annotated[float, Field(gt=0.0)] | None = None
    earth_background_factor: Annotated[float, Field(ge=1.0)] | None = None


class SpaceIrEntry(_Entry):
    """A constellation of infrared satellites."""

    type: Literal["space_ir"]
    walker: Walker | None = None
    tle: Tle | None = None
    j2: bool = True
    payload: Payload = Payload()

    @model_validator(mode="after")
    def _check(self) -> SpaceIrEntry:
        if (self.walker is None) == (self.tle is None):
            raise ValueError("give exactly one of walker and tle")
        return self


# ---------------------------------------------------------------------- airborne


class RacetrackSpec(_Model):
    """A racetrack orbit: centre, leg direction and length, altitude, speed."""

    center_lat_deg: Annotated[float, Field(ge=-90.0, le=90.0)]
    center_lon_deg: Annotated[float, Field(ge=-360.0, le=360.0)]
    heading_deg: float = 0.0
    leg_km: Annotated[float, Field(ge=0.0)] = 40.0
    altitude_km: Annotated[float, Field(ge=0.0, le=20.0)] = 15.0
    speed_m_s: Annotated[float, Field(gt=0.0)] = 90.0


class AirborneEntry(_Entry):
    """An MQ-9-class ISR aircraft on a racetrack with a radar and/or an EO/IR."""

    type: Literal["airborne"]
    racetrack: RacetrackSpec
    radar: bool = True
    eoir: bool = True

    @model_validator(mode="after")
    def _check(self) -> AirborneEntry:
        if not (self.radar or self.eoir):
            raise ValueError("radar, eoir: turn at least one sensor on")
        return self


SensorEntry = Annotated[RadarEntry | SpaceIrEntry | AirborneEntry, Field(discriminator="type")]


class SensorsFile(_Model):
    """The whole file: a list of sensors with unique ids."""

    sensors: Annotated[list[SensorEntry], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> SensorsFile:
        seen: set[str] = set()
        for entry in self.sensors:
            if entry.id in seen:
                raise ValueError(f"sensors: duplicate id {entry.id!r}")
            seen.add(entry.id)
        return self


# ------------------------------------------------------------------------ errors


def _yaml_path(loc: tuple[Any, ...]) -> str:
    """``('sensors', 2, 'radar', 'site', 'lat_deg')`` -> ``sensors[2].site.lat_deg``.

    The discriminator tag pydantic puts after a sensor's index is dropped.
    """
    parts: list[str] = []
    previous: Any = None
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif (
            previous is not None
            and isinstance(previous, int)
            and item in _TYPE_TAGS
            and parts[:1] == ["sensors"]
            and len(parts) == 2
        ):
            previous = item
            continue
        else:
            parts.append(("." if parts else "") + str(item))
        previous = item
    return "".join(parts) or "(file)"


def _message(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    if error.get("type") == "extra_forbidden":
        msg = "unknown key"
    elif error.get("type") == "union_tag_invalid":
        msg = f"unknown type {error.get('input', {}).get('type')!r}; allowed: " + ", ".join(
            _TYPE_TAGS
        )
    elif error.get("type") == "union_tag_not_found":
        msg = "missing 'type' (one of " + ", ".join(_TYPE_TAGS) + ")"
    return msg


def _input_error(exc: ValidationError, source: str) -> InputError:
    errors = exc.errors()
    first = errors[0]
    path = _yaml_path(tuple(first["loc"]))
    msg = _message(first)
    # a validator that names its own field ("node: ...") extends the path instead
    head, sep, rest = msg.partition(": ")
    last = path.rsplit(".", 1)[-1]
    if sep and head and " " not in head:
        # "node" at .node, "releasable_to[1]" at .releasable_to: the field names itself
        if path == "(file)" or head.startswith(last):
            path = head if path == "(file)" else path[: len(path) - len(last)] + head
        else:
            path = f"{path}.{head}"
        msg = rest
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InputError(f"{source}{path}: {msg}{more}")


# ------------------------------------------------------------------------ build


def _reporting(entry: _Entry):
    from hyperdef.sensors.base import Reporting

    return Reporting(entry.id, entry.node, tuple(entry.releasable_to), entry.report_latency_s)


def _radar_overrides(p: RadarParams) -> dict[str, float]:
    rad = math.radians
    table = {
        "revisit_s": ("revisit_s", 1.0),
        "max_range_km": ("max_range_m", 1e3),
        "range_ref_km": ("range_ref_m", 1e3),
        "rcs_ref_m2": ("rcs_ref_m2", 1.0),
        "pfa": ("pfa", 1.0),
        "range_resolution_m": ("range_resolution_m", 1.0),
        "range_rate_resolution_m_s": ("range_rate_resolution_m_s", 1.0),
    }
    out: dict[str, float] = {}
    for name, (field, scale) in table.items():
        value = getattr(p, name)
        if value is not None:
            out[field] = value * scale
    for name, field in (
        ("az_half_width_deg", "az_half_width_rad"),
        ("el_min_deg", "el_min_rad"),
        ("el_max_deg", "el_max_rad"),
        ("beamwidth_deg", "beamwidth_rad"),
    ):
        value = getattr(p, name)
        if value is not None:
            out[field] = rad(value)
    return out


def _build_radar(entry: RadarEntry):
    from hyperdef.sensors.radar import (
        FixedSite,
        Radar,
        ShipRoute,
        s_band_ship_radar,
        snr_for_pd_swerling1,
        x_band_ground_radar,
    )

    reporting = _reporting(entry)
    overrides = _radar_overrides(entry.params)
    if entry.boresight_az_deg is not None and entry.preset != "x_band_ground":
        overrides["boresight_az_rad"] = math.radians(entry.boresight_az_deg)
    if entry.route is not None:
        r = entry.route
        platform = ShipRoute(
            tuple(math.radians(w[0]) for w in r.waypoints_deg),
            tuple(math.radians(w[1]) for w in r.waypoints_deg),
            r.speed_m_s,
            r.t_start_s,
            r.antenna_height_m,
        )
    else:
        s = entry.site
        platform = FixedSite(math.radians(s.lat_deg), math.radians(s.lon_deg), s.alt_m or 0.0)
    if entry.preset == "s_band_ship":
        if entry.route is not None:
            radar = s_band_ship_radar(reporting, route=platform, **overrides)
        else:
            s = entry.site
            height = 20.0 if s.alt_m is None else s.alt_m
            radar = s_band_ship_radar(
                reporting, s.lat_deg, s.lon_deg, antenna_height_m=height, **overrides
            )
    elif entry.preset == "x_band_ground":
        s = entry.site
        radar = x_band_ground_radar(
            reporting,
            s.lat_deg,
            s.lon_deg,
            entry.boresight_az_deg,
            alt_m=s.alt_m or 0.0,
            **overrides,
        )
    else:
        pfa = overrides.setdefault("pfa", 1e-6)
        radar = Radar(
            reporting=reporting,
            platform=platform,
            snr_ref=snr_for_pd_swerling1(entry.params.pd_at_ref, pfa),
            **overrides,
        )
    if entry.preset is not None and entry.params.pd_at_ref is not None:
        radar = _replace(radar, snr_ref=snr_for_pd_swerling1(entry.params.pd_at_ref, radar.pfa))
    return radar


def _replace(obj, **changes):
    import dataclasses

    return dataclasses.replace(obj, **changes)


def _build_space_ir(entry: SpaceIrEntry):
    from hyperdef.sensors.infrared import InfraredPayload, SpaceInfraredLayer
    from hyperdef.sensors.orbits import KeplerConstellation, TleConstellation, walker_delta

    if entry.walker is not None:
        w = entry.walker
        elements = walker_delta(
            w.total,
            w.planes,
            w.phasing,
            math.radians(w.inclination_deg),
            w.altitude_km * 1e3,
            math.radians(w.raan0_deg),
        )
        orbits = KeplerConstellation(elements, j2=entry.j2)
    else:
        orbits = TleConstellation(tuple(tuple(pair) for pair in entry.tle.lines), entry.tle.epoch)
    p = entry.payload
    payload_kwargs: dict[str, Any] = {
        name: getattr(p, name)
        for name in ("nei_w_m2", "snr_threshold", "frame_period_s", "earth_background_factor")
        if getattr(p, name) is not None
    }
    if p.band_um is not None:
        payload_kwargs["band_m"] = (p.band_um[0] * 1e-6, p.band_um[1] * 1e-6)
    return SpaceInfraredLayer(orbits, _reporting(entry), InfraredPayload(**payload_kwargs))


def _build_airborne(entry: AirborneEntry):
    from hyperdef.sensors.airborne import AirborneEoIr, AirborneIsr, AirborneRadar, Racetrack

    r = entry.racetrack
    orbit = Racetrack(
        math.radians(r.center_lat_deg),
        math.radians(r.center_lon_deg),
        altitude_m=r.altitude_km * 1e3,
        heading_rad=math.radians(r.heading_deg),
        leg_length_m=r.leg_km * 1e3,
        speed_m_s=r.speed_m_s,
    )
    return AirborneIsr(
        orbit,
        _reporting(entry),
        radar=AirborneRadar() if entry.radar else None,
        eoir=AirborneEoIr() if entry.eoir else None,
    )


_BUILDERS = {"radar": _build_radar, "space_ir": _build_space_ir, "airborne": _build_airborne}


def build_sensors(config: SensorsFile, source: str = "") -> list:
    """Sensor objects of a validated file, in file order.

    Raises
    ------
    hyperdef.errors.InputError
        ``sensors[i]: <field>: <why>`` when a sensor's own checks reject a value.
    """
    sensors = []
    for i, entry in enumerate(config.sensors):
        try:
            sensors.append(_BUILDERS[entry.type](entry))
        except InputError as exc:
            raise InputError(f"{source}sensors[{i}]: {exc}") from None
    return sensors


def parse_sensors(data: Any, source: str = "") -> list:
    """Validate a parsed YAML document and build its sensors."""
    if not isinstance(data, dict):
        raise InputError(f"{source}(file): expected a mapping with a 'sensors' list")
    try:
        config = SensorsFile.model_validate(data)
    except ValidationError as exc:
        raise _input_error(exc, source) from None
    return build_sensors(config, source)


def load_sensors(path: str | os.PathLike[str]) -> list:
    """Read a sensors YAML file and build its sensors (SI inside).

    Parameters
    ----------
    path : str or path-like
        The YAML file.

    Returns
    -------
    list
        :class:`~hyperdef.sensors.radar.Radar`,
        :class:`~hyperdef.sensors.infrared.SpaceInfraredLayer` and
        :class:`~hyperdef.sensors.airborne.AirborneIsr` objects, in file order.

    Raises
    ------
    hyperdef.errors.InputError
        One line: a missing or unreadable file, bad YAML, or ``<file>: sensors[i].field:
        why`` for a field at fault.
    """
    import yaml

    source = f"{os.fspath(path)}: "
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise InputError(f"{os.fspath(path)}: no such sensors file") from None
    except OSError as exc:
        raise InputError(f"{os.fspath(path)}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"{os.fspath(path)}: bad YAML{where}: {problem}") from None
    return parse_sensors(data, source)


def validation_error(exc: ValidationError, source: str = "") -> InputError:
    """One-line :class:`InputError` naming the YAML path of the first field at fault."""
    return _input_error(exc, source)
