"""The sensors YAML: the shipped example loads; every bad field is named by its path."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

from hyperdef.errors import InputError
from hyperdef.sensors.airborne import AirborneIsr
from hyperdef.sensors.config import load_sensors, parse_sensors
from hyperdef.sensors.infrared import SpaceInfraredLayer
from hyperdef.sensors.radar import FixedSite, Radar, ShipRoute

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "sensors_example.yaml"


@pytest.fixture(scope="module")
def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_example_loads_in_si():
    sensors = load_sensors(EXAMPLE)
    kinds = [s.kind for s in sensors]
    assert kinds == ["radar", "radar", "radar", "space_ir", "airborne"]
    ship, route_ship, tpy2, layer, mq9 = sensors
    assert isinstance(ship, Radar) and isinstance(ship.platform, FixedSite)
    assert ship.platform.lat_rad == pytest.approx(math.radians(27.6))
    assert ship.range_ref_m == 400_000.0  # s_band_ship preset
    assert isinstance(route_ship.platform, ShipRoute)
    assert route_ship.platform.speed_m_s == 8.2
    assert tpy2.boresight_az_rad == pytest.approx(math.radians(315.0))
    assert tpy2.max_range_m == 3_000_000.0  # x_band_ground preset
    assert isinstance(layer, SpaceInfraredLayer) and layer.n_satellites == 24
    assert isinstance(mq9, AirborneIsr)
    assert mq9.orbit.altitude_m == 15_000.0 and mq9.orbit.leg_length_m == 60_000.0
    assert ship.reporting.node == "JPN" and ship.reporting.releasable_to == ("USA",)


def test_explicit_radar_params_in_si():
    data = {
        "sensors": [
            {
                "id": "r",
                "type": "radar",
                "node": "USA",
                "site": {"lat_deg": 10.0, "lon_deg": 20.0, "alt_m": 100.0},
                "params": {
                    "revisit_s": 5.0,
                    "max_range_km": 800.0,
                    "range_ref_km": 300.0,
                    "pd_at_ref": 0.5,
                    "beamwidth_deg": 2.0,
                },
            }
        ]
    }
    (radar,) = parse_sensors(data)
    assert radar.max_range_m == 800_000.0 and radar.range_ref_m == 300_000.0
    assert radar.beamwidth_rad == pytest.approx(math.radians(2.0))
    assert radar.platform.alt_m == 100.0


def _bad(example: dict, path: list, value) -> dict:
    data = copy.deepcopy(example)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["sensors", 2, "node"], "XXX", "sensors[2].node: unknown node 'XXX'"),
        (
            ["sensors", 0, "releasable_to"],
            ["USA", "ZZZ"],
            "sensors[0].releasable_to[1]: unknown node 'ZZZ'",
        ),
        (["sensors", 0, "site", "lat_deg"], 95.0, "sensors[0].site.lat_deg:"),
        (["sensors", 0, "colour"], "grey", "sensors[0].colour: unknown key"),
        (["sensors", 3, "walker", "altitude_km"], 50.0, "sensors[3].walker.altitude_km:"),
        (["sensors", 3, "walker", "planes"], 5, "sensors[3]: planes:"),
        (["sensors", 4, "racetrack", "altitude_km"], 30.0, "sensors[4].racetrack.altitude_km:"),
        (["sensors", 1, "type"], "sonar", "sensors[1]: unknown type 'sonar'"),
        (["sensors", 2, "boresight_az_deg"], _DELETE, "sensors[2].boresight_az_deg: required"),
        (["sensors", 0, "report_latency_s"], -1.0, "sensors[0].report_latency_s:"),
    ],
)
def test_bad_field_named_by_path(example, path, value, expected):
    with pytest.raises(InputError) as info:
        parse_sensors(_bad(example, path, value))
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_duplicate_ids_and_missing_placement(example):
    data = copy.deepcopy(example)
    data["sensors"][1]["id"] = data["sensors"][0]["id"]
    with pytest.raises(InputError, match="duplicate id"):
        parse_sensors(data)
    data = copy.deepcopy(example)
    del data["sensors"][0]["site"]
    with pytest.raises(InputError, match=r"sensors\[0\]: give exactly one of site and route"):
        parse_sensors(data)


def test_file_errors(tmp_path):
    with pytest.raises(InputError, match="no such sensors file"):
        load_sensors(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sensors: [\n  - id: a\n   type: : radar\n")
    with pytest.raises(InputError, match="bad YAML at line"):
        load_sensors(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(InputError, match="expected a mapping"):
        load_sensors(empty)
