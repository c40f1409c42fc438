"""``hyperdef coverage``: JSON schema, the HGV-vs-ballistic contrast, the plot, bad input.

The example network (scenarios/sensors_example.yaml) against threats launched from
38N 118E at the defended area 26.2N 127.7E (1,595 km, within every kind's reach).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hyperdef.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "sensors_example.yaml"
ROUTE = ["--from", "38.0,118.0", "--to", "26.2,127.7"]
KEYS = {
    "sensor_id",
    "kind",
    "node",
    "first_detection_s",
    "first_detection_range_km",
    "first_detection_alt_km",
    "coverage_s",
    "warning_time_s",
}

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["coverage", *args])


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("coverage")
    result = {}
    for threat in ("hgv", "ballistic"):
        plot = out / f"{threat}.png"
        res = _run(
            str(EXAMPLE), "--threat", threat, *ROUTE, "--seed", "0", "--json", "--plot", str(plot)
        )
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        data["plot_path"] = plot
        result[threat] = data
    return result


def _by_id(report: dict) -> dict:
    return {row["sensor_id"]: row for row in report["sensors"]}


def test_json_schema(reports):
    for threat, report in reports.items():
        assert report["threat"]["kind"] == threat
        assert report["threat"]["status"] == "impact"
        assert len(report["sensors"]) == 5
        for row in report["sensors"]:
            assert KEYS <= set(row)
            assert row["kind"] in ("radar", "space_ir", "airborne")
            assert row["coverage_s"] >= 0.0
            if row["first_detection_s"] is None:
                assert row["warning_time_s"] is None
                assert row["first_detection_range_km"] is None
            else:
                flight = report["threat"]["flight_time_s"]
                assert 0.0 <= row["first_detection_s"] <= flight
                assert row["warning_time_s"] == pytest.approx(
                    flight - row["first_detection_s"], abs=0.01
                )
                assert row["first_detection_range_km"] > 0.0


def test_surface_radar_sees_hgv_far_later_than_ballistic(reports):
    hgv, ballistic = _by_id(reports["hgv"]), _by_id(reports["ballistic"])
    # the X-band ground radar sees the lofted ballistic missile from ~1,400 km but the
    # glider only once it rises above the horizon, a few hundred seconds later
    tpy2_h, tpy2_b = hgv["tpy2-okinawa"], ballistic["tpy2-okinawa"]
    assert tpy2_h["first_detection_s"] > tpy2_b["first_detection_s"] + 150.0
    assert tpy2_h["warning_time_s"] < tpy2_b["warning_time_s"] - 200.0
    assert tpy2_h["first_detection_range_km"] < tpy2_b["first_detection_range_km"]
    assert tpy2_h["first_detection_alt_km"] < 80.0 < tpy2_b["first_detection_alt_km"]


def test_space_layer_sees_both(reports):
    for report in reports.values():
        layer = _by_id(report)["leo-ir"]
        assert layer["first_detection_s"] is not None
        assert layer["first_detection_s"] < 60.0  # the boost plume
        assert layer["coverage_s"] > 100.0
    # the glider stays hot all the way; the cold midcourse RV drops out
    assert (
        _by_id(reports["hgv"])["leo-ir"]["coverage_s"]
        > _by_id(reports["ballistic"])["leo-ir"]["coverage_s"]
    )


def test_plot_written(reports):
    for report in reports.values():
        path = report["plot_path"]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert report["outputs"]["plot"] == str(path.resolve())


def test_human_table():
    res = _run(str(EXAMPLE), "--threat", "hgv", *ROUTE)
    assert res.exit_code == 0, res.output
    assert "tpy2-okinawa" in res.stdout and "warning" in res.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--threat", "hgv", *ROUTE], "no such sensors file"),
        (["--threat", "sgv", *ROUTE], "--threat: unknown kind 'sgv'"),
        (
            ["--threat", "ballistic", "--from", "38.0,118.0", "--to", "0.0,170.0"],
            "outside the ballistic reach",
        ),
        (["--threat", "hgv", "--from", "38.0", "--to", "26.2,127.7"], "--from:"),
    ],
)
def test_bad_input_exit_2_no_plot(tmp_path, args, expected):
    plot = tmp_path / "p.png"
    sensors = str(tmp_path / "missing.yaml") if expected == "no such sensors file" else str(EXAMPLE)
    res = _run(sensors, *args, "--plot", str(plot), "--json")
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.startswith("error: ") and expected in res.stderr
    assert res.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_field_named_no_half_written_file(tmp_path):
    bad = tmp_path / "sensors.yaml"
    bad.write_text(EXAMPLE.read_text().replace("node: JPN", "node: XXX", 1))
    plot = tmp_path / "p.png"
    res = _run(str(bad), "--threat", "hgv", *ROUTE, "--plot", str(plot))
    assert res.exit_code == 2
    assert "sensors[0].node: unknown node 'XXX'" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sensors.yaml"]
