"""Unit tests of hyperdef.tracking.realtime: arrival-order tracking, late reports."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hyperdef.core.frames import lla_to_ecef
from hyperdef.errors import InputError
from hyperdef.sensors.detections import concat_detections, make_detections
from hyperdef.tracking.realtime import run_tracker_realtime
from hyperdef.tracking.tracker import TRACKS_COLUMNS, TrackerConfig, run_tracker

CENTER = lla_to_ecef(np.array([0.6, 2.3, 30e3]))
SITE = lla_to_ecef(np.array([0.6, 2.3 - 0.03, 0.0]))
R0 = CENTER + np.array([[0.0, 0.0, 0.0], [80e3, 0.0, 0.0], [0.0, 80e3, 0.0]])
V = np.array([[2000.0, 0.0, 0.0], [0.0, 1500.0, 500.0], [-1200.0, 1200.0, 0.0]])
# the targets fly straight: a small CV process noise lets old, accurate reports count
CONFIG = TrackerConfig(
    max_coast_s=30.0, max_misses=1000, model_parameters=(("cv", "sigma_a_m_s2", 1.0),)
)
LATENCY_A_S, LATENCY_B_S = 0.5, 8.0
TIMES_A = np.arange(0.0, 60.0, 1.0)  # coarse sensor, fast link
TIMES_B = np.arange(0.5, 60.0, 2.0)  # accurate sensor, slow link: out of sequence


def sensor(times, sigma_m, latency_s, sensor_id, seed):
    """``xyz`` reports of the CV targets R0 + V t, noise sigma_m per axis, fixed latency."""
    rng = np.random.default_rng(seed)
    tables = []
    for t in times:
        truth = R0 + V * t
        z = truth + rng.normal(scale=sigma_m, size=truth.shape)
        tables.append(
            make_detections(
                t=np.full(len(z), t),
                t_report=np.full(len(z), t + latency_s),
                sensor_id=sensor_id,
                node="USA",
                meas_type="xyz",
                z=z,
                R=np.eye(3) * sigma_m**2,
                sensor_r_ecef_m=SITE,
                sensor_v_ecef_m_s=np.zeros(3),
                snr=20.0,
                truth_id=np.arange(len(z)),
                false_alarm=False,
                marking="REL TO USA, JPN",
            )
        )
    return concat_detections(tables)


@pytest.fixture(scope="module")
def scenario():
    a = sensor(TIMES_A, 300.0, LATENCY_A_S, "A", 1)
    b = sensor(TIMES_B, 50.0, LATENCY_B_S, "B", 2)
    both = concat_detections([a, b])
    return {
        "a": a,
        "both": both,
        "reprocess": run_tracker_realtime(both, CONFIG),
        "drop_late": run_tracker_realtime(both, CONFIG, mode="drop_late"),
        "a_only": run_tracker_realtime(a, CONFIG),
        "batch": run_tracker(both, CONFIG),
    }


def last_rows(tracks: pa.Table) -> dict[int, dict]:
    """track id -> last row of each track alive at the end of a Tracks table."""
    out = {}
    for row in tracks.to_pylist():
        out[row["track_id"]] = row
    return {k: r for k, r in out.items() if r["status"] != "deleted"}


def picture_at(table: pa.Table, epoch_s: float) -> dict[int, dict]:
    rows = table.filter(pc.equal(table["epoch_s"], epoch_s)).to_pylist()
    return {r["track_id"]: r for r in rows}


def assert_same_picture(got: dict, want: dict, what: str) -> None:
    assert sorted(got) == sorted(want), f"{what}: track ids {sorted(got)} != {sorted(want)}"
    for tid, w in want.items():
        g = got[tid]
        assert g["status"] == w["status"], f"{what}: track {tid} status"
        assert g["n_updates"] == w["n_updates"], f"{what}: track {tid} n_updates"
        assert g["t"] == pytest.approx(w["t"], abs=1e-9)
        for c in ("x", "y", "z", "vx", "vy", "vz"):
            assert g[c] == pytest.approx(w[c], abs=1e-9), f"{what}: track {tid} {c}"
        np.testing.assert_allclose(g["P"], w["P"], rtol=1e-9, atol=1e-9)


def position_rmse(table: pa.Table) -> float:
    """RMSE of the confirmed picture rows against the known CV truth at each row's t."""
    c = table.filter(pc.equal(table["status"], "confirmed"))
    truth_id = c["truth_id"].to_numpy()
    t = c["t"].to_numpy()
    pos = np.column_stack([c[k].to_numpy() for k in ("x", "y", "z")])
    assert np.all(truth_id >= 0)
    err = pos - (R0[truth_id] + V[truth_id] * t[:, None])
    return float(np.sqrt(np.mean(np.sum(err**2, axis=1))))


