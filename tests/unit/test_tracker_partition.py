"""Unit tests of ``run_tracker(..., partition=...)``: many draws tracked in one pass.

The requirement is exactness: the rows of every partition must be bit for bit (every
column, floats compared with ==, same order) those of a run on that partition's reports
alone. The draws are made from one simulated run of ``scenarios/single_hgv.yaml`` (its
radar reports, with clutter) by adding noise, dropping reports and whole scans, shifting
the time of one draw (scans the others lack) and moving the sensor of another; and from
synthetic ``xyz`` / ``los`` reports with more clutter than a k-d tree leaf holds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hyperdef.core.frames import lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.scenario import load_scenario
from hyperdef.sensors.detections import concat_detections, make_detections
from hyperdef.simulation import node_reports, run_scenario
from hyperdef.tracking.measurements import MEASUREMENT_MODELS
from hyperdef.tracking.tracker import TRACKS_SCHEMA, TrackerConfig, run_tracker

#: partition values, deliberately unsorted, negative and sparse
DRAWS = (7, -2, 40, 3)
#: the stretch of the simulated run with the target in view (s)
WINDOW_S = (370.0, 560.0)


def _set(table: pa.Table, name: str, values) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, values)


def _perturb(table: pa.Table, k: int, rng: np.random.Generator) -> pa.Table:
    """Draw ``k`` of the base reports (0: unchanged)."""
    if k == 0:
        return table
    keep = rng.random(table.num_rows) > 0.1  # reports dropped
    t = table.column("t").to_numpy()
    times = np.unique(t)
    gone = rng.choice(times, size=times.size // 5, replace=False)  # whole scans dropped
    keep &= ~np.isin(t, gone)
    table = table.filter(pa.array(keep))
    z = table.column("z").combine_chunks()
    noisy = z.values.to_numpy() * (1.0 + 1e-6 * rng.normal(size=len(z.values)))
    table = _set(table, "z", pa.ListArray.from_arrays(z.offsets, pa.array(noisy)))
    if k == 2:  # scans at times no other draw has
        table = _set(table, "t", pc.add(table.column("t"), 0.25))
    if k == 3:  # the sensor 5 m east (per-partition sensor state)
        table = _set(table, "sensor_x", pc.add(table.column("sensor_x"), 5.0))
    return table


def _with_draw(table: pa.Table, value: int) -> pa.Table:
    return table.append_column("draw", pa.array(np.full(table.num_rows, value, np.int64)))


@pytest.fixture(scope="module")
def scenario_draws():
    sc = load_scenario("scenarios/single_hgv.yaml")
    res = run_scenario(sc, seed=3)
    rng = np.random.default_rng(11)
    out = {}
    for node in ("USA", "JPN"):
        base = node_reports(res.detections, node, sc.links)
        t = base.column("t").to_numpy()
        base = base.filter(pa.array((t >= WINDOW_S[0]) & (t <= WINDOW_S[1])))
        out[node] = [_with_draw(_perturb(base, k, rng), v) for k, v in enumerate(DRAWS)]
    return sc, out


def _synthetic_draw(value: int, seed: int, los_site_shift_m: float) -> pa.Table:
    """Nine targets near (35 N, 140 E, 30 km), ``xyz`` reports with 20 clutter reports a
    scan (more than a k-d tree leaf) and ``los`` reports of an EO sensor, 15 s."""
    rng = np.random.default_rng(seed)
    center = lla_to_ecef(np.array([0.61, 2.44, 30e3]))
    site = lla_to_ecef(np.array([0.61, 2.43, 0.0]))
    eo = lla_to_ecef(np.array([0.60, 2.44, 0.0])) + np.array([los_site_shift_m, 0.0, 0.0])
    # eight targets 300 m apart, crossing at 2 km/s (several reports in a gate: the order
    # of a track's pairs matters to the JPDA sums), and one far away
    grid = np.array(np.unravel_index(np.arange(8), (2, 2, 2))).T * 300.0
    r0 = center + np.vstack([grid, [30e3, -20e3, 5e3]])
    heading = np.random.default_rng(0).normal(size=(9, 3))
    v = 2000.0 * heading / np.linalg.norm(heading, axis=1)[:, None]
    n_targets = len(r0)
    tables = []
    for t in np.arange(15.0):
        for kind, sensor, tt, pos0, noise, n_clutter in (
            ("xyz", "R", t, site, np.full(3, 60.0), 20),
            ("los", "EO", t + 0.5, eo, np.full(2, 2e-4), 1),
        ):
            r = r0 + v * tt
            seen = rng.random(n_targets) < 0.9
            pos = np.vstack([r[seen], center + rng.uniform(-60e3, 60e3, (n_clutter, 3))])
            state = np.zeros((len(pos), 6))
            state[:, :3] = pos
            mm = MEASUREMENT_MODELS[kind]
            z, _ = mm.predict(state, pos0, np.zeros(3))
            z = z + rng.normal(size=z.shape) * noise
            truth = np.r_[np.flatnonzero(seen), np.full(n_clutter, -1)]
            marking = np.full(len(z), "REL TO USA, JPN", dtype=object)
            if kind == "xyz":  # a copy of the first report, other truth and marking: a tie
                z, truth = np.vstack([z, z[:1]]), np.r_[truth, 9]
                marking = np.append(marking, "REL TO USA")
            tables.append(make_detections(
                t=np.full(len(z), tt), t_report=np.full(len(z), tt + 0.1), sensor_id=sensor,
                node="USA", meas_type=kind, z=z, R=np.diag(noise**2), sensor_r_ecef_m=pos0,
                sensor_v_ecef_m_s=np.zeros(3), snr=20.0, truth_id=truth,
                false_alarm=truth < 0, marking=marking.astype(str),
            ))
    return _with_draw(concat_detections(tables), value)


def assert_exact(draws, config, node, table=None):
    """Partitioned pass == separate runs, partition by partition; returns the result."""
    together = run_tracker(table if table is not None else pa.concat_tables(draws), config,
                           node=node, partition="draw")
    out = together.table
    assert out.column_names == [*TRACKS_SCHEMA.names, "draw"]
    assert out.schema.field("draw").type == pa.int64()
    values = out.column("draw").to_numpy()
    assert np.all(np.diff(values) >= 0), "rows not sorted by partition"
    total = {}
    for d in draws:
        v = d.column("draw")[0].as_py()
        alone = run_tracker(d.drop_columns(["draw"]), config, node=node)
        mine = out.filter(pc.equal(out.column("draw"), v)).drop_columns(["draw"])
        assert mine.schema == alone.table.schema
        assert mine.num_rows == alone.table.num_rows, f"draw {v}: row counts differ"
        for name in alone.table.column_names:
            a, b = mine.column(name).combine_chunks(), alone.table.column(name).combine_chunks()
            if pa.types.is_list(a.type):
                assert a.offsets.equals(b.offsets), f"draw {v}: column {name} differs"
                a, b = a.flatten(), b.flatten()
            if pa.types.is_floating(a.type):  # bit for bit
                np.testing.assert_array_equal(a.to_numpy().view(np.uint64),
                                              b.to_numpy().view(np.uint64),
                                              err_msg=f"draw {v}: column {name} differs")
            else:
                assert a.equals(b), f"draw {v}: column {name} differs"
        for key, count in alone.counts.items():
            if key == "reports_skipped":
                for reason, k in count.items():
                    total.setdefault(key, {})[reason] = total.get(key, {}).get(reason, 0) + k
            else:
                total[key] = total.get(key, 0) + count
    total.setdefault("reports_skipped", {})
    assert together.counts == total, "counts are not the sums over the partitions"
    return together


CONFIGS = {
    "cv_ekf_gnn": TrackerConfig(model="cv"),
    "imm_cv_glide": TrackerConfig(model="imm", imm_models=("cv", "glide")),
    "two_point": TrackerConfig(model="cv", initiation="two_point"),
    "jpda_cv": TrackerConfig(model="cv", association="jpda"),
    "jpda_imm": TrackerConfig(model="imm", imm_models=("cv", "singer"), association="jpda"),
    "ukf_ca": TrackerConfig(model="ca", filter="ukf"),
}


#: the configurations of the nodes of scenarios/single_hgv.yaml
NODE_CONFIGS = {"cv_ekf_gnn": "JPN", "imm_cv_glide": "USA"}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_scenario_draws_are_exact(scenario_draws, name):
    sc, draws = scenario_draws
    node = NODE_CONFIGS.get(name, "JPN")
    if name in NODE_CONFIGS:
        assert sc.trackers[node] == CONFIGS[name]
    res = assert_exact(draws[node], CONFIGS[name], node)
    assert res.counts["tracks_confirmed"] >= len(DRAWS)  # the target is tracked in each


def test_draws_with_scans_the_others_lack(scenario_draws):
    """A draw whose scans are all at other times, one with most scans dropped: neither
    sees the others' scans (no prediction, ageing or deletion on them)."""
    _, draws = scenario_draws
    base = draws["JPN"][0]
    half = np.floor(base.column("t").to_numpy()) % 4 < 2  # half the scans, in pairs
    sparse = _with_draw(base.filter(pa.array(half)).drop_columns(["draw"]), 5)
    late = _with_draw(draws["JPN"][2].drop_columns(["draw"]), 6)
    for config in (CONFIGS["cv_ekf_gnn"], CONFIGS["two_point"], CONFIGS["jpda_cv"]):
        assert_exact([base, sparse, late], config, "JPN")


