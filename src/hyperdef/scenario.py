"""Scenario files: one YAML document describing a whole run of the kill chain.

```yaml
name: single_hgv
seed: 1
threats:                      # flown from launch to impact, in the order given
  - {kind: hgv, from: [38.0, 118.0], to: [26.2, 127.7], launch_time_s: 0, maneuver: weave}
sensors: [...]                # exactly the entries of a sensors file (sensors/config.py)
nodes:                        # each nation tracks its own sensors' reports
  - {name: USA, tracker: {model: imm, imm_models: [cv, glide]}}
  - {name: JPN, tracker: {model: cv}}
links:                        # plus what other nodes pass it (when the marking allows)
  - {from: JPN, to: USA, share: detections, latency_s: 2.0}
fusion: {node: USA, tracker: {model: imm, imm_models: [cv, glide]}}  # every released report
batteries:
  - {id: sm6-okinawa, node: JPN, interceptor: sm6, site: {lat_deg: 26.2, lon_deg: 127.7},
     inventory: 4, doctrine: salvo, track_source: fused}   # a node or 'fused'
```

Degrees at this edge, SI inside. Unknown keys are errors; every error is one line naming
the file and the field path (``single_hgv.yaml: batteries[0].inventory: ...``). Any field
may be a Monte Carlo distribution (``{normal: {mean, sd}}``, ``{uniform: [a, b]}``,
``{choice: [...]}``, :mod:`hyperdef.distributions`): a run uses the nominal values, a
campaign draws them per run.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hyperdef.core.markings import check_node
from hyperdef.errors import InputError, ScenarioError
from hyperdef.sensors.config import SensorEntry, SensorsFile, build_sensors, validation_error
from hyperdef.threats import guidance_settings


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThreatEntry(_Model):
    """One threat (or ``count`` identical ones launched ``interval_s`` apart)."""

    kind: Literal["hgv", "hcm", "ballistic"]
    from_: Annotated[tuple[float, float], Field(alias="from")]
    to: tuple[float, float]
    launch_time_s: float = 0.0
    maneuver: Literal["none", "weave", "skip"] = "none"
    count: Annotated[int, Field(ge=1, le=1000)] = 1
    interval_s: Annotated[float, Field(ge=0.0)] = 0.0
    #: payload mass override (glider, cruiser dry mass or re-entry vehicle), kg
    mass_kg: Annotated[float, Field(gt=0.0)] | None = None
    #: guidance and manoeuvre-plan overrides (hyperdef.threats.guidance_settings), e.g.
    #: {weave_period_s: 90, weave_amplitude_deg: 30}
    guidance: dict[str, float] = Field(default_factory=dict)

    @field_validator("from_", "to")
    @classmethod
    def _lat_lon(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not -90.0 <= value[0] <= 90.0:
            raise ValueError(f"latitude {value[0]} outside [-90, 90]")
        return value


class NodeEntry(_Model):
    """A nation running a tracker on the reports released to it."""

    name: str
    tracker: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        check_node(value, "name")
        return value


class SiteEntry(_Model):
    lat_deg: Annotated[float, Field(ge=-90.0, le=90.0)]
    lon_deg: Annotated[float, Field(ge=-180.0, le=360.0)]
    alt_m: float = 0.0


class BatteryEntry(_Model):
    """An interceptor battery; ``track_source`` names the node whose picture it fires on."""

    id: str
    node: str
    interceptor: Literal["gpi", "sm6"]
    site: SiteEntry
    inventory: Annotated[int, Field(ge=0)] = 4
    doctrine: Literal["shoot_look_shoot", "salvo"] = "shoot_look_shoot"
    releasable_to: tuple[str, ...] = ()
    track_source: str | None = None


class LinkEntry(_Model):
    """What one node passes to another, after a delay: its own sensors' reports
    (``detections``: the receiver's tracker uses them) or its own tracker's tracks
    (``tracks``: the receiver fuses them with its own, every ``interval_s``)."""

    from_: Annotated[str, Field(alias="from")]
    to: str
    share: Literal["detections", "tracks"] = "detections"
    latency_s: Annotated[float, Field(ge=0.0)] = 0.0
    interval_s: Annotated[float, Field(gt=0.0)] = 1.0


class Link(NamedTuple):
    """A built link: sender and receiver nodes, what is shared, delay and picture step (s)."""

    sender: str
    receiver: str
    share: str
    latency_s: float
    interval_s: float


class FusionEntry(_Model):
    """The fused picture: one tracker over every report released to ``node``."""

    node: str
    tracker: dict[str, Any] = Field(default_factory=dict)


class ScenarioFile(_Model):
    """The whole scenario."""

    name: str
    seed: Annotated[int, Field(ge=0)] = 0
    threats: Annotated[list[ThreatEntry], Field(min_length=1)]
    sensors: Annotated[list[SensorEntry], Field(min_length=1)]
    nodes: Annotated[list[NodeEntry], Field(min_length=1)]
    links: list[LinkEntry] = Field(default_factory=list)
    fusion: FusionEntry | None = None
    batteries: list[BatteryEntry] = Field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A validated scenario with its sensors, tracker settings and batteries built."""

    name: str
    seed: int
    threats: tuple[ThreatEntry, ...]
    sensors: tuple
    nodes: tuple[str, ...]
    trackers: dict
    batteries: tuple
    source: str = ""
    links: tuple = ()
    fusion: tuple | None = None
    #: the parsed YAML document the scenario was built from (for re-building with draws)
    data: dict | None = dataclasses.field(default=None, compare=False, repr=False)


def parse_scenario(data: Any, source: str = "") -> Scenario:
    """Validate a parsed YAML document and build the scenario's parts."""
    from hyperdef.engagement.fire_control import Battery
    from hyperdef.tracking.tracker import TrackerConfig

    prefix = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise ScenarioError(f"{prefix}(file): expected a mapping with name, threats, "
                            "sensors, nodes")
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(str(validation_error(exc, prefix))) from None
    for i, threat in enumerate(spec.threats):
        if threat.guidance:
            try:
                guidance_settings(threat.kind, threat.guidance, f"threats[{i}].guidance")
            except InputError as exc:
                raise ScenarioError(f"{prefix}{exc}") from None
    sensors = build_sensors(SensorsFile(sensors=spec.sensors), prefix)
    names = [n.name for n in spec.nodes]
    if len(set(names)) != len(names):
        raise ScenarioError(f"{prefix}nodes: node names must be unique, got {names}")
    trackers = {}

    def tracker(settings: dict, where: str) -> TrackerConfig:
        try:
            return TrackerConfig.from_settings(settings, where)
        except InputError as exc:
            raise ScenarioError(f"{prefix}{exc}") from None

    for i, node in enumerate(spec.nodes):
        trackers[node.name] = tracker(node.tracker, f"nodes[{i}].tracker")
    links = []
    for i, link in enumerate(spec.links):
        for end, name in (("from", link.from_), ("to", link.to)):
            if name not in names:
                raise ScenarioError(f"{prefix}links[{i}].{end}: {name!r} is not a node of the "
                                    f"scenario ({', '.join(names)})")
        if link.from_ == link.to:
            raise ScenarioError(f"{prefix}links[{i}]: a node cannot link to itself")
        links.append(Link(link.from_, link.to, link.share, link.latency_s, link.interval_s))
    fusion = None
    if spec.fusion is not None:
        if spec.fusion.node not in names:
            raise ScenarioError(f"{prefix}fusion.node: {spec.fusion.node!r} is not a node of "
                                f"the scenario ({', '.join(names)})")
        fusion = (spec.fusion.node, tracker(spec.fusion.tracker, "fusion.tracker"))
    batteries = []
    for i, entry in enumerate(spec.batteries):
        source_node = entry.track_source or entry.node
        if source_node not in names and not (source_node == "fused" and fusion is not None):
            allowed = ", ".join(names + (["fused"] if fusion is not None else []))
            raise ScenarioError(f"{prefix}batteries[{i}].track_source: {source_node!r} is not "
                                f"a picture of the scenario ({allowed})")
        try:
            battery = Battery(entry.id, entry.node, entry.site.lat_deg, entry.site.lon_deg,
                              entry.site.alt_m, entry.interceptor, entry.inventory,
                              entry.doctrine, tuple(entry.releasable_to))
        except InputError as exc:
            raise ScenarioError(f"{prefix}batteries[{i}]: {exc}") from None
        batteries.append((battery, source_node))
    ids = [b.battery_id for b, _ in batteries]
    if len(set(ids)) != len(ids):
        raise ScenarioError(f"{prefix}batteries: ids must be unique, got {ids}")
    return Scenario(spec.name, spec.seed, tuple(spec.threats), tuple(sensors), tuple(names),
                    trackers, tuple(batteries), source, links=tuple(links), fusion=fusion,
                    data=data)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    ScenarioError
        One line naming the file and the field (or the YAML problem and its line).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError(f"{path}: not valid YAML{where}: {problem}") from None
    from hyperdef.distributions import scenario_with_distributions

    # numeric fields may be Monte Carlo distributions: validated on their nominal draw
    try:
        return scenario_with_distributions(data, path.name)
    except ScenarioError as exc:
        raise ScenarioError(with_line(str(exc), path.name, text)) from None


_PATH_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def yaml_line(text: str, field_path: str) -> int | None:
    """1-based line of the deepest node of ``field_path`` (``batteries[0].site``) in ``text``."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for name, index in _PATH_TOKEN.findall(field_path):
        if isinstance(node, yaml.MappingNode) and name:
            match = next((v for k, v in node.value if getattr(k, "value", None) == name), None)
            if match is None:
                break
            line = next(k for k, v in node.value if v is match).start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and index:
            i = int(index)
            if i >= len(node.value):
                break
            node = node.value[i]
            line = node.start_mark.line + 1
        else:
            break
    return line


def with_line(message: str, source: str, text: str) -> str:
    """Add ``(line N)`` after the field path of a ``source: path: why`` message."""
    head = f"{source}: "
    if not message.startswith(head):
        return message
    field_path, sep, rest = message[len(head):].partition(": ")
    if not sep or " " in field_path:
        return message
    line = yaml_line(text, field_path)
    return message if line is None else f"{head}{field_path} (line {line}): {rest}"