# ------------------------------------------------------------------ causality


def test_picture_uses_only_reports_that_have_arrived(scenario):
    """At each epoch the picture is that of the batch tracker on the reports arrived by then."""
    both, res = scenario["both"], scenario["reprocess"]
    t_report = both["t_report"].to_numpy()
    epochs = np.unique(res.table["epoch_s"].to_numpy())
    assert epochs[0] == 1.0 and epochs[-1] == math.ceil(TIMES_B[-1] + LATENCY_B_S)
    for epoch in epochs[::4]:
        arrived = both.filter(pa.array(t_report <= epoch))
        want = last_rows(run_tracker(arrived, CONFIG).table)
        got = picture_at(res.table, epoch)
        assert_same_picture(got, want, f"epoch {epoch}")
        # and no track holds more updates than reports of its target have arrived
        for row in got.values():
            n_arrived = int(np.sum(arrived["truth_id"].to_numpy() == row["truth_id"]))
            assert row["n_updates"] <= n_arrived
            assert row["t"] <= epoch


def test_picture_state_times_never_ahead_of_arrivals(scenario):
    for name in ("reprocess", "drop_late"):
        table = scenario[name].table
        assert np.all(table["t"].to_numpy() + LATENCY_A_S <= table["epoch_s"].to_numpy() + 1e-12)


# ------------------------------------------------------------------ late reports


def test_reprocessing_ends_equal_to_batch(scenario):
    """A late report improves the track as if on time: final picture == batch tracker."""
    res, batch = scenario["reprocess"], scenario["batch"]
    final = picture_at(res.table, res.table["epoch_s"].to_numpy().max())
    assert_same_picture(final, last_rows(batch.table), "final picture")
    assert len([r for r in final.values() if r["status"] == "confirmed"]) == 3
    # the whole history of the final run is the batch Tracks table
    assert res.history.select(TRACKS_COLUMNS).equals(batch.table.select(TRACKS_COLUMNS))
    for key in ("reports_used", "tracks_created", "tracks_confirmed", "tracks_deleted"):
        assert res.counts[key] == batch.counts[key], key
    assert res.counts["reports_beyond_buffer"] == 0


def test_late_reports_improve_rather_than_corrupt(scenario):
    """Over the epochs where sensor A reports, B's late reports lower the position error."""
    last = math.ceil(TIMES_A[-1] + LATENCY_A_S)
    tables = {
        k: scenario[k].table.filter(pc.less_equal(scenario[k].table["epoch_s"], last))
        for k in ("reprocess", "drop_late", "a_only")
    }
    rmse = {k: position_rmse(v) for k, v in tables.items()}
    assert rmse["reprocess"] < 0.8 * rmse["drop_late"], rmse
    assert rmse["reprocess"] <= rmse["a_only"], rmse
    # every B report arrives after a newer A report: drop_late loses all of B
    assert tables["drop_late"].equals(tables["a_only"])


