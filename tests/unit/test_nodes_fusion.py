"""Unit tests of hyperdef.tracking.nodes and hyperdef.tracking.fusion."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from hyperdef.core.frames import lla_to_ecef
from hyperdef.core.markings import parse_marking
from hyperdef.errors import InputError
from hyperdef.sensors.detections import concat_detections, make_detections
from hyperdef.tracking.fusion import (
    FUSED_SCHEMA,
    associate_tracks,
    central_fusion,
    covariance_intersection,
    fuse_tracks,
    fusion_counts,
    naive_fusion,
    tracks_at,
)
from hyperdef.tracking.nodes import release_sets, released_to, run_node_trackers
from hyperdef.tracking.tracker import TRACKS_SCHEMA, TrackerConfig

NODES3 = ("USA", "JPN", "AUS")
MARKINGS = ("REL TO USA", "REL TO JPN", "REL TO USA, JPN", "REL TO USA, AUS, JPN")
CENTER = lla_to_ecef(np.array([0.6, 2.3, 30e3]))
SITE = lla_to_ecef(np.array([0.6, 2.27, 0.0]))


def xyz_detections(times, markings, *, n_targets=2, sigma=50.0, seed=0):
    """xyz reports of straight-line targets: one sensor per marking, each seeing all."""
    rng = np.random.default_rng(seed)
    r0 = CENTER + np.arange(n_targets)[:, None] * np.array([80e3, 0.0, 0.0])
    v = np.tile([1500.0, 800.0, 0.0], (n_targets, 1))
    tables = []
    for k, marking in enumerate(markings):
        for t in times:
            z = r0 + v * t + rng.normal(scale=sigma, size=r0.shape)
            tables.append(
                make_detections(
                    t=np.full(n_targets, t + 0.01 * k),
                    t_report=np.full(n_targets, t + 0.5),
                    sensor_id=f"S{k}",
                    node=sorted(parse_marking(marking))[0],
                    meas_type="xyz",
                    z=z,
                    R=np.eye(3) * sigma**2,
                    sensor_r_ecef_m=SITE,
                    sensor_v_ecef_m_s=np.zeros(3),
                    snr=20.0,
                    truth_id=np.arange(n_targets),
                    false_alarm=False,
                    marking=marking,
                )
            )
    return concat_detections(tables)


def tracks_table(t, ids, x, P, markings, *, status="confirmed", node="USA", truth=None):
    """A Tracks table (TRACKS_SCHEMA) of one scan."""
    n = len(ids)
    P = np.broadcast_to(np.asarray(P, float), (n, 6, 6))
    markings = [markings] * n if isinstance(markings, str) else list(markings)
    return pa.table(
        {
            "t": np.full(n, float(t)),
            "track_id": np.asarray(ids, np.int64),
            "node": [node] * n,
            "status": [status] * n,
            **{c: x[:, k] for k, c in enumerate(("x", "y", "z", "vx", "vy", "vz"))},
            "P": [row.reshape(-1).tolist() for row in P],
            "model_probs": [[] for _ in range(n)],
            "marking": markings,
            "n_updates": np.full(n, 5, np.int64),
            "truth_id": np.arange(n) if truth is None else np.asarray(truth, np.int64),
        },
        schema=TRACKS_SCHEMA,
    )


P0 = np.diag([100.0**2] * 3 + [10.0**2] * 3)


# ----------------------------------------------------------------------------- nodes


@pytest.mark.parametrize(("node", "marking"), list(itertools.product(NODES3, MARKINGS)))
def test_released_to_every_node_marking_pair(node, marking):
    det = xyz_detections([0.0], MARKINGS, n_targets=1)
    out = released_to(det, node)
    got = out.column("marking").to_pylist()
    assert all(node in parse_marking(m) for m in got)  # nothing not released to it
    expected = node in parse_marking(marking)
    assert (marking in got) is expected  # and everything released to it
    assert out.schema == det.schema


def test_released_to_tracks_table_and_order():
    x = np.zeros((4, 6))
    table = tracks_table(0.0, range(4), x, P0, MARKINGS)
    assert released_to(table, "JPN")["track_id"].to_pylist() == [1, 2, 3]
    assert released_to(table, "AUS")["track_id"].to_pylist() == [3]
    sets, codes = release_sets(table)
    assert [sets[c] for c in codes] == [parse_marking(m) for m in MARKINGS]


@pytest.fixture(scope="module")
def national():
    det = xyz_detections(np.arange(12.0), MARKINGS)
    return det, run_node_trackers(det, list(NODES3), TrackerConfig())


def test_run_node_trackers_each_node_tracks_only_its_release(national):
    det, results = national
    assert list(results) == list(NODES3)
    for node, res in results.items():
        n_released = sum(node in parse_marking(m) for m in det["marking"].to_pylist())
        assert res.counts["reports"] == n_released
        table = res.table
        assert set(table["node"].to_pylist()) <= {node}
        assert all(node in parse_marking(m) for m in table["marking"].to_pylist())
    # AUS receives only the 'REL TO USA, AUS, JPN' sensor; it still tracks both targets
    aus = results["AUS"].table
    assert set(aus["marking"].to_pylist()) == {"REL TO USA, AUS, JPN"}
    assert results["AUS"].counts["tracks_confirmed"] == 2


def test_central_fusion_is_the_tracker_over_the_release(national):
    det, results = national
    central = central_fusion(det, TrackerConfig(), node="USA")
    assert central.table.equals(results["USA"].table)
    assert central.counts["reports"] == results["USA"].counts["reports"]


def test_run_node_trackers_bad_nodes():
    det = xyz_detections([0.0], MARKINGS[:1], n_targets=1)
    with pytest.raises(InputError, match=r"nodes\[1\]: unknown node 'XYZ'"):
        run_node_trackers(det, ["USA", "XYZ"])
    with pytest.raises(InputError, match=r"nodes\[2\]: 'USA' given twice"):
        run_node_trackers(det, ["USA", "JPN", "USA"])
    with pytest.raises(InputError, match="nodes"):
        run_node_trackers(det, "USA")
    with pytest.raises(InputError, match="node: unknown node"):
        released_to(det, "usa")


def test_bad_marking_names_row_and_column():
    det = xyz_detections([0.0], MARKINGS, n_targets=1)
    marks = det["marking"].to_pylist()
    marks[2] = "USA ONLY"
    bad = det.set_column(det.schema.get_field_index("marking"), "marking", pa.array(marks))
    with pytest.raises(InputError, match=r"row 2, column marking"):
        released_to(bad, "USA")
    with pytest.raises(InputError, match=r"detections row 2, column marking"):
        run_node_trackers(bad, ["USA"])
    marks[2] = None
    null = det.set_column(det.schema.get_field_index("marking"), "marking", pa.array(marks))
    with pytest.raises(InputError, match=r"row 2, column marking: null"):
        released_to(null, "JPN")
    with pytest.raises(InputError, match="missing column 'marking'"):
        released_to(det.drop(["marking"]), "USA")


# ----------------------------------------------------------------------------- CI, naive


def random_spd(rng, n, d=6, scale=100.0):
    A = rng.normal(size=(n, d, d)) * scale
    return A @ A.transpose(0, 2, 1) + np.eye(d) * scale


def test_ci_endpoints_return_the_inputs():
    rng = np.random.default_rng(1)
    xa, xb = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    Pa, Pb = random_spd(rng, 5), random_spd(rng, 5)
    x, P, w = covariance_intersection(xa, Pa, xb, Pb, omega=1.0)
    assert np.array_equal(x, xa) and np.array_equal(P, Pa) and np.all(w == 1.0)
    x, P, w = covariance_intersection(xa, Pa, xb, Pb, omega=0.0)
    assert np.array_equal(x, xb) and np.array_equal(P, Pb)
    # an omega close to 1 is close to a (the formula, not the shortcut)
    x, P, _ = covariance_intersection(xa, Pa, xb, Pb, omega=1.0 - 1e-12)
    np.testing.assert_allclose(P, Pa, rtol=1e-6, atol=1e-6)


def test_ci_trace_never_above_either_input_and_optimal():
    rng = np.random.default_rng(2)
    n = 300
    xa, xb = rng.normal(size=(n, 6)), rng.normal(size=(n, 6))
    Pa, Pb = random_spd(rng, n), random_spd(rng, n)
    Pb[:50] *= 1e4  # some pairs where one input dominates: omega at an endpoint
    _, P, w = covariance_intersection(xa, Pa, xb, Pb)
    tr = np.trace(P, axis1=1, axis2=2)
    tra, trb = np.trace(Pa, axis1=1, axis2=2), np.trace(Pb, axis1=1, axis2=2)
    assert np.all(tr <= np.minimum(tra, trb) * (1 + 1e-12))
    assert np.all((w >= 0) & (w <= 1))
    # against a fine grid of omega for a few pairs
    grid = np.linspace(0.0, 1.0, 2001)
    for i in (0, 1, 100, 200):
        trs = [np.trace(covariance_intersection(xa[i], Pa[i], xb[i], Pb[i], omega=g)[1][0])
               for g in grid[::20]]  # fmt: skip
        assert tr[i] <= min(trs) * (1 + 1e-9)
    # the determinant criterion does not exceed the inputs' determinants either
    _, Pd, _ = covariance_intersection(xa, Pa, xb, Pb, criterion="det")
    ld = np.linalg.slogdet(Pd)[1]
    assert np.all(ld <= np.minimum(np.linalg.slogdet(Pa)[1], np.linalg.slogdet(Pb)[1]) + 1e-9)


def test_ci_and_naive_single_equals_batch_row():
    rng = np.random.default_rng(3)
    xa, xb = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    Pa, Pb = random_spd(rng, 4), random_spd(rng, 4)
    xB, PB, wB = covariance_intersection(xa, Pa, xb, Pb)
    x1, P1, w1 = covariance_intersection(xa[2], Pa[2], xb[2], Pb[2])
    np.testing.assert_allclose(x1[0], xB[2], rtol=1e-12)
    np.testing.assert_allclose(P1[0], PB[2], rtol=1e-12)
    assert w1[0] == wB[2]
    xn, Pn = naive_fusion(xa, Pa, xb, Pb)
    np.testing.assert_allclose(np.linalg.inv(Pn), np.linalg.inv(Pa) + np.linalg.inv(Pb), rtol=1e-8)
    x1, P1 = naive_fusion(xa[0], Pa[0], xb[0], Pb[0])
    np.testing.assert_allclose(P1[0], Pn[0], rtol=1e-12)
    # equal inputs: CI keeps the covariance, naive halves it
    _, Pc, _ = covariance_intersection(xa, Pa, xa, Pa)
    np.testing.assert_allclose(Pc, Pa, rtol=1e-9)
    np.testing.assert_allclose(naive_fusion(xa, Pa, xa, Pa)[1], Pa / 2, rtol=1e-9)


def test_ci_bad_inputs_named():
    x, P = np.zeros((2, 6)), np.broadcast_to(np.eye(6), (2, 6, 6))
    with pytest.raises(InputError, match="omega"):
        covariance_intersection(x, P, x, P, omega=1.5)
    with pytest.raises(InputError, match="P_b: expected shape"):
        covariance_intersection(x, P, x, np.eye(5))
    with pytest.raises(InputError, match="x_b: expected shape"):
        covariance_intersection(x, P, np.zeros((3, 6)), P)
    with pytest.raises(InputError, match="P_a: not symmetric positive definite"):
        naive_fusion(x, -P, x, P)
    with pytest.raises(InputError, match="criterion"):
        covariance_intersection(x, P, x, P, criterion="volume")
    with pytest.raises(InputError, match="x_a: values must be finite"):
        covariance_intersection(np.full((2, 6), np.nan), P, x, P)


# ----------------------------------------------------------------------------- association


def straight(n, seed=0):
    rng = np.random.default_rng(seed)
    r0 = CENTER + rng.uniform(-200e3, 200e3, size=(n, 3))
    v = rng.normal(size=(n, 3)) * 1500.0
    return np.hstack([r0, v])


def at(x0, t):
    x = x0.copy()
    x[:, :3] += x0[:, 3:] * t
    return x


def test_associate_recovers_known_pairing_across_scan_times():
    rng = np.random.default_rng(4)
    n = 12
    x0 = straight(n)
    perm = rng.permutation(n)
    noise = np.sqrt(np.diag(P0))
    xa = at(x0, 10.0) + rng.normal(size=(n, 6)) * noise
    xb = at(x0[perm], 9.0) + rng.normal(size=(n, 6)) * noise  # one scan earlier
    ta = tracks_table(10.0, np.arange(n), xa, P0, "REL TO USA, JPN")
    tb = tracks_table(9.0, 100 + np.arange(n), xb, P0, "REL TO USA, JPN", node="JPN")
    # a stale earlier scan of b and a deleted row at b's last scan are ignored
    old = tracks_table(2.0, [999], xb[:1], P0, "REL TO USA, JPN", node="JPN")
    dead = tracks_table(9.0, [998], xb[:1], P0, "REL TO USA, JPN", status="deleted")
    tb = pa.concat_tables([old, tb, dead])
    res = associate_tracks(ta, tb, 10.0, 0.999)
    assert res.b.t_scan_s == 9.0 and res.b.n == n
    pairs = {int(a): int(b) for a, b in res.track_pairs}
    assert pairs == {int(perm[j]): 100 + j for j in range(n)}
    assert np.all(res.d2 < res.gate)
    # a b track far from every a track stays unassociated
    far = xb.copy()
    far[0, :3] += 50e3
    tb2 = tracks_table(9.0, 100 + np.arange(n), far, P0, "REL TO USA, JPN", node="JPN")
    res2 = associate_tracks(ta, tb2, 10.0)
    assert 100 not in res2.track_pairs[:, 1] and len(res2.pair_a) == n - 1


def test_tracks_at_predicts_with_cv():
    x0 = straight(3)
    table = tracks_table(4.0, [0, 1, 2], at(x0, 4.0), P0, "REL TO USA")
    s = tracks_at(table, 6.0)
    np.testing.assert_allclose(s.x, at(x0, 6.0), rtol=0, atol=1e-6)
    assert np.all(np.trace(s.P[:, :3, :3], axis1=1, axis2=2) > np.trace(P0[:3, :3]))
    assert tracks_at(table, 3.0).n == 0  # nothing at or before t


# ----------------------------------------------------------------------------- fused picture


def test_fuse_tracks_marking_intersection_and_not_releasable():
    x0 = straight(3, seed=5)
    xa, xb = at(x0, 10.0), at(x0, 10.0) + 20.0
    ta = tracks_table(10.0, [0, 1, 2], xa, P0,
                      ["REL TO USA, JPN", "REL TO USA", "REL TO USA, AUS"])  # fmt: skip
    tb = tracks_table(10.0, [7, 8, 9], xb, P0,
                      ["REL TO USA, AUS, JPN", "REL TO JPN", "REL TO USA, AUS, JPN"],
                      node="JPN")  # fmt: skip
    fused = fuse_tracks({"USA": ta, "JPN": tb}, 10.0, "ci")
    assert fused.schema.names == FUSED_SCHEMA.names
    assert fused["marking"].to_pylist() == ["REL TO USA, JPN", "REL TO USA, AUS"]
    assert fused["sources"].to_pylist() == [["USA:0", "JPN:7"], ["USA:2", "JPN:9"]]
    assert fused["track_id"].to_pylist() == [0, 1]
    assert fused["n_updates"].to_pylist() == [10, 10]
    counts = fusion_counts(fused)
    assert counts == {
        "inputs": {"USA": 3, "JPN": 3},
        "fused": 2,
        "single_source": 0,
        "not_releasable": 1,
        "output": 2,
    }
    P = np.array(fused["P"].to_pylist()).reshape(-1, 6, 6)
    assert np.all(np.trace(P, axis1=1, axis2=2) <= np.trace(P0) * (1 + 1e-12))
    naive = fuse_tracks({"USA": ta, "JPN": tb}, 10.0, "naive")
    Pn = np.array(naive["P"].to_pylist()).reshape(-1, 6, 6)
    np.testing.assert_allclose(Pn, np.broadcast_to(P0 / 2, Pn.shape), rtol=1e-9)
    np.testing.assert_allclose(naive.column("x").to_numpy(), xa[[0, 2], 0] + 10.0)
    # fused by JPN: USA's 'REL TO USA' and 'REL TO USA, AUS' rows are not JPN's to fuse
    jp = fuse_tracks({"USA": ta, "JPN": tb}, 10.0, node="JPN")
    assert jp["node"].to_pylist() == ["JPN"] * 3
    assert jp["sources"].to_pylist() == [["USA:0", "JPN:7"], ["JPN:8"], ["JPN:9"]]
    assert jp["marking"].to_pylist() == ["REL TO USA, JPN", "REL TO JPN", "REL TO USA, AUS, JPN"]


def test_fuse_three_nodes_unassociated_tracks_carried():
    x0 = straight(4, seed=6)
    m = "REL TO USA, AUS, JPN"
    ta = tracks_table(5.0, [0, 1], at(x0[:2], 5.0), P0, m)
    tb = tracks_table(5.0, [0, 1], at(x0[1:3], 5.0), P0, m, node="JPN")
    tc = tracks_table(4.0, [5], at(x0[3:], 4.0), P0, m, node="AUS")
    fused = fuse_tracks({"USA": ta, "JPN": tb, "AUS": tc}, 5.0)
    assert fused["sources"].to_pylist() == [["USA:0"], ["USA:1", "JPN:0"], ["JPN:1"], ["AUS:5"]]
    assert fusion_counts(fused)["fused"] == 1
    assert fusion_counts(fused)["single_source"] == 3


def test_fuse_tracks_bad_inputs_named():
    x0 = straight(2)
    ta = tracks_table(10.0, [0, 1], at(x0, 10.0), P0, "REL TO USA")
    with pytest.raises(InputError, match="tables key 'XX'"):
        fuse_tracks({"XX": ta}, 10.0)
    with pytest.raises(InputError, match="method"):
        fuse_tracks({"USA": ta}, 10.0, "kalman")
    late = tracks_table(70.0, [0, 1], at(x0, 70.0), P0, "REL TO USA")
    with pytest.raises(InputError, match=r"tables\['JPN'\].t: latest scan .* 60 s earlier"):
        fuse_tracks({"USA": late, "JPN": ta}, 70.0, max_gap_s=50.0)
    other = ta.replace_schema_metadata({b"frame": b"ENU"})
    with pytest.raises(InputError, match="frame: the tables are in different frames"):
        fuse_tracks({"USA": ta, "JPN": other}, 10.0)
    short = ta.set_column(ta.schema.get_field_index("P"), "P",
                          pa.array([[1.0] * 9, [1.0] * 36], pa.list_(pa.float64())))  # fmt: skip
    with pytest.raises(InputError, match=r"tables\['JPN'\].P: row 0 has 9 values; expected 36"):
        fuse_tracks({"USA": ta, "JPN": short}, 10.0)
    with pytest.raises(InputError, match=r"tracks_b: missing columns P"):
        associate_tracks(ta, ta.drop(["P"]), 10.0)
    with pytest.raises(InputError, match="gate_probability"):
        associate_tracks(ta, ta, 10.0, 1.5)
    with pytest.raises(InputError, match="t_s"):
        fuse_tracks({"USA": ta}, float("nan"))
