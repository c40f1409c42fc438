"""Fire control: windows, engage-on-remote by marking, shoot-look-shoot, WTA, bad input."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hyperdef.engagement.assignment import (
    assign_greedy,
    assign_one_shot,
    brute_force,
    expected_value,
)
from hyperdef.engagement.fire_control import (
    Battery,
    PredictedPath,
    kill_probability,
    launch_window,
    path_is_predictable,
    run_fire_control,
    write_engagements,
)
from hyperdef.errors import InputError
from hyperdef.threats import fly

DEFENDED = (26.2, 127.7)


@pytest.fixture(scope="module")
def ballistic():
    return fly("ballistic", np.radians([33.0, 120.0, 0.0]), np.radians([*DEFENDED, 0.0]))


def truth_tracks(trajectory, node="USA", marking="REL TO USA", dt=1.0, t_from=200.0):
    """A Tracks table that follows the truth exactly (a perfect tracker), one object."""
    rows = trajectory.rows(0)
    t = np.arange(t_from, trajectory.t[rows][-1] - 1.0, dt)
    r, v, _ = trajectory.state_at(np.zeros(t.size, int), t)
    n = t.size
    return pa.table({
        "t": t, "track_id": np.full(n, 7), "node": [node] * n,
        "status": ["confirmed"] * n,
        "x": r[:, 0], "y": r[:, 1], "z": r[:, 2], "vx": v[:, 0], "vy": v[:, 1], "vz": v[:, 2],
        "P": [list(np.eye(6).ravel())] * n, "model_probs": [[1.0]] * n,
        "marking": [marking] * n, "truth_id": np.zeros(n, dtype=np.int64),
    })


def path_of(trajectory, t_from):
    rows = trajectory.rows(0)
    t = trajectory.t[rows]
    keep = t >= t_from
    return PredictedPath(t=t[keep], r_ecef_m=trajectory.r_ecef_m[rows][keep])


def test_engageable_and_unengageable_geometry(ballistic):
    near = Battery("gpi-near", "USA", *DEFENDED, interceptor="gpi")
    w = launch_window(near, path_of(ballistic, 250.0), 250.0)
    assert w.engageable and w.earliest_s <= w.preferred_s <= w.latest_s
    assert w.intercept_s < w.threat_impact_s
    assert 25e3 <= w.intercept_alt_m <= 300e3
    # the interceptor meets the threat on time: launch + time of flight = intercept
    assert w.preferred_s + w.time_of_flight_s == pytest.approx(w.intercept_s, abs=1.0)
    far = Battery("sm6-far", "USA", -10.0, 150.0, interceptor="sm6")
    w_far = launch_window(far, path_of(ballistic, 250.0), 250.0)
    assert not w_far.engageable and w_far.reason == "out_of_reach"
    late = launch_window(near, path_of(ballistic, 600.0), 600.0)
    assert not late.engageable and late.reason in ("too_late", "out_of_reach")


def test_engage_on_remote_is_allowed_or_refused_by_marking(ballistic):
    jpn = Battery("jpn-sm3", "JPN", *DEFENDED, interceptor="gpi", inventory=2,
                  releasable_to=("USA",))
    shared = run_fire_control(truth_tracks(ballistic, "USA", "REL TO USA, JPN"), [jpn],
                              ballistic, rng=np.random.default_rng(0))
    rows = shared.engagements.to_pylist()
    assert rows and all(r["status"] != "refused" for r in rows)
    assert rows[0]["marking"] == "REL TO USA, JPN" and rows[0]["node"] == "JPN"
    national = run_fire_control(truth_tracks(ballistic, "USA", "REL TO USA"), [jpn],
                                ballistic, rng=np.random.default_rng(0))
    refused = national.engagements.to_pylist()
    assert len(refused) == 1 and refused[0]["status"] == "refused"
    assert refused[0]["reason"].startswith("not_releasable")
    assert national.inventory["jpn-sm3"] == 2


def test_first_shot_kills_a_ballistic_target_from_a_firm_track(ballistic):
    usa = Battery("usa-gpi", "USA", *DEFENDED, interceptor="gpi", inventory=3)
    result = run_fire_control(truth_tracks(ballistic), [usa], ballistic,
                              rng=np.random.default_rng(3))
    first = result.engagements.to_pylist()[0]
    assert first["shot_number"] == 1 and first["status"] == "hit", first
    assert first["miss_m"] < 1.0 and result.kills() == {0: True}
    assert result.inventory["usa-gpi"] == 2


def test_shoot_look_shoot_only_when_there_is_time(ballistic, monkeypatch):
    """A miss is forced; a second shot follows only if its launch still fits the window."""
    import hyperdef.engagement.fire_control as fc

    monkeypatch.setattr(fc, "kill_probability", lambda miss, radius: np.zeros_like(miss))
    early = run_fire_control(truth_tracks(ballistic, t_from=200.0),
                             [Battery("b", "USA", *DEFENDED, interceptor="gpi", inventory=3)],
                             ballistic, rng=np.random.default_rng(0))
    shots = early.engagements.to_pylist()
    assert [s["shot_number"] for s in shots] == [1, 2]
    assert shots[1]["t_launch"] >= shots[0]["t_intercept"] + 5.0
    assert shots[1]["t_intercept"] < 625.0
    late = run_fire_control(truth_tracks(ballistic, t_from=540.0),
                            [Battery("b", "USA", *DEFENDED, interceptor="gpi", inventory=3)],
                            ballistic, rng=np.random.default_rng(0))
    assert [s["shot_number"] for s in late.engagements.to_pylist()] == [1]
    salvo = run_fire_control(truth_tracks(ballistic, t_from=540.0),
                             [Battery("s", "USA", *DEFENDED, interceptor="gpi", inventory=3,
                                      doctrine="salvo")],
                             ballistic, rng=np.random.default_rng(0))
    rounds = salvo.engagements.to_pylist()
    assert len(rounds) == 2 and rounds[0]["t_launch"] == rounds[1]["t_launch"]
    assert salvo.inventory["s"] == 1


def test_a_salvo_battery_is_assigned_only_the_threats_its_rounds_cover():
    """Two rounds of a salvo battery cover one threat: the second goes to the other battery."""
    pair = fly("ballistic", np.radians([33.0, 120.0, 0.0]), np.radians([*DEFENDED, 0.0]),
               t_launch_s=np.array([0.0, 30.0]))
    tables = []
    for obj in (0, 1):
        t = np.arange(250.0, 500.0, 1.0)
        r, v, _ = pair.state_at(np.full(t.size, obj), t)
        n = t.size
        tables.append(pa.table({
            "t": t, "track_id": np.full(n, 7 + obj), "node": ["USA"] * n,
            "status": ["confirmed"] * n, "x": r[:, 0], "y": r[:, 1], "z": r[:, 2],
            "vx": v[:, 0], "vy": v[:, 1], "vz": v[:, 2], "P": [list(np.eye(6).ravel())] * n,
            "model_probs": [[1.0]] * n, "marking": ["REL TO USA"] * n,
            "truth_id": np.full(n, obj, dtype=np.int64)}))
    batteries = [Battery("salvo", "USA", *DEFENDED, interceptor="gpi", inventory=2,
                         doctrine="salvo"),
                 Battery("single", "USA", 26.4, 127.8, interceptor="gpi", inventory=1)]
    result = run_fire_control(pa.concat_tables(tables), batteries, pair,
                              rng=np.random.default_rng(0))
    fired = [(r["battery_id"], r["track_id"]) for r in result.engagements.to_pylist()
             if r["shot_number"] == 1]
    assert {track for _, track in fired} == {7, 8}, fired
    salvo = [track for b, track in fired if b == "salvo"]
    assert len(salvo) == 2 and salvo[0] == salvo[1], fired


def test_engagements_table_round_trip(ballistic, tmp_path):
    import pyarrow.parquet as pq

    result = run_fire_control(truth_tracks(ballistic),
                              [Battery("b", "USA", *DEFENDED, interceptor="gpi")], ballistic,
                              rng=np.random.default_rng(1))
    write_engagements(result.engagements, tmp_path / "engagements.parquet")
    back = pq.read_table(tmp_path / "engagements.parquet")
    for column in ("shot_id", "battery_id", "track_id", "truth_id", "t_launch",
                   "t_intercept", "miss_m", "kill", "marking"):
        assert column in back.column_names
    assert back.num_rows == result.engagements.num_rows


def test_kill_probability_is_the_carleton_function():
    assert kill_probability(np.array([0.0]), 2.0)[0] == 1.0
    assert kill_probability(np.array([2.0]), 2.0)[0] == pytest.approx(np.exp(-1.0))


def test_boost_and_pull_up_are_not_predictable():
    r = np.array([6.4e6, 0.0, 0.0])
    level = np.concatenate([r, [0.0, 3000.0, 0.0]])
    assert path_is_predictable(level, np.array([-3000.0**2 / 6.4e6, 0.0, 0.0]))
    assert not path_is_predictable(level, np.array([15.0, 0.0, 0.0]))  # pulling up
    assert not path_is_predictable(level, np.array([-9.0, 40.0, 0.0]))  # boosting


@pytest.mark.parametrize("seed", range(25))
def test_one_shot_assignment_is_optimal(seed):
    rng = np.random.default_rng(seed)
    n_b, n_t = rng.integers(1, 4), rng.integers(1, 4)
    values = rng.uniform(0.5, 3.0, n_t)
    pk = rng.uniform(0.1, 0.95, (n_b, n_t))
    feasible = rng.random((n_b, n_t)) > 0.25
    inventory = rng.integers(0, 3, n_b)
    choice = assign_one_shot(values, pk, feasible, inventory)
    shots = np.zeros((n_b, n_t), dtype=int)
    for t, b in enumerate(choice):
        if b >= 0:
            shots[b, t] = 1
    assert np.all(shots.sum(axis=1) <= inventory) and np.all(shots[~feasible] == 0)
    best, _ = brute_force(values, pk, feasible, inventory, max_shots_per_threat=1)
    assert expected_value(values, pk, shots) == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("seed", range(25))
def test_greedy_is_near_optimal_and_exact_with_equal_pk(seed):
    rng = np.random.default_rng(100 + seed)
    n_b, n_t = 2, int(rng.integers(1, 4))
    values = rng.uniform(0.5, 3.0, n_t)
    inventory = rng.integers(1, 3, n_b)
    pk = rng.uniform(0.2, 0.9, (n_b, n_t))
    shots = assign_greedy(values, pk, inventory=inventory, max_shots_per_threat=2)
    best, _ = brute_force(values, pk, inventory=inventory, max_shots_per_threat=2)
    assert expected_value(values, pk, shots) >= 0.85 * best
    same = np.repeat(pk[:1], n_b, axis=0)  # every battery alike: greedy is optimal
    shots = assign_greedy(values, same, inventory=inventory, max_shots_per_threat=2)
    best, _ = brute_force(values, same, inventory=inventory, max_shots_per_threat=2)
    assert expected_value(values, same, shots) == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"alt_m": 50_000.0}, "alt_m"),
    ({"lat_deg": 95.0}, "lat_deg"),
    ({"inventory": -1}, "inventory"),
    ({"doctrine": "fire_at_will"}, "doctrine"),
    ({"node": "XXX"}, "node"),
    ({"interceptor": "thaad"}, "interceptor"),
])
def test_bad_batteries_are_named(kwargs, field):
    base = {"battery_id": "b1", "node": "USA", "lat_deg": 26.0, "lon_deg": 127.0}
    with pytest.raises(InputError, match=field):
        Battery(**{**base, **kwargs})


def test_bad_assignment_input_is_named():
    with pytest.raises(InputError, match="inventory"):
        assign_one_shot([1.0], [[0.5]], inventory=np.array([-1]))
    with pytest.raises(InputError, match="pk"):
        assign_greedy([1.0], [[1.5]], inventory=np.array([1]))


def test_battle_space_diagram_is_drawn(ballistic, tmp_path):
    from hyperdef.engagement.flyout import flyout_table
    from hyperdef.engagement.interceptor import GPI_CLASS
    from hyperdef.report.engagement_plots import plot_battlespace

    battery = Battery("gpi-near", "USA", *DEFENDED, interceptor="gpi")
    path = path_of(ballistic, 250.0)
    window = launch_window(battery, path, 250.0)
    out = tmp_path / "battlespace.png"
    plot_battlespace(flyout_table(GPI_CLASS), battery.site_lla, path.t, path.r_ecef_m,
                     {"gpi-near": window}, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_broken_track_is_joined_to_the_one_it_continues(ballistic):
    from hyperdef.engagement.fire_control import _firm_tracks, join_broken_tracks

    table = truth_tracks(ballistic, t_from=250.0)
    t = table.column("t").to_numpy()
    ids = np.where(t < 350.0, 7, 8)  # the tracker lost the target at 350 s ...
    keep = (t < 350.0) | (t >= 370.0)  # ... and found it again 20 s later
    broken = table.set_column(table.schema.get_field_index("track_id"), "track_id",
                              pa.array(ids)).filter(pa.array(keep))
    firm = _firm_tracks(broken)
    assert sorted(firm) == [7, 8]
    joined = join_broken_tracks(firm)
    assert sorted(joined) == [7] and joined[7]["t"].size == int(keep.sum())
    # a track starting far from where the old one was heading stays a separate threat
    x = broken.column("x").to_numpy()
    far = broken.set_column(broken.schema.get_field_index("x"), "x",
                            pa.array(np.where(ids[keep] == 8, x + 200e3, x)))
    assert sorted(join_broken_tracks(_firm_tracks(far))) == [7, 8]
    # a second track on the same object while the first runs is a duplicate: one threat;
    # a second object 5 km away at the same time (a stream of launches) stays a threat
    overlap = table.set_column(table.schema.get_field_index("track_id"), "track_id",
                               pa.array(np.full(t.size, 7)))
    dup = table.filter(pa.array(t >= 340.0))
    dup = dup.set_column(dup.schema.get_field_index("track_id"), "track_id",
                         pa.array(np.full(dup.num_rows, 9)))
    assert sorted(join_broken_tracks(_firm_tracks(pa.concat_tables(
        [overlap.filter(pa.array(t < 360.0)), dup])))) == [7]
    near = dup.set_column(dup.schema.get_field_index("x"), "x",
                          pa.array(dup.column("x").to_numpy() + 5_000.0))
    assert sorted(join_broken_tracks(_firm_tracks(pa.concat_tables(
        [overlap.filter(pa.array(t < 360.0)), near])))) == [7, 9]


def _tracks_of(trajectory, obj, track_id, t_from, t_to):
    """A perfect track of truth object ``obj`` from ``t_from`` to ``t_to``."""
    t = np.arange(t_from, t_to, 1.0)
    r, v, _ = trajectory.state_at(np.full(t.size, obj), t)
    n = t.size
    return pa.table({
        "t": t, "track_id": np.full(n, track_id), "node": ["USA"] * n,
        "status": ["confirmed"] * n, "x": r[:, 0], "y": r[:, 1], "z": r[:, 2],
        "vx": v[:, 0], "vy": v[:, 1], "vz": v[:, 2], "P": [list(np.eye(6).ravel())] * n,
        "model_probs": [[1.0]] * n, "marking": ["REL TO USA"] * n,
        "truth_id": np.full(n, obj, dtype=np.int64)})


def test_no_battery_fires_at_a_threat_while_another_batterys_round_is_pending(
        ballistic, monkeypatch):
    """Every round misses: the second battery waits for the first one's kill assessment.

    Battery A has one round; the second shot comes from B, launched only after A's
    intercept plus the assessment delay (shoot-look-shoot across batteries), never while
    A's round flies.
    """
    import hyperdef.engagement.fire_control as fc

    monkeypatch.setattr(fc, "kill_probability", lambda miss, radius: np.zeros_like(miss))
    batteries = [Battery("a", "USA", *DEFENDED, interceptor="gpi", inventory=1),
                 Battery("b", "USA", 26.4, 127.8, interceptor="gpi", inventory=2)]
    result = run_fire_control(truth_tracks(ballistic, t_from=200.0), batteries, ballistic,
                              rng=np.random.default_rng(0), kill_assessment_delay_s=5.0)
    shots = result.engagements.to_pylist()
    assert [s["shot_number"] for s in shots] == [1, 2], shots
    assert shots[0]["battery_id"] == "a" and shots[1]["battery_id"] == "b"
    assert shots[1]["t_launch"] >= shots[0]["t_intercept"] + 5.0
    assert result.inventory == {"a": 0, "b": 1}


def test_a_duplicate_track_of_an_engaged_threat_gets_no_round(monkeypatch):
    """A second track on an engaged object is the same threat: B's round goes elsewhere.

    Object 0 is tracked as 7 and, from 300 s while 7 still runs, also as 9 (a tracker
    that missed an association); object 1 is track 8. Every round kills. The batteries
    fire one round at each object and keep the third, not two at object 0.
    """
    import hyperdef.engagement.fire_control as fc

    monkeypatch.setattr(fc, "kill_probability", lambda miss, radius: np.ones_like(miss))
    pair = fly("ballistic", np.radians([33.0, 120.0, 0.0]), np.radians([*DEFENDED, 0.0]),
               t_launch_s=np.array([0.0, 30.0]))
    tracks = pa.concat_tables([_tracks_of(pair, 0, 7, 250.0, 420.0),
                               _tracks_of(pair, 1, 8, 250.0, 500.0),
                               _tracks_of(pair, 0, 9, 300.0, 500.0)])
    batteries = [Battery("a", "USA", *DEFENDED, interceptor="gpi", inventory=1),
                 Battery("b", "USA", 26.4, 127.8, interceptor="gpi", inventory=2)]
    result = run_fire_control(tracks, batteries, pair, rng=np.random.default_rng(0))
    fired = [(r["battery_id"], r["truth_id"], r["track_id"])
             for r in result.engagements.to_pylist()]
    assert sorted(truth for _, truth, _ in fired) == [0, 1], fired
    assert {b for b, _, _ in fired} == {"a", "b"} and 9 not in {t for *_, t in fired}
    assert result.inventory == {"a": 0, "b": 1}


def test_a_second_battery_supports_only_where_no_look_is_possible():
    """B adds a round to A's threat only when B's window closes before A's assessment."""
    from hyperdef.engagement.fire_control import LaunchWindow, _support_shots

    def window(latest_s, intercept_s):
        return LaunchWindow(True, 0.0, latest_s, 0.0, intercept_s, 50.0, np.zeros(3),
                            50e3, 100e3, 500.0)

    batteries = [Battery("a", "USA", *DEFENDED, interceptor="gpi", inventory=1),
                 Battery("b", "USA", 26.4, 127.8, interceptor="sm6", inventory=3)]
    pk = np.array([[0.8, 0.8], [0.7, 0.7]])
    feasible = np.ones((2, 2), dtype=bool)
    choice = np.array([0, 1])  # A engages threat 0 (intercept 150 s), B threat 1

    def support(b_latest_on_0):
        windows = {("a", 1): window(100.0, 150.0), ("a", 0): window(100.0, 150.0),
                   ("b", 0): window(b_latest_on_0, 150.0), ("b", 1): window(300.0, 200.0)}
        return _support_shots(batteries, [0, 1], windows, np.ones(2), pk, feasible, choice,
                              np.array([1, 3]), np.array([1, 1]), 5.0).tolist()

    # B could still fire after A's look (latest 400 s > 150 + 5 s): it holds fire
    assert support(400.0) == [-1, -1]
    # no look possible: threat 0 is worth 1 x (1 - 0.8) to B's spare round, which B fires
    assert support(120.0) == [1, -1]