def test_out_of_sequence_counts(scenario):
    both = scenario["both"]
    t, t_report = both["t"].to_numpy(), both["t_report"].to_numpy()
    epoch = np.ceil(t_report / 1.0)
    # by hand: a report is late when an earlier epoch already brought a newer measurement
    # (the two sensors never share a measurement time, so "newer scan" is "larger t")
    expected = sum(int(np.any(t[epoch < e] > ti)) for ti, e in zip(t, epoch, strict=True))
    late_epochs = {e for ti, e in zip(t, epoch, strict=True) if np.any(t[epoch < e] > ti)}
    assert expected == len(TIMES_B) * len(R0)  # all of sensor B
    rep, drop = scenario["reprocess"].counts, scenario["drop_late"].counts
    for c in (rep, drop):
        assert c["reports_received"] == both.num_rows
        assert c["reports_out_of_sequence"] == expected
        assert c["epochs"] == len(np.unique(scenario["reprocess"].table["epoch_s"]))
    assert drop["reports_dropped_late"] == expected and drop["reprocessings"] == 0
    assert rep["reports_dropped_late"] == 0 and rep["reprocessings"] == len(late_epochs)
    # work: reprocessing re-runs about latency / scan interval scans per late epoch
    assert rep["scans"] < rep["scans_processed"] < rep["scans"] + rep["reprocessings"] * 16
    assert drop["scans_processed"] == len(TIMES_A)
    assert scenario["a_only"].counts["reports_out_of_sequence"] == 0


def test_short_buffer_drops_what_it_cannot_reprocess(scenario):
    res = run_tracker_realtime(scenario["both"], CONFIG, buffer_s=2.0)
    drop = scenario["drop_late"]
    assert res.counts["reports_beyond_buffer"] == drop.counts["reports_dropped_late"]
    assert res.table.equals(drop.table)


def test_infinite_buffer_and_input_order(scenario):
    both = scenario["both"]
    res = run_tracker_realtime(both, CONFIG, buffer_s=math.inf)
    assert res.table.equals(scenario["reprocess"].table)
    # rows in any order: the node sorts by arrival, the tracker by measurement time
    shuffled = both.take(pa.array(np.random.default_rng(3).permutation(both.num_rows)))
    res = run_tracker_realtime(shuffled, CONFIG, buffer_s=math.inf)
    final = picture_at(res.table, res.table["epoch_s"].to_numpy().max())
    assert_same_picture(final, last_rows(run_tracker(shuffled, CONFIG).table), "shuffled")


def test_update_interval_changes_epochs_not_final_picture(scenario):
    res = run_tracker_realtime(scenario["both"], CONFIG, update_interval_s=2.5)
    epochs = np.unique(res.table["epoch_s"].to_numpy())
    assert np.allclose(epochs / 2.5, np.round(epochs / 2.5))
    final = picture_at(res.table, epochs.max())
    assert_same_picture(final, last_rows(scenario["batch"].table), "final, 2.5 s epochs")


def test_empty_input():
    a = sensor(TIMES_A[:0], 300.0, 0.5, "A", 1)
    res = run_tracker_realtime(a, CONFIG, node="USA")
    assert res.table.num_rows == 0 and res.counts["epochs"] == 0
    assert "epoch_s" in res.table.column_names


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"update_interval_s": 0.0}, "update_interval_s"),
        ({"update_interval_s": -1.0}, "update_interval_s"),
        ({"update_interval_s": math.inf}, "update_interval_s"),
        ({"buffer_s": -1.0}, "buffer_s"),
        ({"buffer_s": math.nan}, "buffer_s"),
        ({"mode": "retrodict"}, "mode"),
    ],
)
def test_bad_arguments_name_the_field(scenario, kwargs, name):
    with pytest.raises(InputError, match=name):
        run_tracker_realtime(scenario["a"], CONFIG, **kwargs)


def test_missing_t_report_column(scenario):
    a = scenario["a"]
    with pytest.raises(InputError, match="t_report"):
        run_tracker_realtime(a.drop(["t_report"]), CONFIG)


def test_nan_report_time_never_arrives(scenario):
    a = scenario["a"]
    t_report = a["t_report"].to_numpy().copy()
    t_report[:3] = np.nan
    bad = a.set_column(a.column_names.index("t_report"), "t_report", pa.array(t_report))
    res = run_tracker_realtime(bad, CONFIG)
    assert res.counts["reports_skipped"]["nan_report_time"] == 3
    assert res.counts["reports_received"] == a.num_rows - 3
