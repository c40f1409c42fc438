"""``hyperdef run`` on scenarios/single_hgv.yaml end to end, and scenario errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hyperdef.errors import ScenarioError
from hyperdef.scenario import load_scenario, parse_scenario

_SCRIPT = Path(sys.executable).with_name("hyperdef")
HYPERDEF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "hyperdef.cli"]
ROOT = Path(__file__).resolve().parents[2]
SINGLE = ROOT / "scenarios" / "single_hgv.yaml"


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "single"
    r = subprocess.run([*HYPERDEF, "run", str(SINGLE), "--out", str(out), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return out, json.loads(r.stdout)


def test_single_hgv_is_detected_tracked_and_engaged(run_out):
    out, summary = run_out
    for name in ("truth", "detections", "tracks", "engagements"):
        assert (out / f"{name}.parquet").is_file()
    assert json.loads((out / "summary.json").read_text())["scenario"] == "single_hgv"
    (threat,) = summary["threats"]
    assert threat["kind"] == "hgv" and 1_400 < threat["range_km"] < 1_800
    first = threat["first_detection"]
    # the glider comes over the radar horizons late: minutes after launch, a few hundred km
    assert first is not None and 200 < first["t_s"] < threat["flight_time_s"]
    assert 100 < first["range_km"] < 1_500
    firm = threat["time_to_firm_track_s"]
    assert firm["USA"] is not None and firm["USA"] < threat["flight_time_s"]
    assert threat["engaged"] and summary["shots"] >= 1
    assert summary["kills"] + summary["leakers"] == 1
    assert summary["tracking"]["USA"]["rmse_pos_m"] < 200
    tracks = pq.read_table(out / "tracks.parquet")
    assert set(tracks.column("node").to_pylist()) == {"USA", "JPN"}
    shots = pq.read_table(out / "engagements.parquet").to_pylist()
    assert all(s["battery_id"] == "sm6-okinawa" for s in shots)


def test_warning_time_and_completeness_in_the_summary(run_out):
    _, summary = run_out
    (threat,) = summary["threats"]
    for node in ("USA", "JPN"):
        firm, warning = threat["time_to_firm_track_s"][node], threat["warning_time_s"][node]
        assert warning == pytest.approx(threat["flight_time_s"] - firm, abs=1e-3)
        # the glider is over the horizon for its first minutes: tracked for part of its flight
        assert 0.05 < threat["track_completeness"][node] < warning / threat["flight_time_s"]


def test_compare_puts_runs_side_by_side(run_out, tmp_path):
    import shutil

    out, summary = run_out
    twin = tmp_path / "twin"
    shutil.copytree(out, twin)
    r = subprocess.run([*HYPERDEF, "compare", str(out), str(twin), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(row["run"], row["picture"]) for row in rows] == [
        ("single", "USA"), ("single", "JPN"), ("twin", "USA"), ("twin", "JPN")]
    (threat,) = summary["threats"]
    usa = rows[0]
    assert usa["warning_mean_s"] == pytest.approx(threat["warning_time_s"]["USA"])
    assert usa["completeness_mean"] == pytest.approx(threat["track_completeness"]["USA"])
    assert usa["kills"] == summary["kills"] and usa["firm_tracks"] == 1
    # the same raid twice: the stretch both hold is compared, equal for the twin copies
    assert usa["rmse_common_m"] is not None and usa["rmse_common_m"] == rows[2]["rmse_common_m"]
    r = subprocess.run([*HYPERDEF, "compare", str(out), str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: runs:")
    assert "summary.json" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_same_seed_same_run(run_out, tmp_path):
    out, summary = run_out
    again = tmp_path / "again"
    r = subprocess.run([*HYPERDEF, "run", str(SINGLE), "--out", str(again), "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    second = json.loads(r.stdout)
    assert second["threats"] == summary["threats"] and second["shots"] == summary["shots"]


def _scenario(**changes):
    import yaml

    data = yaml.safe_load(SINGLE.read_text())
    data.update(changes)
    return data


@pytest.mark.parametrize(("change", "message"), [
    ({"colour": "red"}, "colour: unknown key"),
    ({"threats": [{"kind": "rocket", "from": [38, 118], "to": [26, 127]}]}, "threats[0].kind"),
    ({"nodes": [{"name": "XXX"}]}, "nodes[0].name"),
    ({"nodes": [{"name": "USA", "tracker": {"modle": "cv"}}]}, "nodes[0].tracker.modle"),
    ({"batteries": [{"id": "b", "node": "USA", "interceptor": "gpi",
                     "site": {"lat_deg": 26, "lon_deg": 127}, "inventory": -1}]},
     "batteries[0].inventory"),
    ({"batteries": [{"id": "b", "node": "USA", "interceptor": "gpi",
                     "site": {"lat_deg": 26, "lon_deg": 127}, "doctrine": "fire_at_will"}]},
     "batteries[0].doctrine"),
    ({"links": [{"from": "AUS", "to": "USA"}]}, "links[0].from"),
    ({"threats": [{"kind": "hgv", "from": [38, 118], "to": [26, 127],
                   "guidance": {"weave_perid_s": 60}}]}, "threats[0].guidance.weave_perid_s"),
    ({"threats": [{"kind": "hgv", "from": [38, 118], "to": [26, 127], "mass_kg": 0}]},
     "threats[0].mass_kg"),
    ({"links": [{"from": "USA", "to": "JPN", "share": "plots"}]}, "links[0].share"),
    ({"links": [{"from": "USA", "to": "JPN", "share": "tracks", "interval_s": 0}]},
     "links[0].interval_s"),
    ({"fusion": {"node": "GBR"}}, "fusion.node"),
    ({"batteries": [{"id": "b", "node": "USA", "interceptor": "gpi",
                     "site": {"lat_deg": 26, "lon_deg": 127}, "track_source": "fused"}]},
     "batteries[0].track_source"),
])
def test_bad_scenarios_name_the_field(change, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(_scenario(**change), "single_hgv.yaml")


def test_bad_files_are_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nthreats: [\n")
    with pytest.raises(ScenarioError, match="line"):
        load_scenario(bad)
    r = subprocess.run([*HYPERDEF, "run", str(tmp_path / "missing.yaml"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "missing.yaml" in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("seed", [1, 2])
def test_fused_picture_is_never_worse_than_the_national_ones(seed):
    """Same draws, three pictures: each nation on its own radar, and the US node fusing both.

    Measured (seeds 1, 2, 3): fused position RMSE 42.3, 45.1, 62.1 m against the US 51.4,
    49.6, 69.4 m and Japan 646, 240, 300 m; the fused track is firm when the better nation's
    is, to within one scan (416/416, 416/415, 420/420 s).
    """
    import yaml

    from hyperdef.simulation import run_scenario

    data = yaml.safe_load(SINGLE.read_text())
    data.pop("links")
    imm = {"model": "imm", "imm_models": ["cv", "glide"]}
    data["nodes"] = [{"name": "USA", "tracker": imm}, {"name": "JPN", "tracker": imm}]
    data["fusion"] = {"node": "USA", "tracker": imm}
    data["batteries"] = []
    summary = run_scenario(parse_scenario(data, "fused.yaml"), seed=seed).summary
    rmse = {k: v["rmse_pos_m"] for k, v in summary["tracking"].items()}
    firm = summary["threats"][0]["time_to_firm_track_s"]
    assert rmse["fused"] <= min(rmse["USA"], rmse["JPN"]), rmse
    assert firm["fused"] <= min(firm["USA"], firm["JPN"]) + 2.0, firm


@pytest.mark.parametrize("seed", [1, 2])
def test_shared_tracks_improve_the_weaker_national_picture(seed):
    """Japan's node (CV tracker on its S-band ship) receives the US node's IMM tracks over a
    track-sharing link with 2 s latency and fuses them with its own (covariance
    intersection): its picture must be more accurate than on its own radar alone, and firm
    no later.

    Measured (seeds 1, 2, 3): Japan's RMSE 645, 234, 243 m alone and 79, 72, 110 m with the
    US tracks shared; firm at 444, 460, 466 s alone and 418, 417, 422 s shared (the US
    track is firm at 416, 415, 420 s and arrives 2 s later).
    """
    import yaml

    from hyperdef.simulation import run_scenario

    data = yaml.safe_load(SINGLE.read_text())
    data["batteries"] = []
    data.pop("links")
    alone = run_scenario(parse_scenario(data, "national.yaml"), seed=seed).summary
    data["links"] = [{"from": "USA", "to": "JPN", "share": "tracks", "latency_s": 2.0}]
    shared = run_scenario(parse_scenario(data, "shared.yaml"), seed=seed).summary
    before, after = alone["tracking"]["JPN"], shared["tracking"]["JPN"]
    assert after["rmse_pos_m"] < 0.8 * before["rmse_pos_m"], (before, after)
    assert shared["tracking"]["USA"] == alone["tracking"]["USA"]  # nothing flows back
    firm = (alone["threats"][0]["time_to_firm_track_s"]["JPN"],
            shared["threats"][0]["time_to_firm_track_s"]["JPN"])
    assert firm[1] <= firm[0] + 1e-9, firm


def test_run_loads_back_with_every_picture(tmp_path):
    """RunResult.load gives back the pictures run_scenario made, the fused one apart from
    the fusing node's own (both carry node USA; the ``picture`` column tells them apart)."""
    import yaml

    import hyperdef
    from hyperdef.simulation import RunResult

    data = yaml.safe_load(SINGLE.read_text())
    data["fusion"] = {"node": "USA"}
    data["batteries"] = []
    path = tmp_path / "fused.yaml"
    path.write_text(yaml.safe_dump(data))
    result = hyperdef.run(path, out=tmp_path / "run")
    back = RunResult.load(tmp_path / "run")
    assert list(back.pictures) == ["USA", "JPN", "fused"] == list(result.pictures)
    for name, table in result.pictures.items():
        assert back.pictures[name].equals(table), name
    assert back.summary == json.loads(json.dumps(result.summary))
    assert back.truth.n_objects == 1 and back.detections.num_rows == result.detections.num_rows
    # the report's threat table has a column group for every picture, the fused one too
    report = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert all(f"{name}: firm track / warning, s" in report for name in ("USA", "JPN", "fused"))


def test_file_errors_name_the_line(tmp_path):
    text = SINGLE.read_text().replace("inventory: 4", "inventory: -4", 1)
    path = tmp_path / "bad_inventory.yaml"
    path.write_text(text)
    line = 1 + next(i for i, row in enumerate(text.splitlines()) if "inventory: -4" in row)
    with pytest.raises(ScenarioError, match=rf"bad_inventory.yaml: batteries\[0\]\.inventory "
                                            rf"\(line {line}\): "):
        load_scenario(path)
