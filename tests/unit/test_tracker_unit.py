"""Unit tests of hyperdef.tracking.tracker: run_tracker, TrackerConfig, Tracks I/O."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hyperdef.core.frames import lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.sensors.detections import concat_detections, make_detections
from hyperdef.tracking.measurements import MEASUREMENT_MODELS
from hyperdef.tracking.tracker import (
    TRACKS_COLUMNS,
    TRACKS_SCHEMA,
    TrackerConfig,
    read_tracks,
    run_tracker,
    write_tracks,
)

CENTER = lla_to_ecef(np.array([0.6, 2.3, 30e3]))
SITE = lla_to_ecef(np.array([0.6, 2.3 - 0.03, 0.0]))  # ~150 km west of the targets
DESIGN_COLUMNS = "t track_id node status x y z vx vy vz P model_probs marking".split()


def targets(n, spacing=60e3, speed=2000.0, seed=0):
    """Initial ECEF positions on a grid (well separated) and random 2 km/s velocities."""
    rng = np.random.default_rng(seed)
    g = int(np.ceil(n ** (1 / 3)))
    idx = np.array(np.unravel_index(np.arange(n), (g, g, g))).T
    r0 = CENTER + (idx - (g - 1) / 2) * spacing
    d = rng.normal(size=(n, 3))
    return r0, speed * d / np.linalg.norm(d, axis=1)[:, None]


def scans(
    r0,
    v,
    times,
    *,
    pd=0.95,
    clutter=3.0,
    sigma=50.0,
    seed=1,
    sensor="R1",
    marking="REL TO USA, JPN",
    meas_type="xyz",
    alive_until=np.inf,
):
    """Detections of targets moving in straight lines, plus uniform Poisson clutter."""
    rng = np.random.default_rng(seed)
    mm = MEASUREMENT_MODELS[meas_type]
    noise = {
        "xyz": np.full(3, sigma),
        "rae": np.array([sigma, 5e-4, 5e-4]),
        "los": np.array([2e-4, 2e-4]),
    }[meas_type]
    R = np.diag(noise**2)
    span = np.abs(r0 - CENTER).max() + 20e3
    tables = []
    for t in times:
        r = r0 + v * t
        det = (rng.random(len(r0)) < pd) & (t < alive_until)
        pos = np.vstack([r[det], CENTER + rng.uniform(-span, span, (rng.poisson(clutter), 3))])
        state = np.zeros((len(pos), 6))
        state[:, :3] = pos
        z, _ = mm.predict(state, SITE, np.zeros(3))
        z = z + rng.normal(size=z.shape) * noise
        truth = np.concatenate([np.flatnonzero(det), np.full(len(pos) - det.sum(), -1)])
        if len(z) == 0:
            continue
        tables.append(
            make_detections(
                t=np.full(len(z), t),
                t_report=np.full(len(z), t + 0.1),
                sensor_id=sensor,
                node="USA",
                meas_type=meas_type,
                z=z,
                R=R,
                sensor_r_ecef_m=SITE,
                sensor_v_ecef_m_s=np.zeros(3),
                snr=20.0,
                truth_id=truth,
                false_alarm=truth < 0,
                marking=marking,
            )
        )
    return concat_detections(tables)


def confirmed(table):
    return table.filter(pc.equal(table["status"], "confirmed"))


def id_truth_map(table):
    """truth_id -> set of confirmed track ids that carried it, and the reverse."""
    c = confirmed(table)
    by_truth, by_track = {}, {}
    for tid, truth in zip(c["track_id"].to_pylist(), c["truth_id"].to_pylist(), strict=True):
        if truth >= 0:
            by_truth.setdefault(truth, set()).add(tid)
            by_track.setdefault(tid, set()).add(truth)
    return by_truth, by_track


@pytest.fixture(scope="module")
def twenty():
    r0, v = targets(20)
    det = scans(r0, v, np.arange(25.0))
    return det, run_tracker(det)


# ----------------------------------------------------------------- tracking


def test_confirms_all_targets_with_stable_ids(twenty):
    det, res = twenty
    by_truth, by_track = id_truth_map(res.table)
    assert sorted(by_truth) == list(range(20))
    assert all(len(ids) == 1 for ids in by_truth.values()), by_truth  # one id per target
    assert all(len(tr) == 1 for tr in by_track.values()), by_track  # no swaps
    last = res.table.filter(pc.equal(res.table["t"], 24.0))
    assert pc.sum(pc.equal(last["status"], "confirmed")).as_py() == 20
    assert res.counts["scans"] == 25
    assert res.counts["reports"] == det.num_rows
    assert res.counts["reports_skipped"] == {}


def test_estimates_are_accurate(twenty):
    _, res = twenty
    r0, v = targets(20)
    c = confirmed(res.table).filter(
        pc.greater(res.table.filter(pc.equal(res.table["status"], "confirmed"))["t"], 10.0)
    )
    truth = np.array(c["truth_id"].to_pylist())
    t = c["t"].to_numpy()
    pos = np.column_stack([c[k].to_numpy() for k in "xyz"])
    vel = np.column_stack([c[k].to_numpy() for k in ("vx", "vy", "vz")])
    err = np.linalg.norm(pos - (r0[truth] + v[truth] * t[:, None]), axis=1)
    assert np.sqrt(np.mean(err**2)) < 80.0
    assert np.sqrt(np.mean(np.sum((vel - v[truth]) ** 2, axis=1))) < 60.0


def test_one_row_per_track_per_scan_and_ids_in_creation_order(twenty):
    _, res = twenty
    tab = res.table
    keys = list(zip(tab["t"].to_pylist(), tab["track_id"].to_pylist(), strict=True))
    assert len(keys) == len(set(keys))
    t = tab["t"].to_numpy()
    assert np.all(np.diff(t) >= 0)
    first_seen = {}
    for tt, tid in keys:
        first_seen.setdefault(tid, tt)
    ids = sorted(first_seen)
    assert ids == list(range(len(ids)))
    assert all(first_seen[a] <= first_seen[b] for a, b in zip(ids, ids[1:], strict=False))
    # no rows after a deleted row
    deleted = tab.filter(pc.equal(tab["status"], "deleted"))
    for tt, tid in zip(deleted["t"].to_pylist(), deleted["track_id"].to_pylist(), strict=True):
        later = tab.filter(pc.and_(pc.equal(tab["track_id"], tid), pc.greater(tab["t"], tt)))
        assert later.num_rows == 0


def test_output_schema_is_design(twenty):
    _, res = twenty
    assert res.table.schema.equals(TRACKS_SCHEMA)
    assert list(TRACKS_COLUMNS) == DESIGN_COLUMNS
    assert res.table.column_names[: len(DESIGN_COLUMNS)] == DESIGN_COLUMNS
    P = np.array(res.table["P"].to_pylist()[:50]).reshape(-1, 6, 6)
    np.testing.assert_allclose(P, np.swapaxes(P, 1, 2))
    assert np.all(np.linalg.eigvalsh(P) > 0)
    assert set(res.table["node"].to_pylist()) == {"USA"}
    assert set(res.table["model_probs"].to_pylist()[0]) == {1.0}


def test_deletes_tracks_after_targets_disappear():
    r0, v = targets(8)
    gone = scans(r0, v, np.arange(30.0), alive_until=12.0, clutter=0.0)
    stay = scans(r0[:1] + 2e6, v[:1], np.arange(30.0), clutter=0.0, seed=5)  # far away
    res = run_tracker(concat_detections([gone, stay]), TrackerConfig(max_misses=4))
    tab = res.table
    deleted = tab.filter(pc.equal(tab["status"], "deleted"))
    assert deleted.num_rows == res.counts["tracks_deleted"] >= 8
    ids = set(confirmed(tab.filter(pc.less(tab["t"], 12.0)))["track_id"].to_pylist())
    assert len(ids) == 9
    ends = []
    for tid in ids:
        rows = tab.filter(pc.equal(tab["track_id"], tid))
        ends.append((rows["t"].to_numpy()[-1], rows["status"].to_pylist()[-1]))
    # the 8 vanished targets' tracks end with a deleted row after exactly max_misses misses
    # (last report at t = 11, misses at 12, 13, 14, 15); the far target's track lives on
    assert sorted(ends) == [(15.0, "deleted")] * 8 + [(29.0, "confirmed")]


@pytest.mark.parametrize(("m", "n"), [(3, 5), (2, 3), (1, 1), (4, 4)])
def test_m_of_n_confirmation_timing_is_exact(m, n):
    r0, v = targets(5)
    det = scans(r0, v, np.arange(8.0), pd=1.0, clutter=0.0)
    res = run_tracker(det, TrackerConfig(confirm_m=m, confirm_n=n))
    tab = res.table
    first = confirmed(tab)
    t_first = {}
    for tt, tid in zip(first["t"].to_pylist(), first["track_id"].to_pylist(), strict=True):
        t_first.setdefault(tid, tt)
    assert sorted(t_first) == list(range(5))
    assert set(t_first.values()) == {float(m - 1)}
    before = tab.filter(pc.less(tab["t"], m - 1.0))
    assert set(before["status"].to_pylist()) <= {"tentative"}


def test_tentative_track_deleted_when_m_of_n_cannot_be_met():
    # one report, then nothing: with 2-of-3 the track dies at the second miss
    r0, v = targets(1)
    det = scans(r0, v, np.arange(6.0), pd=1.0, clutter=0.0)
    det = det.filter(pc.equal(det["t"], 0.0))
    other = scans(r0 + 5e6, v, np.arange(1.0, 6.0), pd=1.0, clutter=0.0)  # far away
    res = run_tracker(concat_detections([det, other]), TrackerConfig(confirm_m=2, confirm_n=3))
    rows = res.table.filter(pc.equal(res.table["track_id"], 0))
    assert rows["status"].to_pylist() == ["tentative", "tentative", "deleted"]


def test_two_sensors_interleaved_in_time_order():
    r0, v = targets(6)
    a = scans(r0, v, np.arange(0.0, 20.0), sensor="A", seed=3)
    b = scans(r0, v, np.arange(0.5, 20.0), sensor="B", seed=4, marking="REL TO USA, AUS")
    det = pa.concat_tables([a, b])  # not sorted by time
    res = run_tracker(det)
    assert res.counts["out_of_order_rows"] == 1
    assert res.counts["scans"] == 40
    tab = res.table
    assert np.all(np.diff(tab["t"].to_numpy()) >= 0)
    by_truth, by_track = id_truth_map(tab)
    assert sorted(by_truth) == list(range(6))
    assert all(len(ids) == 1 for ids in by_truth.values())
    # same answer as the sorted input
    ref = run_tracker(concat_detections([a, b]))
    assert ref.table.equals(tab)
    # tracks updated by both sensors are releasable to the intersection only
    last = confirmed(tab).filter(
        pc.equal(tab.filter(pc.equal(tab["status"], "confirmed"))["t"], 19.5)
    )
    assert set(last["marking"].to_pylist()) == {"REL TO USA"}
    assert max(last["n_updates"].to_pylist()) > 30


def test_marking_fallback_when_no_common_nation():
    r0, v = targets(2)
    a = scans(r0, v, np.arange(0.0, 6.0), sensor="A", marking="REL TO JPN", clutter=0, pd=1)
    b = scans(r0, v, np.arange(0.5, 6.0), sensor="B", marking="REL TO AUS", clutter=0, pd=1)
    res = run_tracker(concat_detections([a, b]), node="USA")
    marks = res.table["marking"].to_pylist()
    assert marks[0] == "REL TO JPN"
    assert marks[-1] == "REL TO USA"  # fallback: the tracker's own node
    with pytest.raises(InputError, match="node"):
        run_tracker(concat_detections([a, b]), node="XXX")


def test_imm_runs_and_reports_model_probabilities():
    r0, v = targets(4)
    det = scans(r0, v, np.arange(12.0), clutter=1.0)
    res = run_tracker(det, TrackerConfig(model="imm", imm_models=("cv", "ca")))
    probs = np.array(res.table["model_probs"].to_pylist())
    assert probs.shape[1] == 2
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    by_truth, _ = id_truth_map(res.table)
    assert sorted(by_truth) == list(range(4))


@pytest.mark.parametrize(
    "cfg",
    [
        TrackerConfig(association="jpda", clutter_density=1e-14),
        TrackerConfig(filter="ukf"),
        TrackerConfig(filter="ckf", model="ca"),
        TrackerConfig(initiation="two_point"),
        TrackerConfig(model="imm", association="jpda", clutter_density=1e-14),
    ],
)
def test_variants_confirm_all_targets(cfg):
    r0, v = targets(6)
    det = scans(r0, v, np.arange(15.0), clutter=2.0)
    res = run_tracker(det, cfg)
    by_truth, by_track = id_truth_map(res.table)
    assert sorted(by_truth) == list(range(6))
    assert all(len(tr) == 1 for tr in by_track.values())
    assert res.counts["update_failures"] == 0


def test_two_point_velocity_from_differencing():
    r0, v = targets(3)
    det = scans(r0, v, np.arange(4.0), pd=1.0, clutter=0.0, sigma=1.0)
    res = run_tracker(det, TrackerConfig(initiation="two_point"))
    tab = res.table
    first = tab.filter(pc.equal(tab["t"], 1.0))
    assert first.num_rows == 3 and set(first["n_updates"].to_pylist()) == {2}
    vel = np.column_stack([first[k].to_numpy() for k in ("vx", "vy", "vz")])
    np.testing.assert_allclose(vel, v[first["truth_id"].to_numpy()], atol=5.0)
    assert tab.filter(pc.equal(tab["t"], 0.0)).num_rows == 0  # waiting for a partner


def test_rae_radar_and_los_reports():
    r0, v = targets(3)
    rae = scans(r0, v, np.arange(0.0, 12.0), meas_type="rae", sensor="RAD", sigma=30.0)
    los = scans(r0, v, np.arange(0.5, 12.0), meas_type="los", sensor="EO", clutter=0.0)
    res = run_tracker(concat_detections([rae, los]))
    by_truth, by_track = id_truth_map(res.table)
    assert sorted(by_truth) == [0, 1, 2]
    assert all(len(tr) == 1 for tr in by_track.values())
    c = confirmed(res.table)
    assert max(c["n_updates"].to_pylist()) > 14  # los reports update tracks too
    # los reports alone never start a track
    alone = run_tracker(los)
    assert alone.table.num_rows == 0 and alone.counts["tracks_created"] == 0


# ----------------------------------------------------------------- truth isolation


def test_truth_id_is_never_used(twenty):
    det, res = twenty
    rng = np.random.default_rng(9)
    shuffled = det.set_column(
        det.column_names.index("truth_id"),
        "truth_id",
        pa.array(rng.permutation(det["truth_id"].to_numpy())),
    )
    other = run_tracker(shuffled)
    a = res.table.drop_columns(["truth_id"])
    b = other.table.drop_columns(["truth_id"])
    assert a.equals(b)
    no_truth = run_tracker(det.drop_columns(["truth_id", "false_alarm"]))
    assert no_truth.table.drop_columns(["truth_id"]).equals(a)
    assert set(no_truth.table["truth_id"].to_pylist()) == {-1}


# ----------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def small():
    r0, v = targets(3)
    return scans(r0, v, np.arange(6.0), pd=1.0, clutter=0.0)


def _replace(table, name, values, typ=None):
    return table.set_column(table.column_names.index(name), name, pa.array(values, typ))


def test_missing_columns_named(small):
    with pytest.raises(InputError, match="missing columns meas_type, R"):
        run_tracker(small.drop_columns(["meas_type", "R"]))


def test_unknown_meas_type_names_row_and_column(small):
    kinds = small["meas_type"].to_pylist()
    kinds[7] = "radar"
    with pytest.raises(InputError, match=r"row 7, column meas_type: 'radar' unknown"):
        run_tracker(_replace(small, "meas_type", kinds))


def test_wrong_z_length_names_row_and_column(small):
    z = small["z"].to_pylist()
    z[4] = z[4][:2]
    with pytest.raises(InputError, match=r"row 4, column z: 'xyz' needs 3 values, got 2"):
        run_tracker(_replace(small, "z", z, pa.list_(pa.float64())))


def test_bad_marking_names_row(small):
    marks = small["marking"].to_pylist()
    marks[2] = "SECRET"
    with pytest.raises(InputError, match=r"row 2, column marking"):
        run_tracker(_replace(small, "marking", marks))


def test_nan_measurement_and_non_psd_covariance_are_skipped_and_counted(small):
    z = small["z"].to_pylist()
    z[3] = [np.nan, 1.0, 2.0]
    z[5] = None
    R = small["R"].to_pylist()
    R[8] = list((np.diag([1.0, -4.0, 1.0]) * 2500).ravel())
    R[9] = list((np.array([[1, 2, 0], [0, 1, 0], [0, 0, 1.0]]) * 2500).ravel())  # asymmetric
    R[10] = [np.nan] * 9
    sx = small["sensor_x"].to_numpy().copy()
    sx[11] = np.nan
    t = small["t"].to_numpy().copy()
    t[12] = np.nan
    bad = _replace(small, "z", z, pa.list_(pa.float64()))
    bad = _replace(bad, "R", R, pa.list_(pa.float64()))
    bad = _replace(bad, "sensor_x", sx)
    bad = _replace(bad, "t", t)
    res = run_tracker(bad)
    assert res.counts["reports_skipped"] == {
        "nan_measurement": 2,
        "non_psd_covariance": 2,
        "nan_covariance": 1,
        "nan_time": 1,
        "nan_sensor_state": 1,
    }
    by_truth, _ = id_truth_map(res.table)
    assert sorted(by_truth) == [0, 1, 2]


def test_several_nodes_need_node_argument(small):
    nodes = small["node"].to_pylist()
    nodes[0] = "JPN"
    with pytest.raises(InputError, match="node="):
        run_tracker(_replace(small, "node", nodes))
    assert run_tracker(_replace(small, "node", nodes), node="JPN").table.num_rows > 0


def test_empty_input_gives_empty_table(small):
    res = run_tracker(small.slice(0, 0), node="USA")
    assert res.table.num_rows == 0 and res.table.schema.equals(TRACKS_SCHEMA)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model": "kalman"}, "model"),
        ({"filter": "pf"}, "filter"),
        ({"association": "mht"}, "association"),
        ({"gate_probability": 1.0}, "gate_probability"),
        ({"confirm_m": 4, "confirm_n": 3}, "confirm_m"),
        ({"confirm_n": 2.5}, "confirm_n"),
        ({"max_misses": 0}, "max_misses"),
        ({"max_coast_s": -1.0}, "max_coast_s"),
        ({"initiation": "three_point"}, "initiation"),
        ({"velocity_sigma_m_s": float("nan")}, "velocity_sigma_m_s"),
        ({"detection_probability": 0.0}, "detection_probability"),
        ({"clutter_density": 0.0}, "clutter_density"),
        ({"imm_models": ("cv", "bogus")}, r"imm_models\[1\]"),
        ({"imm_transition": ((0.9, 0.2), (0.1, 0.9))}, "imm_transition"),
    ],
)
def test_config_errors_name_the_field(kwargs, field):
    with pytest.raises(InputError, match=f"TrackerConfig.{field}"):
        TrackerConfig(**kwargs)


# ----------------------------------------------------------------- files


def test_write_read_round_trip_and_schema_check(twenty, tmp_path):
    _, res = twenty
    path = tmp_path / "tracks.parquet"
    write_tracks(res.table, path)
    assert read_tracks(path).equals(res.table)
    with pytest.raises(InputError, match="missing columns status"):
        write_tracks(res.table.drop_columns(["status"]), tmp_path / "bad.parquet")
    assert not (tmp_path / "bad.parquet").exists()
    import pyarrow.parquet as pq

    pq.write_table(res.table.drop_columns(["P"]), tmp_path / "other.parquet")
    with pytest.raises(InputError, match="missing columns P"):
        read_tracks(tmp_path / "other.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.parquet", "tracks.parquet"]


def test_numerical_failure_of_one_update_coasts_that_track(small, monkeypatch):
    import dataclasses

    import hyperdef.tracking.tracker as tracker_module
    from hyperdef.tracking.filters import FILTERS

    bad_z = small["z"].to_pylist()[7][0]
    real = FILTERS["ekf"]

    def failing_update(x, P, z, R, mm, sr, sv):
        if np.any(z[:, 0] == bad_z):
            raise np.linalg.LinAlgError("injected")
        return real.update_kernel(x, P, z, R, mm, sr, sv)

    patched = dict(FILTERS, ekf=dataclasses.replace(real, update_kernel=failing_update))
    monkeypatch.setattr(tracker_module, "FILTERS", patched)
    res = run_tracker(small)
    assert res.counts["update_failures"] == 1
    assert res.counts["tracks_created"] == 3  # the report of the failed update starts none
    by_truth, _ = id_truth_map(res.table)
    assert sorted(by_truth) == [0, 1, 2]


def test_tracker_settings_from_a_plain_mapping():
    """YAML/JSON settings: lists become tuples, model parameters may be nested mappings,
    overrides win, and errors name the field and key."""
    from hyperdef.tracking.tracker import TrackerConfig

    cfg = TrackerConfig.from_settings(
        {"model": "imm", "imm_models": ["cv", "glide"],
         "model_parameters": {"cv": {"sigma_a_m_s2": 5.0}}}, "nodes[0].tracker",
        association="jpda", model=None)
    assert cfg.imm_models == ("cv", "glide") and cfg.association == "jpda"
    assert cfg.model_parameters == (("cv", "sigma_a_m_s2", 5.0),)
    with pytest.raises(InputError, match=r"^nodes\[0\]\.tracker\.modle: unknown tracker "):
        TrackerConfig.from_settings({"modle": "cv"}, "nodes[0].tracker")
    with pytest.raises(InputError, match=r"^settings: .*model"):
        TrackerConfig.from_settings({"model": "warp"}, "settings")
    with pytest.raises(InputError, match="expected a mapping"):
        TrackerConfig.from_settings(["cv"], "settings")