def test_synthetic_xyz_los_clutter_is_exact():
    """xyz scans with more reports per partition than a k-d tree leaf, close targets
    (contested assignments, multi-track JPDA clusters), los reports from an EO sensor
    at a different place in each draw."""
    draws = [_synthetic_draw(v, seed, shift)
             for v, seed, shift in ((1, 1, 0.0), (2, 2, 3.0), (0, 3, -7.0))]
    for config in (TrackerConfig(), TrackerConfig(association="jpda"),
                   TrackerConfig(model="imm", imm_models=("cv", "ct"), association="jpda"),
                   TrackerConfig(initiation="two_point")):
        res = assert_exact(draws, config, "USA")
        assert res.counts["tracks_confirmed"] >= 3


def test_shuffled_rows_are_exact(scenario_draws):
    """Rows of the draws interleaved in any order: each partition keeps its own order."""
    _, draws = scenario_draws
    parts = draws["JPN"][:3]
    table = pa.concat_tables(parts)
    shuffled = table.take(pa.array(np.random.default_rng(5).permutation(table.num_rows)))
    values = shuffled.column("draw").to_numpy()
    alone = [shuffled.filter(pa.array(values == v)) for v in DRAWS[:3]]
    res = assert_exact(alone, CONFIGS["cv_ekf_gnn"], "JPN", table=shuffled)
    assert res.counts["out_of_order_rows"] > 0