@pytest.mark.parametrize("seed", range(20))
def test_assignment_counts_rounds_in_flight(seed):
    """A threat with rounds in flight is worth V (1 - p)^k: exact against brute force."""
    rng = np.random.default_rng(500 + seed)
    n_b, n_t = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    values = rng.uniform(0.5, 3.0, n_t)
    pk = rng.uniform(0.1, 0.95, (n_b, n_t))
    feasible = rng.random((n_b, n_t)) > 0.25
    inventory = rng.integers(0, 3, n_b)
    survival = (1.0 - rng.uniform(0.5, 0.9, n_t)) ** rng.integers(0, 3, n_t)
    choice = assign_one_shot(values, pk, feasible, inventory, survival=survival)
    shots = np.zeros((n_b, n_t), dtype=int)
    for t, b in enumerate(choice):
        if b >= 0:
            shots[b, t] = 1
    best, _ = brute_force(values, pk, feasible, inventory, max_shots_per_threat=1,
                          survival=survival)
    assert expected_value(values, pk, shots, survival) == pytest.approx(best, abs=1e-12)
    same = np.repeat(pk[:1], n_b, axis=0)
    greedy = assign_greedy(values, same, inventory=inventory, max_shots_per_threat=2,
                           survival=survival)
    best, _ = brute_force(values, same, inventory=inventory, max_shots_per_threat=2,
                          survival=survival)
    assert expected_value(values, same, greedy, survival) == pytest.approx(best, abs=1e-12)


