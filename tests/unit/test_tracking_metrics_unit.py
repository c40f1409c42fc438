"""Unit tests of hyperdef.tracking.metrics on hand-computed cases and constructed tables.

Hand cases: OSPA (Schuhmacher, Vo & Vo 2008, eq. 3) and GOSPA (Rahmathullah,
Garcia-Fernandez & Svensson 2017, Definition 1 and Proposition 1) of small sets worked by
hand; properties: both are metrics (triangle inequality, symmetry) for p >= 1, alpha = 2.
Tracks tables are built by hand with the DESIGN.md columns plus ``truth_id``.
"""

import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi2

from hyperdef.errors import InputError
from hyperdef.threats.trajectory import Trajectory
from hyperdef.tracking import metrics as M

# ----------------------------------------------------------------------------- helpers

R0 = np.array([[6.5e6, 0.0, 0.0], [6.5e6, 1.0e5, 0.0], [6.5e6, -1.0e5, 0.0]])
V0 = np.array([[0.0, 2000.0, 0.0], [0.0, 2000.0, 100.0], [0.0, 1500.0, 0.0]])


def straight_lines(spans):
    """Trajectory of len(spans) objects in uniform motion; object i alive on spans[i]."""
    ts, rs, vs, counts = [], [], [], []
    for i, (t0, t1) in enumerate(spans):
        t = np.arange(t0, t1 + 0.5, 1.0)
        ts.append(t)
        rs.append(R0[i] + V0[i] * t[:, None])
        vs.append(np.broadcast_to(V0[i], (t.size, 3)))
        counts.append(t.size)
    t = np.concatenate(ts)
    m, b = t.size, len(spans)
    return Trajectory(
        kind=np.array(["hgv"] * b, dtype=object),
        offsets=np.concatenate([[0], np.cumsum(counts)]),
        t=t,
        r_ecef_m=np.concatenate(rs),
        v_ecef_m_s=np.concatenate(vs),
        a_ecef_m_s2=np.zeros((m, 3)),
        lla=np.zeros((m, 3)),
        mass_kg=np.ones(m),
        mach=np.ones(m),
        dynamic_pressure_pa=np.zeros(m),
        heat_flux_w_m2=np.zeros(m),
        phase=np.zeros(m, dtype=np.int8),
        launch_lla=np.zeros((b, 3)),
        aim_lla=np.zeros((b, 3)),
        status=np.array(["impact"] * b, dtype=object),
    )


def truth_state(obj, t):
    return np.concatenate([R0[obj] + V0[obj] * t, V0[obj]])


def tracks_table(rows, sigma=10.0):
    """rows: (t, track_id, status, truth_id, state (6,)) tuples."""
    t, tid, status, truth, state = zip(*rows, strict=True) if rows else ([],) * 5
    state = np.asarray(state, float).reshape(-1, 6)
    n = len(t)
    P = (np.eye(6) * sigma**2).reshape(-1).tolist()
    return pa.table(
        {
            "t": pa.array(t, pa.float64()),
            "track_id": pa.array(tid, pa.int64()),
            "node": pa.array(["USA-1"] * n, pa.string()),
            "status": pa.array(status, pa.string()),
            **{c: state[:, i] for i, c in enumerate(("x", "y", "z", "vx", "vy", "vz"))},
            "P": pa.array([P] * n, pa.list_(pa.float64())),
            "model_probs": pa.array([[1.0]] * n, pa.list_(pa.float64())),
            "marking": pa.array(["REL TO USA"] * n, pa.string()),
            "truth_id": pa.array(truth, pa.int64()),
        }
    )


# ----------------------------------------------------------------------------- OSPA


def test_ospa_empty_sets():
    assert M.ospa(np.empty((0, 3)), np.empty((0, 3)), c=100.0) == 0.0
    assert M.ospa(np.zeros((2, 3)), np.empty((0, 3)), c=100.0) == 100.0
    assert M.ospa([], [[1.0, 2.0]], c=7.0) == 7.0


def test_ospa_equal_sets_is_zero():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, -2.0]])
    assert M.ospa(x, x[::-1], c=5.0) == 0.0


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_ospa_one_missed_target(p):
    c = 50.0
    x = np.array([[0.0, 0.0], [1000.0, 0.0]])
    y = x[:1]
    assert M.ospa(x, y, c, p) == pytest.approx((c**p / 2) ** (1 / p), rel=1e-12)


def test_ospa_localisation_and_cutoff():
    assert M.ospa([[0.0]], [[3.0]], c=10.0) == pytest.approx(3.0)
    assert M.ospa([[0.0]], [[30.0]], c=10.0) == pytest.approx(10.0)
    # two pairs 3 and 4 apart, p=2: sqrt((9 + 16) / 2)
    got = M.ospa([[0.0, 0.0], [100.0, 0.0]], [[100.0, 4.0], [3.0, 0.0]], c=10.0)
    assert got == pytest.approx(np.sqrt(12.5))