def test_partition_column_and_track_ids(scenario_draws):
    _, draws = scenario_draws
    res = run_tracker(pa.concat_tables(draws["JPN"]), CONFIGS["cv_ekf_gnn"], node="JPN",
                      partition="draw")
    table = res.table
    np.testing.assert_array_equal(np.unique(table.column("draw").to_numpy()), sorted(DRAWS))
    for v in DRAWS:
        ids = table.filter(pc.equal(table.column("draw"), v)).column("track_id").to_numpy()
        assert ids.min() == 0
        np.testing.assert_array_equal(np.unique(ids), np.arange(ids.max() + 1))
    # one partition value: the run without partitions, plus the column
    one = run_tracker(draws["JPN"][1], CONFIGS["cv_ekf_gnn"], node="JPN", partition="draw")
    plain = run_tracker(draws["JPN"][1].drop_columns(["draw"]), CONFIGS["cv_ekf_gnn"],
                        node="JPN")
    assert one.table.drop_columns(["draw"]).equals(plain.table)
    assert set(one.table.column("draw").to_pylist()) == {DRAWS[1]}
    assert "draw" not in run_tracker(draws["JPN"][1], node="JPN").table.column_names
    # narrower integer types are accepted; the output column is int64
    small = pa.concat_tables(draws["JPN"][:2])
    small = _set(small, "draw", small.column("draw").cast(pa.int8()))
    out = run_tracker(small, node="JPN", partition="draw").table
    assert out.schema.field("draw").type == pa.int64()
    # an empty table
    empty = run_tracker(draws["JPN"][0].slice(0, 0), node="JPN", partition="draw")
    assert empty.table.num_rows == 0 and "draw" in empty.table.column_names


