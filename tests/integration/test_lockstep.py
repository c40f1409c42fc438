"""Lockstep draws: ``run_draws`` gives every draw exactly what ``run_scenario`` gives it alone.

A campaign flies its runs together (threats in one batch per vehicle, one partitioned
tracker pass per node, the shots of every draw in one fly-out per round); a run must still
reproduce alone from its seed, bit for bit, whatever the draws beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hyperdef.errors import InputError
from hyperdef.scenario import load_scenario
from hyperdef.simulation import (
    _fly_threats,
    _report_groups,
    draw_summaries,
    run_draws,
    run_scenario,
)

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
TRUTH_FIELDS = ("offsets", "t", "r_ecef_m", "v_ecef_m_s", "a_ecef_m_s2", "lla", "mass_kg",
                "mach", "phase", "launch_lla", "aim_lla")


def assert_same_truth(alone, batched, what):
    for name in TRUTH_FIELDS:
        a, b = getattr(alone, name), getattr(batched, name)
        assert a.shape == b.shape and np.array_equal(a, b), f"{what}: truth {name} differs"


def without_timings(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "timings_s"}


@pytest.fixture(scope="module")
def single_hgv():
    return load_scenario(SCENARIOS / "single_hgv.yaml")


@pytest.fixture(scope="module")
def draws(single_hgv):
    seeds = [5, 6, 7]
    return seeds, run_draws([single_hgv] * len(seeds), seeds)


@pytest.mark.slow
def test_each_draw_of_a_lockstep_batch_is_the_run_alone(single_hgv, draws):
    seeds, batched = draws
    for seed, result in zip(seeds, batched, strict=True):
        alone = run_scenario(single_hgv, seed=seed)
        what = f"seed {seed}"
        assert_same_truth(alone.truth, result.truth, what)
        assert alone.detections.equals(result.detections), f"{what}: detections differ"
        for name, table in alone.pictures.items():
            assert table.equals(result.pictures[name]), f"{what}: picture {name} differs"
        assert alone.tracks.equals(result.tracks), f"{what}: tracks differ"
        assert alone.engagements.equals(result.engagements), f"{what}: engagements differ"
        assert without_timings(alone.summary) == without_timings(result.summary), what


def test_draws_in_a_batch_keep_their_own_streams(draws):
    """The batch did not hand every draw the same randomness."""
    _, batched = draws
    first = [r.summary["threats"][0]["first_detection"]["range_km"] for r in batched]
    rmse = [r.summary["tracking"]["USA"]["rmse_pos_m"] for r in batched]
    assert len(set(first)) == len(first) and len(set(rmse)) == len(rmse)
    assert all(r.summary["shots"] >= 1 for r in batched), "every draw engages the glider"


def test_raid_threats_fly_in_one_batch_as_alone():
    """The raid's gliders, ballistic and cruise missiles of two draws flown together."""
    raid = load_scenario(SCENARIOS / "regional_raid.yaml")
    streams = [np.random.SeedSequence(s).spawn(1)[0] for s in (1, 2)]
    batched = _fly_threats([raid, raid], [np.random.default_rng(s) for s in streams])
    assert batched[0].n_objects == sum(t.count for t in raid.threats)
    for k, stream in enumerate(streams):
        alone = _fly_threats([raid], [np.random.default_rng(stream)])[0]
        assert_same_truth(alone, batched[k], f"raid draw {k}")
    assert not np.array_equal(batched[0].t, batched[1].t) or not np.array_equal(
        batched[0].r_ecef_m, batched[1].r_ecef_m), "the two draws' dispersions are the same"


def test_summaries_in_groups_are_the_summaries_of_one_batch(single_hgv, draws):
    """draw_summaries tracks its draws in groups of a bounded number of reports, without
    the covariance column: the summaries are those of run_draws all the same."""
    seeds, batched = draws
    reports = [r.detections.num_rows for r in batched]
    assert min(reports) > 1000
    # one draw per group, then two and one, then all three in one group
    for limit in (1, reports[0] + reports[1], sum(reports)):
        got = draw_summaries([single_hgv] * len(seeds), seeds, max_reports=limit)
        assert [without_timings(s) for s in got] == [
            without_timings(r.summary) for r in batched], f"max_reports={limit}"
    assert set(got[0]["timings_s"]) == set(batched[0].summary["timings_s"])


def test_report_groups_are_consecutive_and_bounded():
    assert _report_groups([5, 5, 5], None) == [[0, 1, 2]]
    assert _report_groups([5, 5, 5], 10) == [[0, 1], [2]]
    assert _report_groups([5, 12, 5, 4], 10) == [[0], [1], [2, 3]]  # a big draw alone
    assert _report_groups([0, 0], 1) == [[0, 1]]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "many"])
def test_a_bad_report_limit_names_the_field(single_hgv, bad):
    with pytest.raises(InputError, match=r"^max_reports: expected an integer >= 1"):
        draw_summaries([single_hgv], [1], max_reports=bad)


@pytest.mark.parametrize(("seeds", "field"), [([1, -2], "seed"), ([], "seeds")])
def test_bad_draws_name_the_field(single_hgv, seeds, field):
    with pytest.raises(InputError, match=rf"^{field}: "):
        run_draws([single_hgv] * max(len(seeds), 1), seeds)


@pytest.mark.slow
def test_drawn_scenarios_in_lockstep_give_the_rows_they_give_alone():
    """single_hgv_mc draws the launch time, the manoeuvre and the ship's station per run:
    the draws of one batch differ in scan times, paths and sensor sites."""
    from hyperdef.montecarlo import TIMING_COLUMNS, run_campaign

    scenario = load_scenario(SCENARIOS / "single_hgv_mc.yaml")
    together = run_campaign(scenario, 2, seed=4, workers=1, lockstep=2)
    alone = run_campaign(scenario, 2, seed=4, workers=1, lockstep=1)
    assert together.table.column("status").to_pylist() == ["ok", "ok"]
    draws = together.table.column("draws").to_pylist()
    assert draws[0] != draws[1], "the two runs drew the same scenario"
    assert together.table.drop(list(TIMING_COLUMNS)).equals(alone.table.drop(list(TIMING_COLUMNS)))