def test_a_round_goes_to_the_untouched_threat_not_the_one_under_fire():
    # threat 0 has a round of Pk 0.8 in flight (survives with 0.2): the one round goes to 1
    choice = assign_one_shot([1.0, 1.0], [[0.7, 0.5]], inventory=np.array([1]),
                             survival=[0.2, 1.0])
    assert choice.tolist() == [-1, 0]
    with pytest.raises(InputError, match="survival"):
        assign_one_shot([1.0], [[0.5]], inventory=np.array([1]), survival=[1.5])


def test_a_look_that_finds_no_window_is_tried_again_while_the_track_lasts(monkeypatch):
    """After a miss the survivor's path predicted at the kill assessment may not yet allow
    an intercept; the look is made again every decision step until a window opens (here
    12 s later), and not at all for a battery without rounds or a salvo doctrine."""
    import hyperdef.engagement.fire_control as fc

    opens_at = 112.0
    seen = []

    def window(battery, path, t_from_s):
        seen.append(t_from_s)
        ok = t_from_s >= opens_at
        return fc.LaunchWindow(ok, t_from_s, t_from_s + 5, t_from_s, t_from_s + 60, 60.0,
                               np.zeros(3), 3e4, 5e4, t_from_s + 90, "" if ok else "too_late")

    monkeypatch.setattr(fc, "launch_window", window)
    monkeypatch.setattr(fc, "predict_track_paths", lambda requests: [None] * len(requests))
    sls = fc.Battery("b", "USA", 26.4, 127.8, 0.0, "sm6", 2, "shoot_look_shoot")
    salvo = fc.Battery("s", "USA", 26.2, 127.7, 0.0, "sm6", 2, "salvo")
    trk = {"t": np.arange(90.0, 200.0), "x": np.zeros((110, 6))}
    windows = {("b", 3): None, ("s", 3): None}
    got = fc._solve(fc._open_windows([salvo, sls], {"b": 2, "s": 2}, windows, trk, 3, 100.0,
                                     4.0))
    assert list(got) == [1] and got[1].earliest_s == pytest.approx(112.0)
    assert seen == [100.0, 104.0, 108.0, 112.0]
    assert fc._solve(fc._open_windows([salvo, sls], {"b": 0, "s": 2}, windows, trk, 3, 100.0,
                                      4.0)) == {}