def test_bad_partition_is_an_input_error(scenario_draws):
    _, draws = scenario_draws
    det = draws["JPN"][0]
    cases = {
        "nope": det,
        "t": det,  # float column
        "sensor_id": det,  # string column
        "false_alarm": det,  # boolean column
        "truth_id": det,  # integer, but a Tracks column (and never read for decisions)
    }
    for name, table in cases.items():
        with pytest.raises(InputError, match=r"^partition: .*allowed: an integer column"):
            run_tracker(table, node="JPN", partition=name)
    nulls = det.append_column("run", pa.array([None] + [1] * (det.num_rows - 1), pa.int64()))
    with pytest.raises(InputError, match=r"^partition: .*null"):
        run_tracker(nulls, node="JPN", partition="run")
    with pytest.raises(InputError, match=r"^partition: expected a column name"):
        run_tracker(det, node="JPN", partition=3)


@pytest.mark.parametrize("partitioned", [False, True])
def test_without_covariances_only_the_P_column_is_null(scenario_draws, partitioned):
    """``covariances=False`` (a campaign's tracker passes): the same rows, with P null."""
    _, draws = scenario_draws
    table = pa.concat_tables(draws["USA"][:2]) if partitioned else draws["USA"][0]
    kwargs = {"partition": "draw"} if partitioned else {}
    config = CONFIGS["imm_cv_glide"]
    full = run_tracker(table, config, node="USA", **kwargs).table
    lean = run_tracker(table, config, node="USA", covariances=False, **kwargs).table
    assert lean.schema == full.schema
    assert lean.column("P").null_count == lean.num_rows > 0
    assert full.column("P").null_count == 0
    assert lean.drop_columns(["P"]).equals(full.drop_columns(["P"]))
    empty = run_tracker(table.slice(0, 0), config, node="USA", covariances=False, **kwargs)
    assert empty.table.num_rows == 0 and empty.table.schema == full.schema


def test_covariances_must_be_a_bool(scenario_draws):
    _, draws = scenario_draws
    with pytest.raises(InputError, match=r"^covariances: expected True or False"):
        run_tracker(draws["JPN"][0], node="JPN", covariances="no")


@pytest.mark.parametrize("name", ["imm_cv_glide", "jpda_imm"])
def test_estimate_after_updates_equals_a_fresh_combination(scenario_draws, name, monkeypatch):
    """A scan combines the IMM estimate again only for the tracks with a gated report;
    at every scan that must equal combining all tracks anew, to the bit."""
    from hyperdef.tracking import tracker as tracker_module

    original = tracker_module._Run._combined_again
    checked = []

    def checking(self, x6, P6, touched):
        x_again, P_again = original(self, x6.copy(), P6.copy(), touched)
        x_fresh, P_fresh = self._combined()
        np.testing.assert_array_equal(x_again, x_fresh)
        np.testing.assert_array_equal(P_again, P_fresh)
        checked.append(0 if touched is None else touched.size)
        return x_again, P_again

    monkeypatch.setattr(tracker_module._Run, "_combined_again", checking)
    _, draws = scenario_draws
    run_tracker(pa.concat_tables(draws["USA"][:2]), CONFIGS[name], node="USA", partition="draw")
    assert len(checked) > 50 and sum(checked) > 0 and 0 in checked


