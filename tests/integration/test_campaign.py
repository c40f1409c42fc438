"""Monte Carlo campaigns: determinism across backends, aggregates, files, bad input.

The scenario is ``scenarios/single_hgv.yaml`` reduced so a run takes ~2-4 s here: one radar
(the X-band on Okinawa, not released), one node (USA, CV tracker), a non-weaving glider
launched ~850 km out (the shortest HGV range the model allows is 700 km) and one
interceptor in the battery.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from hyperdef.errors import InputError
from hyperdef.montecarlo import (
    TIMING_COLUMNS,
    campaign_seeds,
    run_campaign,
    summarize_campaign,
    write_campaign,
)
from hyperdef.scenario import parse_scenario

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "single_hgv.yaml"
RUNS = 2
SEED = 11


def reduced_scenario_data() -> dict:
    data = copy.deepcopy(yaml.safe_load(SCENARIO.read_text()))
    data["sensors"] = data["sensors"][:1]
    data["sensors"][0]["releasable_to"] = []
    data.pop("links", None)
    data["nodes"] = [{"name": "USA", "tracker": {"model": "cv"}}]
    data["batteries"][0].update(node="USA", inventory=1)
    data["threats"][0].update({"from": [32.0, 122.0], "maneuver": "none"})
    return data


@pytest.fixture(scope="module")
def scenario():
    return parse_scenario(reduced_scenario_data(), "reduced_single_hgv")


@pytest.fixture(scope="module")
def baseline(scenario):
    return run_campaign(scenario, RUNS, seed=SEED, workers=1)


def outcomes(table: pa.Table) -> pa.Table:
    return table.drop(list(TIMING_COLUMNS))


def test_inprocess_campaign_has_one_ok_row_per_run(baseline):
    table = baseline.table
    assert baseline.backend == "inprocess"
    assert table.column("run").to_pylist() == list(range(RUNS))
    assert table.column("seed").to_pylist() == campaign_seeds(SEED, RUNS)
    assert table.column("status").to_pylist() == ["ok"] * RUNS
    assert baseline.aggregates["ok_runs"] == RUNS
    assert len(table.column("killed")[0].as_py()) == 1  # one threat


def test_python_api_mirrors_the_cli(baseline, tmp_path):
    """``hyperdef.campaign(path, ...)`` loads the file, runs and writes what the CLI does."""
    import hyperdef

    path = tmp_path / "reduced.yaml"
    path.write_text(yaml.safe_dump(reduced_scenario_data()))
    result = hyperdef.campaign(path, RUNS, seed=SEED, workers=1, out=tmp_path / "mc")
    assert outcomes(result.table).equals(outcomes(baseline.table))
    for name in ("campaign.parquet", "campaign.json", "campaign.png"):
        assert (tmp_path / "mc" / name).is_file()
    warning = result.aggregates["warning_s"]["USA"]
    assert warning["n"] == RUNS and 0 < warning["p50"] < 900
    assert 0 < result.aggregates["track_completeness"]["USA"]["mean"] < 1


def test_two_processes_give_the_same_table(scenario, baseline):
    result = run_campaign(scenario, RUNS, seed=SEED, workers=2)
    assert result.backend == "processes"
    assert outcomes(result.table).equals(outcomes(baseline.table)), (
        f"workers=2 table differs from workers=1:\n{result.table.to_pylist()}\n"
        f"{baseline.table.to_pylist()}"
    )
    assert result.aggregates == baseline.aggregates


def test_runs_alone_give_the_rows_of_runs_in_lockstep(scenario, baseline):
    """The baseline flew its runs in one lockstep batch; one run per batch, and each run's
    seed given to ``run_scenario`` alone, give the same outcomes."""
    from hyperdef.simulation import run_scenario

    alone = run_campaign(scenario, RUNS, seed=SEED, workers=1, lockstep=1)
    assert outcomes(alone.table).equals(outcomes(baseline.table))
    row = baseline.table.to_pylist()[1]
    summary = run_scenario(scenario, seed=row["seed"]).summary
    assert summary["shots"] == row["shots"] and summary["kills"] == row["kills"]
    assert summary["tracking"]["USA"]["rmse_pos_m"] == row["rmse_pos_m_USA"]
    assert summary["threats"][0]["first_detection"]["t_s"] == row["first_detection_s"][0]


def test_run_seeds_do_not_depend_on_the_number_of_runs():
    assert campaign_seeds(SEED, 5)[:RUNS] == campaign_seeds(SEED, RUNS)
    assert campaign_seeds(SEED, 3) != campaign_seeds(SEED + 1, 3)


def test_different_seeds_differ(scenario, baseline):
    other = run_campaign(scenario, 1, seed=SEED + 1, workers=1)
    first = baseline.table.slice(0, 1)
    assert other.table.column("seed")[0] != first.column("seed")[0]
    assert other.table.column("rmse_pos_m_USA")[0] != first.column("rmse_pos_m_USA")[0]
    rows = baseline.table.to_pylist()
    assert rows[0]["first_detection_range_km"] != rows[1]["first_detection_range_km"]


def _fake_row(run, seed):
    return {
        "run": run,
        "seed": seed,
        "status": "ok",
        "shots": 1,
        "kills": run % 2,
        "leakers": 1 - run % 2,
        "raid_negated": run % 2,
        "killed": [run % 2],
        "leaked": [1 - run % 2],
        "first_detection_s": [float(run)],
    }


def _die_once_then_fake(scenario, runs, seeds):
    """Task for the killed-worker test: the worker running run 1 dies the first time."""
    marker = Path(os.environ["HYPERDEF_TEST_DIE_ONCE"])
    if 1 in runs and not marker.exists():
        marker.write_text("died")
        os._exit(1)  # the worker process is gone, as if it were killed
    return [_fake_row(run, seed) for run, seed in zip(runs, seeds, strict=True)]


def test_a_killed_worker_loses_and_duplicates_no_run(scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("HYPERDEF_TEST_DIE_ONCE", str(tmp_path / "died"))
    result = run_campaign(scenario, 6, seed=3, workers=2, lockstep=2, _task=_die_once_then_fake)
    assert (tmp_path / "died").exists(), "the worker never died: the test tested nothing"
    assert result.table.column("run").to_pylist() == list(range(6))
    assert result.table.column("seed").to_pylist() == campaign_seeds(3, 6)
    assert result.table.column("status").to_pylist() == ["ok"] * 6
    assert result.aggregates["kills_mean"] == 0.5


def test_a_run_that_raises_is_a_record_not_an_exception(scenario):
    def broken(scenario_, runs, seeds):
        from hyperdef.montecarlo import _run_chunk

        rows = []
        for run, seed in zip(runs, seeds, strict=True):
            if run == 0:
                rows += _run_chunk(None, [run], [seed])  # AttributeError inside the run
                continue
            rows.append({"run": run, "seed": seed, "status": "ok", "killed": [1],
                         "leaked": [0], "raid_negated": 1, "leakers": 0, "kills": 1,
                         "shots": 2})
        return rows

    result = run_campaign(scenario, 2, seed=1, workers=1, _task=broken)
    assert result.table.column("status").to_pylist() == ["error", "ok"]
    assert "Error" in result.table.column("error")[0].as_py()
    assert result.aggregates["failed_runs"] == 1
    assert result.aggregates["raid_negation"]["trials"] == 1


def test_aggregates_of_a_known_table():
    # 10 ok runs, 2 threats; threat 0 killed in 7 runs, threat 1 in 5, both in 4; one
    # failed run that must not count.
    k0 = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    k1 = [1, 1, 1, 1, 0, 0, 0, 1, 0, 0]
    killed = [[a, b] for a, b in zip(k0, k1, strict=True)] + [None]
    leakers = [2 - a - b for a, b in zip(k0, k1, strict=True)] + [None]
    det = [[100.0 + i, None if i == 0 else 200.0] for i in range(10)] + [None]
    table = pa.table(
        {
            "status": ["ok"] * 10 + ["error"],
            "raid_negated": [int(a and b) for a, b in zip(k0, k1, strict=True)] + [None],
            "killed": killed,
            "leakers": leakers,
            "kills": [None if x is None else 2 - x for x in leakers],
            "shots": [2] * 10 + [None],
            "first_detection_s": det,
            "firm_track_s_USA": [[10.0, 20.0]] * 10 + [None],
            "rmse_pos_m_USA": [100.0, None] + [50.0] * 8 + [None],
            "rmse_vel_m_s_USA": [1.0] * 11,
        }
    )
    agg = summarize_campaign(table)
    assert (agg["runs"], agg["ok_runs"], agg["failed_runs"], agg["threats"]) == (11, 10, 1, 2)
    raid = agg["raid_negation"]
    assert (raid["successes"], raid["trials"]) == (4, 10)
    # Wilson 95 % score intervals, as tabulated (e.g. Newcombe 1998, Stat. Med. 17:857,
    # table I): 7/10 -> [0.3968, 0.8922]; 5/10 -> [0.2366, 0.7634]; 4/10 -> [0.1682, 0.6873]
    p0, p1 = agg["kill_probability"]
    assert p0["p"] == pytest.approx(0.7)
    assert (p0["low"], p0["high"]) == pytest.approx((0.3968, 0.8922), abs=1e-4)
    assert (p1["low"], p1["high"]) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert (raid["low"], raid["high"]) == pytest.approx((0.1682, 0.6873), abs=1e-4)
    assert agg["leakers_histogram"] == {"leakers": [0, 1, 2], "counts": [4, 4, 2]}
    assert agg["interceptors_used_mean"] == 2.0
    assert agg["leakers_mean"] == pytest.approx(0.8)
    stats = agg["first_detection_s"]
    assert (stats["n"], stats["missing"]) == (19, 1)
    assert stats["p50"] == 109.0  # 10th of 100..109 and nine 200s
    assert stats["mean"] == pytest.approx((sum(100.0 + i for i in range(10)) + 9 * 200) / 19)
    assert agg["firm_track_s"]["USA"]["p10"] == 10.0
    assert agg["rmse_pos_m_mean"]["USA"] == pytest.approx((100 + 8 * 50) / 9)


def test_write_campaign_files(baseline, tmp_path):
    paths = write_campaign(baseline, tmp_path / "campaign")
    assert set(paths) == {"table", "summary", "figure"}
    table = pq.read_table(paths["table"])
    assert table.equals(baseline.table)
    document = json.loads(Path(paths["summary"]).read_text())
    assert document["runs"] == RUNS and document["seed"] == SEED
    assert document["aggregates"]["raid_negation"]["trials"] == RUNS
    assert Path(paths["figure"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(Path(paths["table"]).parent.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"runs": 0}, "runs"),
        ({"runs": 2.5}, "runs"),
        ({"workers": 0}, "workers"),
        ({"seed": -1}, "seed"),
        ({"scheduler": 3}, "scheduler"),
        ({"lockstep": 0}, "lockstep"),
        ({"lockstep": True}, "lockstep"),
    ],
)
def test_bad_input_names_the_field(scenario, kwargs, field):
    arguments = {"runs": 2, "seed": 1, "workers": 1, **kwargs}
    runs = arguments.pop("runs")
    with pytest.raises(InputError, match=rf"^{field}: "):
        run_campaign(scenario, runs, **arguments)


def test_a_scenario_is_required():
    with pytest.raises(InputError, match="^scenario: "):
        run_campaign(reduced_scenario_data(), 2, seed=1)


# Last in the file: the in-process Dask cluster leaves threads behind, and the tests above
# fork worker processes.
def test_dask_local_cluster_gives_the_same_table(scenario, baseline):
    import distributed  # a dependency (dask[distributed]): never skipped
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = run_campaign(scenario, RUNS, seed=SEED, scheduler=client)
    assert result.backend == "dask"
    assert outcomes(result.table).equals(outcomes(baseline.table))
    assert result.aggregates == baseline.aggregates


def test_campaign_cli_writes_aggregates_and_refuses_bad_flags(tmp_path):
    import subprocess
    import sys

    script = Path(sys.executable).with_name("hyperdef")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "hyperdef.cli"]
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "single_hgv.yaml"
    r = subprocess.run([*cli, "campaign", str(scenario), "--runs", "0", "--out",
                        str(tmp_path / "c")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "runs" in r.stderr
    r = subprocess.run([*cli, "campaign", str(scenario), "--runs", "2", "--workers", "1",
                        "--scheduler", "local", "--out", str(tmp_path / "c")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--scheduler" in r.stderr
    assert not (tmp_path / "c").exists()


def test_chunks_run_on_small_pages_and_restore_numpy_setting():
    """A chunk turns NumPy's huge-page advice off while it runs and restores it after."""
    hugepage = pytest.importorskip("numpy._core.multiarray")._set_madvise_hugepage
    from hyperdef.montecarlo import _small_pages

    original = hugepage(True)
    for setting in (True, False):
        hugepage(setting)
        with _small_pages():
            assert hugepage(False) is False  # off inside
        assert hugepage(setting) is setting  # what it was before, after
    hugepage(original)