def test_ospa_rejects_bad_input():
    with pytest.raises(InputError, match="c:"):
        M.ospa([[0.0]], [[1.0]], c=0.0)
    with pytest.raises(InputError, match="p:"):
        M.ospa([[0.0]], [[1.0]], c=1.0, p=0.5)
    with pytest.raises(InputError, match="same dimension"):
        M.ospa([[0.0, 1.0]], [[1.0, 2.0, 3.0]], c=1.0)


# ----------------------------------------------------------------------------- GOSPA


def test_gospa_missed_and_false_terms():
    c, p = 20.0, 2.0
    x = np.array([[0.0, 0.0], [500.0, 0.0]])
    r = M.gospa(x, x[:1], c, p)
    assert (r.n_missed, r.n_false) == (1, 0)
    assert r.missed == pytest.approx(c**p / 2)
    assert r.false == 0.0 and r.localisation == 0.0
    assert r.distance == pytest.approx((c**p / 2) ** (1 / p))
    r = M.gospa(x[:1], x, c, p)
    assert (r.n_missed, r.n_false) == (0, 1)
    assert r.false == pytest.approx(c**p / 2)


def test_gospa_far_pair_is_one_missed_and_one_false():
    r = M.gospa([[0.0]], [[30.0]], c=10.0, p=2.0)
    assert (r.n_missed, r.n_false) == (1, 1)
    assert r.localisation == 0.0
    assert r.missed == r.false == pytest.approx(50.0)
    assert r.distance == pytest.approx(10.0)


def test_gospa_localisation_and_empty():
    r = M.gospa([[0.0], [100.0]], [[3.0], [104.0]], c=10.0, p=2.0)
    assert r.localisation == pytest.approx(25.0)
    assert r.distance == pytest.approx(5.0)
    r = M.gospa(np.empty((0, 3)), np.empty((0, 3)), c=10.0)
    assert r.distance == 0.0
    r = M.gospa(np.zeros((3, 3)), np.empty((0, 3)), c=10.0, p=1.0)
    assert r.distance == pytest.approx(15.0) and r.n_missed == 3


def test_gospa_general_alpha():
    # p = 1, alpha = 1: cardinality mismatch costs c, assigned pairs min(d, c)
    r = M.gospa([[0.0], [5.0]], [[0.0]], c=10.0, p=1.0, alpha=1.0)
    assert r.distance == pytest.approx(10.0)
    with pytest.raises(InputError, match="alpha"):
        M.gospa([[0.0]], [[0.0]], c=1.0, alpha=3.0)


sets = st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=0, max_size=5).map(
    lambda v: np.asarray(v, float).reshape(-1, 2)
)


@given(sets, sets, sets, st.sampled_from([1.0, 2.0, 3.0]))
def test_ospa_is_a_metric(x, y, z, p):
    c = 20.0
    assert M.ospa(x, z, c, p) <= M.ospa(x, y, c, p) + M.ospa(y, z, c, p) + 1e-9
    assert M.ospa(x, y, c, p) == pytest.approx(M.ospa(y, x, c, p), abs=1e-9)
    assert 0.0 <= M.ospa(x, y, c, p) <= c + 1e-12


@given(sets, sets, sets, st.sampled_from([1.0, 2.0]))
def test_gospa_is_a_metric(x, y, z, p):
    c = 20.0

    def d(a, b):
        return M.gospa(a, b, c, p).distance

    assert d(x, z) <= d(x, y) + d(y, z) + 1e-9
    assert d(x, y) == pytest.approx(d(y, x), abs=1e-9)
    r = M.gospa(x, y, c, p)
    assert r.distance**p == pytest.approx(r.localisation + r.missed + r.false, abs=1e-9)


# ----------------------------------------------------------------------------- NEES / NIS


def test_nees_identity_and_batch_agreement():
    rng = np.random.default_rng(1)
    e = rng.normal(size=(7, 4))
    P = np.broadcast_to(np.eye(4), (7, 4, 4))
    np.testing.assert_allclose(M.nees(e, P), np.sum(e**2, axis=1), rtol=1e-12)
    A = rng.normal(size=(7, 4, 4))
    S = A @ A.transpose(0, 2, 1) + 4 * np.eye(4)
    batch = M.nis(e, S)
    single = np.array([M.nis(e[i], S[i])[0] for i in range(7)])
    np.testing.assert_allclose(batch, single, rtol=1e-12)
    with pytest.raises(InputError, match="P"):
        M.nees(e, np.eye(3)[None])