@pytest.mark.parametrize("partitioned", [False, True])
def test_summary_rows_keep_what_summaries_and_fire_control_read(scenario_draws, partitioned):
    """``rows='summary'``: every row of each track ever confirmed and one row per scan of
    each partition, nothing else; the summary of each partition's table is the same."""
    from hyperdef.tracking.metrics import summary as track_summary

    sc, draws = scenario_draws
    table = pa.concat_tables(draws["USA"][:2]) if partitioned else draws["USA"][0]
    kwargs = {"partition": "draw"} if partitioned else {}
    config = CONFIGS["imm_cv_glide"]
    full = run_tracker(table, config, node="USA", covariances=False, **kwargs).table
    res = run_tracker(table, config, node="USA", covariances=False, rows="summary", **kwargs)
    lean = res.table
    assert lean.schema == full.schema and 0 < lean.num_rows < full.num_rows / 2
    part = (full.column("draw").to_numpy() if partitioned else np.zeros(full.num_rows, int))
    ids = full.column("track_id").to_numpy()
    t = full.column("t").to_numpy()
    status = np.asarray(full.column("status").to_pylist())
    firm = {(p, i) for p, i, s in zip(part, ids, status, strict=True) if s == "confirmed"}
    assert firm  # the target's track
    keys = list(zip(part, ids, strict=True))
    ever = np.array([k in firm for k in keys])
    # expected: the firm tracks' rows plus the first row of each (partition, scan time)
    first = np.r_[True, (part[1:] != part[:-1]) | (t[1:] != t[:-1])]
    lean_keys = set(zip(lean.column("draw").to_numpy() if partitioned
                        else np.zeros(lean.num_rows, int),
                        lean.column("track_id").to_numpy(), lean.column("t").to_numpy(),
                        strict=True))
    assert {(p, i, tt) for p, i, tt, e in zip(part, ids, t, ever, strict=True) if e} <= lean_keys
    assert set(zip(part[first], t[first], strict=True)) == {(p, tt) for p, _, tt in lean_keys}
    never = lean_keys - {(p, i, tt) for p, i, tt, e in zip(part, ids, t, ever, strict=True)
                         if e}
    # besides the firm tracks: at most a row per emitted block (two per scan)
    assert len(never) <= 2 * res.counts["scans"]
    truth = run_scenario(sc, seed=3).truth
    for value in (np.unique(part) if partitioned else [0]):
        pick_full = full.filter(pa.array(part == value))
        lean_part = (lean.column("draw").to_numpy() if partitioned
                     else np.zeros(lean.num_rows, int))
        pick_lean = lean.filter(pa.array(lean_part == value))
        assert track_summary(pick_lean, truth) == track_summary(pick_full, truth)


def test_rows_must_be_all_or_summary(scenario_draws):
    _, draws = scenario_draws
    with pytest.raises(InputError, match="rows: 'confirmed' is not one of all, summary"):
        run_tracker(draws["USA"][0], CONFIGS["cv_ekf_gnn"], node="USA", rows="confirmed")


def test_all_pairs_pregate_equals_the_kdtree_pregate(monkeypatch):
    """Small partitions test every same-partition pair instead of building k-d trees:
    the same pairs, in the same order (by track, then report)."""
    from hyperdef.tracking import tracker as tracker_module

    rng = np.random.default_rng(5)
    compared = 0
    for trial in range(120):
        n_t, n_d, n_parts = rng.integers(1, 150), rng.integers(1, 80), rng.integers(1, 40)
        track_pos = rng.normal(size=(n_t, 3)) * 10.0
        det_pos = rng.normal(size=(n_d, 3)) * 10.0
        track_part = rng.integers(0, n_parts, n_t)
        det_part = rng.integers(0, n_parts, n_d)
        if trial % 2:  # as the scan passes them: reports grouped by partition
            det_part = np.sort(det_part)
        radius = rng.uniform(0.0, 15.0, n_t)
        fast = tracker_module._pairs_in_partitions(track_pos, radius, det_pos, track_part,
                                                   det_part)
        if fast is None:
            continue
        with monkeypatch.context() as m:
            m.setattr(tracker_module, "_ALL_PAIRS_PER_POINT", -1)  # the k-d trees always
            assert tracker_module._pairs_in_partitions(track_pos, radius, det_pos,
                                                       track_part, det_part) is None
            trees = tracker_module._pairs_apart(track_pos, radius, det_pos, track_part,
                                                det_part)
        np.testing.assert_array_equal(fast[0], trees[0])
        np.testing.assert_array_equal(fast[1], trees[1])
        compared += 1
    assert compared > 100
    # many pairs per point: the k-d trees
    one = np.zeros(400, np.int64)
    assert tracker_module._pairs_in_partitions(np.zeros((400, 3)), np.ones(400),
                                               np.zeros((400, 3)), one, one) is None