def test_paths_predicted_together_are_the_paths_predicted_alone(ballistic):
    """One predict_track_paths call for many requests (two tracks, the 10 s and the 2 s
    integration step, a path that reaches the ground, another horizon) gives every path
    bit for bit as predict_track_path gives it alone, in any order: the planning of many
    draws shares these calls, so a draw's windows must not depend on the others."""
    from hyperdef.engagement import guidance
    from hyperdef.engagement.fire_control import (
        PathRequest,
        predict_track_path,
        predict_track_paths,
        track_acceleration,
    )

    rows = ballistic.rows(0)
    t = np.arange(100.0, ballistic.t[rows][-1] - 1.0, 2.0)
    r, v, _ = ballistic.state_at(np.zeros(t.size, int), t)
    track_a = (t, np.hstack([r, v]))
    track_b = (t + 0.5, np.hstack([r + 30.0, v * (1.0 + 1e-4)]))  # another track's rows
    requests = [PathRequest(*track_a, 300.0), PathRequest(*track_a, 620.0),
                PathRequest(*track_b, 450.5), PathRequest(*track_b, 616.5, horizon_s=60.0),
                PathRequest(*track_a, 300.0, horizon_s=120.0, step_s=2.0)]
    modes = set()
    for q in requests:
        k = int(np.searchsorted(q.t_track, q.t_from_s, side="right")) - 1
        a = track_acceleration(q.t_track, q.x_track, k)
        modes.add(int(guidance.target_aero(q.x_track[k:k + 1, :3], q.x_track[k:k + 1, 3:],
                                           a[None], accel_age_s=10.0).mode[0]))
    assert modes == {0, 1}, "the requests should need both integration steps"
    alone = [predict_track_path(q.t_track, q.x_track, q.t_from_s, horizon_s=q.horizon_s,
                                step_s=q.step_s) for q in requests]
    assert alone[1].t[-1] < 620.0 + 900.0, "a path should reach the ground"
    for order in (list(range(len(requests))), list(range(len(requests)))[::-1]):
        together = predict_track_paths([requests[m] for m in order])
        for m, path in zip(order, together, strict=True):
            assert np.array_equal(path.t, alone[m].t), f"request {m}: sample times differ"
            assert np.array_equal(path.r_ecef_m, alone[m].r_ecef_m), (
                f"request {m}: positions differ when predicted with the others")
    with pytest.raises(InputError, match="t_from_s"):
        predict_track_paths([requests[0], PathRequest(*track_a, 50.0)])