def _faults_of_fresh_array(megabytes: int = 64) -> int:
    """Minor page faults of filling a new array, after one of the same size was freed."""
    import resource

    np.ones(megabytes << 17).sum()  # allocated, touched and freed
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(megabytes << 17).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_an_in_process_campaign_reuses_freed_memory_and_gives_it_back_after():
    """Inside _kept_heap a freed 64 MiB array's pages serve the next one (no page faults);
    after it glibc's defaults are back (a fresh mapping faults its 16,384 pages in)."""
    from hyperdef.montecarlo import _glibc, _keep_heap, _kept_heap, _small_pages

    if _glibc() is None:  # not Linux with glibc: the setting is refused, nothing changes
        assert _keep_heap(True) is False
        return
    with _small_pages():
        with _kept_heap():
            kept = _faults_of_fresh_array()
        after = _faults_of_fresh_array()
    assert kept < 1000, f"{kept} page faults with the heap kept"
    assert after > 10000, f"{after} page faults after: the defaults were not restored"


def test_group_reports_follow_memory_per_core(monkeypatch):
    from hyperdef import montecarlo
    from hyperdef.simulation import MAX_GROUP_REPORTS, REPORT_BYTES

    gib = 1024**3
    # 2 cores and 24 GB: the cap; 16 cores and 32 GB: half the memory per core's share
    assert montecarlo.group_reports(2, 24 * gib) == MAX_GROUP_REPORTS
    assert montecarlo.group_reports(16, 32 * gib) == int(0.5 * 32 * gib / 16 / REPORT_BYTES)
    assert montecarlo.group_reports(64, 1 * gib) == montecarlo.MIN_GROUP_REPORTS
    # the machine's own figures by default; the cap where they cannot be read
    monkeypatch.setattr(montecarlo, "_available_memory_bytes", lambda: 8 * gib)
    monkeypatch.setattr(montecarlo.os, "cpu_count", lambda: 8)
    assert montecarlo.group_reports() == int(0.5 * 8 * gib / 8 / REPORT_BYTES)
    monkeypatch.setattr(montecarlo, "_available_memory_bytes", lambda: None)
    assert montecarlo.group_reports() == MAX_GROUP_REPORTS
    monkeypatch.undo()
    assert montecarlo._available_memory_bytes() > 0  # the reading itself, on this machine


def test_campaign_rows_do_not_depend_on_the_group_size(monkeypatch, scenario, baseline):
    """A worker short of memory cuts its batch into more groups: the same rows."""
    from hyperdef import montecarlo

    calls = []

    def one_draw_per_group():
        calls.append(1)
        return 1

    monkeypatch.setattr(montecarlo, "group_reports", one_draw_per_group)
    small = run_campaign(scenario, RUNS, seed=SEED, workers=1)
    assert calls and outcomes(small.table).equals(outcomes(baseline.table))
