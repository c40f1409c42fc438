"""hyperdef.report.compare: key numbers of runs side by side, on hand-made summaries."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hyperdef.errors import InputError
from hyperdef.report.compare import compare_summaries, load_summaries


def summary(name, firm, warning, complete, kills):
    threats = [{"time_to_firm_track_s": {"USA": f}, "warning_time_s": {"USA": w},
                "track_completeness": {"USA": c}} for f, w, c in zip(firm, warning, complete,
                                                                      strict=True)]
    return {"scenario": name, "threats": threats, "shots": 3, "kills": kills,
            "leakers": len(threats) - kills, "tracking": {"USA": {"rmse_pos_m": 50.0}}}


def test_means_skip_untracked_warning_but_count_them_as_zero_completeness():
    joint = summary("joint", [100.0, 200.0, None], [500.0, 300.0, None], [0.5, 0.3, None], 2)
    national = summary("national", [300.0, None, None], [200.0, None, None],
                       [0.2, None, None], 1)
    rows = compare_summaries({"joint": joint, "national": national})
    assert [r["run"] for r in rows] == ["joint", "national"]
    assert rows[0]["firm_tracks"] == 2 and rows[1]["firm_tracks"] == 1
    assert rows[0]["warning_mean_s"] == pytest.approx(400.0)
    assert rows[0]["completeness_mean"] == pytest.approx(0.8 / 3)
    assert rows[1]["warning_mean_s"] == pytest.approx(200.0)
    assert rows[1]["completeness_mean"] == pytest.approx(0.2 / 3)
    assert rows[0]["kills"] == 2 and rows[1]["leakers"] == 2


def test_load_names_runs_by_folder_and_rejects_folders_without_a_summary(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(summary(name, [1.0], [2.0],
                                                                        [0.5], 1)))
    loaded = load_summaries([tmp_path / "a", tmp_path / "b", tmp_path / "a"])
    assert list(loaded) == ["a", "b", "a#2"]
    with pytest.raises(InputError, match="runs: .* holds no summary.json"):
        load_summaries([tmp_path])
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "summary.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_summaries([tmp_path / "c"])
    with pytest.raises(InputError, match="lacks"):
        compare_summaries({"x": {"scenario": "x"}})


def test_common_rmse_compares_pictures_over_the_same_stretch():
    """Picture A tracks 0-60 s with a 10 m error; B tracks 40-100 s, 30 m off until 60 s and
    5 m off after. Over its own rows B looks better than A (about 16 m); over the stretch
    both hold (40-60 s) A is the more accurate, 10 m against 30 m."""
    from test_tracking_metrics_unit import on_truth, straight_lines, tracks_table

    from hyperdef.report.compare import common_rmse
    from hyperdef.tracking.metrics import summary as track_summary

    traj = straight_lines([(0, 100)])
    off = np.array([1.0, 0, 0, 0, 0, 0])
    a = tracks_table([on_truth(t, 1, 0, offset=10.0 * off) for t in range(0, 61)])
    b = tracks_table([on_truth(t, 4, 0, offset=(30.0 if t <= 60 else 5.0) * off)
                      for t in range(40, 101)])
    assert track_summary(b, traj)["rmse_pos_m"] < 20.0 < 30.0
    got = common_rmse(traj, {"A": a, "B": b})
    assert got["A"] == pytest.approx(10.0) and got["B"] == pytest.approx(30.0)
    # no common stretch: nothing to compare
    c = tracks_table([on_truth(t, 2, 0, offset=off) for t in range(80, 101)])
    assert common_rmse(traj, {"A": a, "C": c}) == {"A": None, "C": None}