def test_chi2_band_matches_scipy():
    lo, hi = M.chi2_band(3, 1)
    assert lo == pytest.approx(chi2.ppf(0.025, 3)) and hi == pytest.approx(chi2.ppf(0.975, 3))
    lo, hi = M.chi2_band(6, 25, confidence=0.99)
    assert lo == pytest.approx(chi2.ppf(0.005, 150) / 25)
    assert hi == pytest.approx(chi2.ppf(0.995, 150) / 25)
    with pytest.raises(InputError, match="n_runs"):
        M.chi2_band(3, 0)
    assert M.fraction_inside_band([1.0, 2.0, 5.0, np.nan], 0.5, 2.5) == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------- tables


def on_truth(t, tid, obj, status="confirmed", offset=None):
    s = truth_state(obj, t)
    if offset is not None:
        s = s + offset
    return (t, tid, status, obj, s)


def test_rmse_constant_offset():
    traj = straight_lines([(0, 20), (0, 20)])
    off = np.array([30.0, -40.0, 0.0, 3.0, 0.0, 4.0])
    rows = [on_truth(t, 1, 0, offset=off) for t in range(10)]
    rows += [on_truth(t, 2, 1, offset=off) for t in range(5, 15)]
    rows += [on_truth(t, 3, 1, status="tentative", offset=10 * off) for t in range(3)]
    table = tracks_table(rows)
    for by in ("truth_id", "distance"):
        r = M.rmse(table, traj, by=by)
        assert r.pos_m == pytest.approx(50.0, rel=1e-9)
        assert r.vel_m_s == pytest.approx(5.0, rel=1e-9)
        np.testing.assert_allclose(r.pos_per_object_m, [50.0, 50.0], rtol=1e-9)
        np.testing.assert_array_equal(r.n_samples, [10, 10])


def test_rmse_untracked_object_is_nan_and_dead_truth_not_scored():
    traj = straight_lines([(0, 20), (0, 5)])
    rows = [on_truth(t, 1, 0) for t in range(10)]
    # a track still claiming object 1 after it impacted at t = 5
    rows += [(t, 2, "confirmed", 1, truth_state(1, 5.0)) for t in range(6, 9)]
    r = M.rmse(tracks_table(rows), traj)
    assert r.pos_m == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(r.pos_per_object_m[1]) and r.n_samples[1] == 0


def swap_rows():
    rows = []
    for t in range(10):
        a, b = (0, 1) if t < 5 else (1, 0)
        rows += [on_truth(t, 7, a), on_truth(t, 8, b)]
    return rows


@pytest.mark.parametrize("by", ["truth_id", "distance"])
def test_two_tracks_exchanging_targets(by):
    traj = straight_lines([(0, 20), (0, 20)])
    c = M.track_breaks_and_swaps(tracks_table(swap_rows()), traj, by=by)
    assert c.total_id_switches == 2  # CLEAR MOT: one per object
    assert c.total_swaps == 2  # one per track
    np.testing.assert_array_equal(c.track_ids, [7, 8])
    np.testing.assert_array_equal(c.swaps_per_track, [1, 1])
    np.testing.assert_array_equal(c.breaks, [1, 1])


def test_target_held_by_two_successive_tracks():
    traj = straight_lines([(0, 20), (0, 20)])
    rows = [on_truth(t, 1, 0) for t in range(5)]
    rows += [on_truth(t, 1, 0, status="deleted") for t in range(5, 6)]
    rows += [on_truth(t, 2, 0) for t in range(7, 12)]
    rows += [on_truth(t, 3, 1) for t in range(12)]
    c = M.track_breaks_and_swaps(tracks_table(rows), traj)
    np.testing.assert_array_equal(c.breaks, [1, 0])
    np.testing.assert_array_equal(c.id_switches, [1, 0])
    assert c.total_swaps == 0


def test_duplicate_tracks_keep_the_nearest():
    traj = straight_lines([(0, 20)])
    off = np.array([500.0, 0, 0, 0, 0, 0])
    rows = [on_truth(t, 1, 0) for t in range(5)]
    rows += [on_truth(t, 2, 0, offset=off) for t in range(5)]
    a = M.assign_truth(tracks_table(rows), traj)
    assert a.by == "truth_id"
    np.testing.assert_array_equal(a.object_index[a.track_id == 1], 0)
    np.testing.assert_array_equal(a.object_index[a.track_id == 2], -1)
    assert M.rmse(tracks_table(rows), traj).pos_m == pytest.approx(0.0, abs=1e-6)


def test_time_to_confirm():
    traj = straight_lines([(0, 20), (0, 20)])
    rows = [on_truth(t, 1, 0, status="tentative") for t in (2, 3)]
    rows += [on_truth(t, 1, 0) for t in (4, 5, 6)]
    rows += [on_truth(t, 2, 1, status="tentative") for t in (3, 4)]
    table = tracks_table(rows)
    detections = pa.table({"t": [2.0, 2.5, 1.0, 3.0], "truth_id": [0, 0, -1, 1]})
    r = M.time_to_confirm(table, traj, detections)
    np.testing.assert_allclose(r.t_start_s, [2.0, 3.0])
    assert r.delay_s[0] == pytest.approx(2.0) and np.isnan(r.delay_s[1])
    r = M.time_to_confirm(table, traj)
    assert r.delay_s[0] == pytest.approx(4.0)


