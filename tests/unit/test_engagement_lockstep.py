"""Lockstep engagements: a shot's flight does not depend on the shots flown with it.

Monte Carlo campaigns fly the shots of many draws in one batched ``engage``; that is only
sound if every record of a shot is the same, bit for bit, as when it is flown alone.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from hyperdef.engagement.fire_control import run_fire_control, run_fire_control_draws
from hyperdef.engagement.guidance import predict_path
from hyperdef.engagement.interceptor import GPI_CLASS, SM6_CLASS
from hyperdef.engagement.simulate import (
    EngagementOptions,
    ShotNormals,
    engage,
)
from hyperdef.errors import InputError
from hyperdef.threats import fly
from hyperdef.threats.trajectory import concat_trajectories

DEFENDED = np.radians([26.2, 127.7, 0.0])
RESULT_ARRAYS = ("target_index", "t_launch_s", "miss_m", "t_intercept_s", "t_acquire_s",
                 "status", "divert_used_kg", "steps")


@pytest.fixture(scope="module")
def pair():
    return fly("ballistic", np.radians([33.0, 120.0, 0.0]), DEFENDED,
               t_launch_s=np.array([0.0, 30.0]))


@pytest.fixture(scope="module")
def hgv_draw():
    from hyperdef.scenario import load_scenario
    from hyperdef.simulation import run_scenario

    sc = load_scenario("scenarios/single_hgv.yaml")
    res = run_scenario(sc, seed=3)
    batteries = [b for b, _ in sc.batteries]
    source = sc.batteries[0][1]
    return res.truth, res.pictures[source], batteries


def _assert_same_shot(alone, batch, i, label):
    for name in RESULT_ARRAYS:
        a, b = getattr(alone, name)[0], getattr(batch, name)[i]
        same = (a == b) or (isinstance(a, float) and np.isnan(a) and np.isnan(b))
        assert same, f"{label}: {name} alone {a!r} != in the batch {b!r}"


def test_a_shot_alone_equals_the_same_shot_in_a_batch(pair):
    """Other targets, launch times and sites in the batch change no bit of a shot."""
    far = np.radians([-10.0, 150.0, 0.0])  # out of reach: never flies
    sites = np.array([DEFENDED, DEFENDED, np.radians([26.4, 127.8, 0.0]), far])
    targets = np.array([0, 1, 0, 1])
    launches = np.array([300.0, 400.0, 350.0, 300.0])
    seeds = [11, 12, 13, 14]
    opts = EngagementOptions(target_accel_sigma_m_s2=2.0)  # every noise source in use
    batch = engage(GPI_CLASS, pair, target_index=targets, site_lla=sites,
                   t_launch_s=launches, options=opts,
                   rng=[np.random.default_rng(s) for s in seeds])
    assert batch.status[3] == "out_of_envelope" and batch.status[0] != "out_of_envelope"
    assert len(set(batch.t_launch_s[:3])) == 3, "the shots must launch at different times"
    for i in (1,):  # launched after shot 0 and before shot 2, target 1 of 2
        alone = engage(GPI_CLASS, pair, target_index=targets[i], site_lla=sites[i],
                       t_launch_s=launches[i], options=opts,
                       rng=[np.random.default_rng(seeds[i])])
        _assert_same_shot(alone, batch, i, f"shot {i}")
        assert alone.iterations == alone.steps[0]
    # every flying shot steps in every iteration, whatever its launch time: shots that
    # launched apart cost as many iterations as the longest flight, not the union of times
    assert batch.iterations == batch.steps.max() < batch.steps.sum()


def test_one_generator_is_split_into_one_child_per_shot(pair):
    opts = EngagementOptions()
    one = engage(SM6_CLASS, pair, target_index=[0, 1], site_lla=DEFENDED, t_launch_s=400.0,
                 options=opts, rng=np.random.default_rng(5))
    children = engage(SM6_CLASS, pair, target_index=[0, 1], site_lla=DEFENDED,
                      t_launch_s=400.0, options=opts,
                      rng=np.random.default_rng(5).spawn(2))
    for name in RESULT_ARRAYS:
        np.testing.assert_array_equal(getattr(one, name), getattr(children, name))
    with pytest.raises(InputError, match="rng"):
        engage(SM6_CLASS, pair, target_index=[0, 1], site_lla=DEFENDED, t_launch_s=400.0,
               options=opts, rng=[np.random.default_rng(1)] * 3)


def test_a_batch_of_draws_takes_fewer_iterations_than_separate_flights(pair):
    """K Monte Carlo draws of one shot: the batch loop runs about as often as one flight."""
    k = 4
    opts = EngagementOptions()
    batch = engage(SM6_CLASS, pair, target_index=np.zeros(k, int), site_lla=DEFENDED,
                   t_launch_s=400.0, options=opts,
                   rng=[np.random.default_rng(100 + d) for d in range(k)])
    separate = [engage(SM6_CLASS, pair, target_index=0, site_lla=DEFENDED, t_launch_s=400.0,
                       options=opts, rng=[np.random.default_rng(100 + d)])
                for d in range(k)]
    total = sum(r.iterations for r in separate)
    assert [r.steps[0] for r in separate] == batch.steps.tolist()
    assert batch.iterations < total / 2, (batch.iterations, total)
    assert batch.iterations == max(r.iterations for r in separate)
    for d, alone in enumerate(separate):
        _assert_same_shot(alone, batch, d, f"draw {d}")


def test_fire_control_draws_equal_separate_runs(hgv_draw, pair):
    """Draw d of the batched fire control is run_fire_control of draw d alone."""
    truth, picture, batteries = hgv_draw
    copy = dataclasses.replace(truth)  # another truth object: its objects are offset
    t = np.arange(250.0, 560.0, 1.0)
    r, v, _ = pair.state_at(np.ones(t.size, int), t)
    n = t.size
    ballistic = pa.table({  # a perfect track of the pair's second object
        "t": t, "track_id": np.full(n, 7), "node": ["USA"] * n,
        "status": ["confirmed"] * n, "x": r[:, 0], "y": r[:, 1], "z": r[:, 2],
        "vx": v[:, 0], "vy": v[:, 1], "vz": v[:, 2], "P": [list(np.eye(6).ravel())] * n,
        "model_probs": [[1.0]] * n, "marking": ["REL TO USA, JPN"] * n,
        "truth_id": np.ones(n, dtype=np.int64)})
    tracks = [picture, picture, ballistic]
    truths = [truth, copy, pair]
    seeds = [0, 1, 2]
    batched = run_fire_control_draws(tracks, batteries, truths,
                                     rngs=[np.random.default_rng(s) for s in seeds])
    assert len(batched) == 3
    fired = 0
    for d in range(3):
        alone = run_fire_control(tracks[d], batteries, truths[d],
                                 rng=np.random.default_rng(seeds[d]))
        assert batched[d].engagements.equals(alone.engagements), (
            f"draw {d}: {batched[d].engagements.to_pylist()} != "
            f"{alone.engagements.to_pylist()}")
        assert batched[d].inventory == alone.inventory
        assert batched[d].windows.keys() == alone.windows.keys()
        fired += int(np.sum(np.asarray(alone.engagements.column("shot_id")) > 0))
    assert fired >= 4, "the draws must fly shots to test the batching"


def test_an_object_of_a_joined_trajectory_keeps_its_state(pair):
    """Times an ulp from a sample give the same bits alone and after a join."""
    joined = concat_trajectories([pair, pair])
    rows = pair.rows(1)
    samples = pair.t[rows][5:400:7]
    t = np.concatenate([samples, np.nextafter(samples, -np.inf), np.nextafter(samples, np.inf),
                        samples + 0.01 * np.arange(samples.size)])
    alone = pair.state_at(np.ones(t.size, int), t)
    got = joined.state_at(np.full(t.size, 3), t)
    for a, b in zip(alone, got, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_prediction_does_not_depend_on_the_other_rows():
    rng = np.random.default_rng(0)
    r = np.array([[6.4e6, 0.0, 1e5], [6.45e6, 1e5, 0.0], [6.42e6, -1e5, 2e5]])
    v = rng.normal(0.0, 2000.0, (3, 3))
    a = np.array([[-20.0, 0.0, 0.0], [0.0, -3.0, 0.0], [-9.0, 0.0, -4.0]])
    dt = np.array([30.0, 250.0, 7.0])
    rows = predict_path(r, v, a, dt)
    for i in range(3):
        np.testing.assert_array_equal(predict_path(r[i:i + 1], v[i:i + 1], a[i:i + 1],
                                                   dt[i:i + 1])[0], rows[i])


def test_shot_normals_follow_each_generator_in_blocks():
    gens = [np.random.default_rng(s) for s in (1, 2)]
    normals = ShotNormals(gens, block=8)
    got = [normals.take(np.array([0]), 3)[0] for _ in range(5)]
    both = normals.take(np.array([1, 0]), 2)
    stream0 = np.random.default_rng(1).standard_normal(40)
    # each shot's draws are its generator's stream, in order, whatever the blocks
    np.testing.assert_array_equal(np.concatenate(got + [both[1]]), stream0[:17])
    np.testing.assert_array_equal(both[0], np.random.default_rng(2).standard_normal(2))


def test_the_midcourse_step_must_be_a_whole_number_of_terminal_steps(pair):
    with pytest.raises(InputError, match="dt_midcourse_s"):
        engage(SM6_CLASS, pair, site_lla=DEFENDED, t_launch_s=400.0,
               options=EngagementOptions(dt_terminal_s=0.03, dt_midcourse_s=0.1),
               rng=np.random.default_rng(0))
