"""Unit tests of the batched integrator: per-vehicle end times, held controls, records."""

from dataclasses import dataclass, field

import numpy as np
import pytest

from hyperdef.core.integrate import STATUS_END_TIME, hermite, integrate


@dataclass
class Counting:
    """dx/dt = u with u = the time at which the controls were computed (a visible hold)."""

    calls: list = field(default_factory=list)
    events: tuple = ()

    def controls(self, t, y, idx, mode):
        self.calls.append(idx.size)
        return {"u": t.copy()}, mode + 1

    def derivative(self, t, y, idx, u):
        out = np.zeros_like(y)
        out[:, 0] = u["u"]
        return out

    def event_values(self, t, y, idx):
        return np.zeros((idx.size, 0))


def test_each_vehicle_stops_exactly_at_its_end_time():
    system = Counting()
    t_end = np.array([1.0, 2.25, 0.3])
    res = integrate(system, np.zeros(3), np.zeros((3, 7)), t_end, 0.5, record_every=1)
    np.testing.assert_array_equal(res.t, t_end)
    assert np.all(res.status == STATUS_END_TIME)
    # the shortened last step of each vehicle is part of its record
    for i in range(3):
        t_i = res.samples.t[res.samples.index == i]
        assert t_i[0] == 0.0 and t_i[-1] == t_end[i]
        assert np.all(np.diff(t_i) > 0)


def test_controls_are_held_between_guidance_updates():
    every_step = Counting()
    held = Counting()
    y0 = np.zeros((2, 7))
    a = integrate(every_step, np.zeros(2), y0, np.full(2, 4.0), 0.5, control_every=1)
    b = integrate(held, np.zeros(2), y0, np.full(2, 4.0), 0.5, control_every=4)
    assert len(every_step.calls) == 8 and len(held.calls) == 2
    # x = integral of the held time stamp: 0.5 * (0 * 2 + 2 * 2) with updates at t = 0, 2
    np.testing.assert_allclose(b.y[:, 0], 4.0)
    np.testing.assert_allclose(a.y[:, 0], 0.5 * 0.5 * sum(range(8)))
    assert a.mode.tolist() == [8, 8] and b.mode.tolist() == [2, 2]


def test_hermite_interpolant_is_exact_for_cubics():
    # y = t^3 on [1, 3]: the cubic Hermite interpolant through values and slopes is exact
    h = np.array([2.0])
    y0, y1 = np.array([[1.0]]), np.array([[27.0]])
    f0, f1 = np.array([[3.0]]), np.array([[27.0]])
    for s in (0.0, 0.25, 0.5, 0.9, 1.0):
        t = 1.0 + 2.0 * s
        assert hermite(y0, f0, y1, f1, h, np.array([s]))[0, 0] == pytest.approx(t**3)


def test_nothing_to_do_when_start_is_end():
    res = integrate(Counting(), np.ones(2), np.zeros((2, 7)), np.ones(2), 0.5)
    assert res.n_steps == 0
    assert np.all(res.status == STATUS_END_TIME)


def test_work_count_is_four_derivatives_per_vehicle_step():
    # STYLE.md: tests assert work counts, never wall time. RK4 costs four derivative rows per
    # vehicle and step; the integrator's bookkeeping must not add hidden evaluations.
    calls = []

    @dataclass
    class CountingRows(Counting):
        def derivative(self, t, y, idx, u):
            calls.append(idx.size)
            return super().derivative(t, y, idx, u)

    t_end = np.array([1.0, 2.0, 3.0])
    res = integrate(CountingRows(), np.zeros(3), np.zeros((3, 7)), t_end, 0.5, record_every=0)
    vehicle_steps = int(np.sum(np.ceil(t_end / 0.5)))
    assert res.n_derivative_rows == 4 * vehicle_steps
    # plus one evaluation per vehicle at its final state, for the record
    assert sum(calls) == 4 * vehicle_steps + 3