def test_ospa_over_time_confirmed_only_and_live_truth():
    traj = straight_lines([(0, 20), (3, 6)])
    rows = [on_truth(t, 1, 0, status="tentative" if t < 2 else "confirmed") for t in range(10)]
    rows += [(t, 9, "tentative", -1, truth_state(0, t) + 1e6) for t in range(10)]
    c = 1000.0
    t, o = M.ospa_over_time(tracks_table(rows), traj, c_m=c)
    np.testing.assert_array_equal(t, np.arange(10.0))
    expected = np.zeros(10)
    expected[:2] = c  # one live truth, nothing confirmed
    expected[3:7] = c / np.sqrt(2)  # object 1 alive on [3, 6] and untracked
    np.testing.assert_allclose(o, expected, atol=1e-6)
    t, g = M.gospa_over_time(tracks_table(rows), traj, c_m=c)
    np.testing.assert_array_equal(g.n_missed, [1, 1, 0, 1, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(g.n_false, 0)
    t, ov = M.ospa_over_time(tracks_table(rows), traj, c_m=c, component="velocity")
    np.testing.assert_allclose(ov[2], 0.0, atol=1e-9)
    with pytest.raises(InputError, match="component"):
        M.ospa_over_time(tracks_table(rows), traj, component="speed")


def test_node_filter_and_missing_column():
    traj = straight_lines([(0, 20)])
    table = tracks_table([on_truth(t, 1, 0) for t in range(4)])
    t, o = M.ospa_over_time(table, traj, c_m=100.0, node="JPN-1")
    assert t.size == 0 and o.size == 0
    with pytest.raises(InputError, match="status"):
        M.rmse(table.drop(["status"]), traj)
    with pytest.raises(InputError, match="truth_id"):
        M.rmse(table.drop(["truth_id"]), traj, by="truth_id")
    # without truth_id, auto falls back to the optimal assignment
    assert M.assign_truth(table.drop(["truth_id"]), traj).by == "distance"


def test_track_nees_and_summary_are_plain():
    traj = straight_lines([(0, 20), (0, 20), (0, 20)])
    off = np.array([10.0, 0, 0, 0, 0, 0])
    rows = [on_truth(t, 1, 0, offset=off) for t in range(10)]
    rows += [on_truth(t, 2, 1, offset=off) for t in range(4, 10)]
    table = tracks_table(rows, sigma=10.0)
    _, ne = M.track_nees(table, traj)
    np.testing.assert_allclose(ne, 1.0, rtol=1e-9)
    s = M.summary(table, traj, c_m=1000.0)
    json.dumps(s)
    assert s["rmse_pos_m"] == pytest.approx(10.0)
    assert s["nees_mean"] == pytest.approx(1.0)
    assert s["breaks"] == 0 and s["swaps"] == 0 and s["id_switches"] == 0
    assert s["time_to_confirm_s"] == [0.0, 4.0, None]
    assert s["rmse_pos_per_object_m"][2] is None
    assert isinstance(s["ospa_mean_m"], float) and isinstance(s["gospa_mean_m"], float)
    empty = M.summary(tracks_table([]), traj)
    json.dumps(empty)
    assert empty["ospa_mean_m"] is None and empty["rmse_pos_m"] is None


def test_track_completeness_joins_scans_held_within_the_gap():
    """Object 0 flies 0-100 s; a confirmed track follows it at 20-60 s every 2 s, loses it
    for 15 s (> HELD_GAP_S, not held) and follows it again at 75-80 s: (40 + 5) / 100.
    Object 1 is followed only by a tentative track (not counted), object 2 every 10 s
    (gaps of exactly HELD_GAP_S are held) from 0 to its end at 50 s: complete."""
    traj = straight_lines([(0, 100), (0, 100), (0, 50)])
    rows = [on_truth(t, 1, 0) for t in range(20, 61, 2)]
    rows += [on_truth(t, 1, 0) for t in range(75, 81)]
    rows += [(float(t), 2, "tentative", 1, truth_state(1, t)) for t in range(0, 100, 5)]
    rows += [on_truth(t, 3, 2) for t in range(0, 51, 10)]
    s = M.summary(tracks_table(rows), traj, c_m=1000.0)
    assert M.HELD_GAP_S == 10.0
    assert s["track_completeness"][0] == pytest.approx(0.45)
    assert s["track_completeness"][1] == 0.0
    assert s["track_completeness"][2] == pytest.approx(1.0)
