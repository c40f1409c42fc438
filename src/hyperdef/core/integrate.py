"""Batched fixed-step Runge-Kutta integration with per-vehicle time and event location.

One call advances B vehicles at once. Each vehicle keeps its own clock ``t[i]`` and
its own end time ``t_end[i]``; the last step of a vehicle is shortened so it lands
exactly on ``t_end[i]`` (staging and burnout times are hit exactly, not rounded to
the step). Controls are computed once per step from the state at the start of the
step and held over the four stages (a zero-order hold, as a guidance computer
running at the step rate would do). Event functions are checked after every step;
a sign change is located inside the step on a cubic Hermite interpolant of the
state, so event times do not depend on the step size.

References
----------
.. [1] E. Hairer, S. P. Norsett, G. Wanner, *Solving Ordinary Differential
   Equations I*, 2nd ed., Springer, 1993: section II.1 (classical RK4, Butcher
   tableau) and section II.6 (dense output, Hermite interpolation).
.. [2] L. F. Shampine, I. Gladwell, S. Thompson, *Solving ODEs with MATLAB*,
   Cambridge University Press, 2003, section 2.3.2 (event location).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

# Butcher tableau of the classical fourth-order Runge-Kutta method ([1], table II.1.2).
RK4_C = np.array([0.0, 0.5, 0.5, 1.0])
RK4_A = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 1.0]])
RK4_B = np.array([1.0, 2.0, 2.0, 1.0]) / 6.0

#: status codes of a vehicle after :func:`integrate`
STATUS_RUNNING = -2
STATUS_END_TIME = -1  # reached its t_end; values >= 0 are the index of the terminal event

_BISECTION_ITERATIONS = 40

#: controls of a batch of vehicles: arrays whose first axis runs over the vehicles
Controls = dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class Event:
    """An event function ``g(t, y)`` of a :class:`System`, column ``index`` of ``events``.

    Parameters
    ----------
    name : str
        Name recorded with the event (``"ground_impact"``, ``"burnout"``...).
    terminal : bool
        Whether the vehicle stops integrating when the event occurs.
    direction : int
        +1 fires only when g rises through zero, -1 only when it falls, 0 both.
    """

    name: str
    terminal: bool = True
    direction: int = 0


class System(Protocol):
    """What :func:`integrate` needs from a batch of vehicles.

    ``idx`` (n,) are the batch indices of the vehicles being stepped, so a system can
    pick its per-vehicle parameters with ``param[idx]``. ``mode`` (n,) int is a
    per-vehicle discrete state (a guidance phase) that ``controls`` may update.
    Controls are a ``dict`` of arrays whose first axis runs over the n vehicles.
    """

    events: tuple[Event, ...]

    def controls(
        self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, mode: np.ndarray
    ) -> tuple[Any, np.ndarray]: ...

    def derivative(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray, u: Any) -> np.ndarray: ...

    def event_values(self, t: np.ndarray, y: np.ndarray, idx: np.ndarray) -> np.ndarray: ...


@dataclass(slots=True)
class Samples:
    """Recorded states, flat over (vehicle, time): one row per recorded sample.

    Attributes
    ----------
    index : ndarray, shape (M,)
        Batch index of the vehicle of each row.
    t : ndarray, shape (M,)
        Time, s from the scenario epoch.
    y : ndarray, shape (M, n)
        State at ``t``.
    dydt : ndarray, shape (M, n)
        State derivative at ``t`` with the controls in force.
    mode : ndarray, shape (M,)
        Discrete state (guidance phase) in force at ``t``.
    """

    index: np.ndarray
    t: np.ndarray
    y: np.ndarray
    dydt: np.ndarray
    mode: np.ndarray


@dataclass(slots=True)
class EventRecord:
    """Non-terminal and terminal event occurrences, one row each."""

    index: np.ndarray
    event: np.ndarray
    t: np.ndarray
    y: np.ndarray


@dataclass(slots=True)
class IntegrationResult:
    """Outcome of :func:`integrate` for a batch of B vehicles.

    Attributes
    ----------
    t : ndarray, shape (B,)
        Final time of each vehicle, s.
    y : ndarray, shape (B, n)
        Final state.
    mode : ndarray, shape (B,)
        Final discrete state.
    status : ndarray, shape (B,)
        ``STATUS_END_TIME`` or the index of the terminal event that stopped it.
    samples : Samples
        The recorded trajectory (every ``record_every`` steps plus the final state).
    events : EventRecord
        Every event occurrence located.
    n_steps : int
        Number of batch steps taken.
    n_derivative_rows : int
        Vehicle-evaluations of the derivative (a work count for tests).
    """

    t: np.ndarray
    y: np.ndarray
    mode: np.ndarray
    status: np.ndarray
    samples: Samples
    events: EventRecord
    n_steps: int
    n_derivative_rows: int = 0
    event_names: tuple[str, ...] = field(default_factory=tuple)


def take_rows(u: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The controls of the vehicles at positions ``rows`` of a control dict."""
    return {k: v[rows] for k, v in u.items()}


def _hold(
    held: dict[str, np.ndarray] | None, u: dict[str, np.ndarray], active: np.ndarray, n_batch: int
) -> dict[str, np.ndarray]:
    """Store the controls of the active vehicles in full-batch arrays, to hold them."""
    if held is None:
        held = {k: np.zeros((n_batch,) + v.shape[1:], v.dtype) for k, v in u.items()}
    for k, v in u.items():
        held[k][active] = v
    return held


def rk4_step(
    system: System,
    t: np.ndarray,
    y: np.ndarray,
    h: np.ndarray,
    idx: np.ndarray,
    u: Any,
    k1: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One classical RK4 step of size ``h`` (n,) for the vehicles ``idx``.

    Returns the new state and the first stage ``k1`` (the derivative at the start).
    """
    hc = h[:, None]
    if k1 is None:
        k1 = system.derivative(t, y, idx, u)
    k2 = system.derivative(t + 0.5 * h, y + (0.5 * hc) * k1, idx, u)
    k3 = system.derivative(t + 0.5 * h, y + (0.5 * hc) * k2, idx, u)
    k4 = system.derivative(t + h, y + hc * k3, idx, u)
    y_new = y + (hc / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)
    return y_new, k1


def hermite(
    y0: np.ndarray, f0: np.ndarray, y1: np.ndarray, f1: np.ndarray, h: np.ndarray, s: np.ndarray
) -> np.ndarray:
    """Cubic Hermite interpolant of the state at fraction ``s`` (n,) of a step ``h`` (n,)."""
    s = s[:, None]
    hc = h[:, None]
    s2 = s * s
    s3 = s2 * s
    h00 = 2 * s3 - 3 * s2 + 1
    h10 = s3 - 2 * s2 + s
    h01 = -2 * s3 + 3 * s2
    h11 = s3 - s2
    return h00 * y0 + h10 * hc * f0 + h01 * y1 + h11 * hc * f1


def _crossed(g0: np.ndarray, g1: np.ndarray, directions: np.ndarray) -> np.ndarray:
    rising = (g0 < 0) & (g1 >= 0)
    falling = (g0 > 0) & (g1 <= 0)
    return np.where(directions > 0, rising, np.where(directions < 0, falling, rising | falling))


def integrate(
    system: System,
    t0: np.ndarray,
    y0: np.ndarray,
    t_end: np.ndarray,
    dt_s: float,
    *,
    mode0: np.ndarray | None = None,
    record_every: int = 1,
    control_every: int = 1,
    max_steps: int = 10_000_000,
) -> IntegrationResult:
    """Integrate a batch of vehicles with fixed-step RK4 until each ends.

    Parameters
    ----------
    system : System
        Controls, derivative and event functions of the batch.
    t0 : ndarray, shape (B,)
        Start time of each vehicle, s.
    y0 : ndarray, shape (B, n)
        Initial states.
    t_end : ndarray, shape (B,)
        Time at which each vehicle stops if no terminal event stops it first, s.
    dt_s : float
        Step size, s (> 0). The last step of a vehicle is shortened to hit ``t_end``.
    mode0 : ndarray, shape (B,), optional
        Initial discrete state (guidance phase), default zeros.
    record_every : int
        Record every k-th step (0 records only the start and final states).
    control_every : int
        Recompute the controls every k-th step (a guidance rate of 1 / (k dt_s)) and
        hold them in between; 1 recomputes them every step.
    max_steps : int
        Safety limit on the number of batch steps.

    Returns
    -------
    IntegrationResult
    """
    t = np.array(t0, dtype=float, copy=True)
    y = np.array(y0, dtype=float, copy=True)
    t_end = np.broadcast_to(np.asarray(t_end, dtype=float), t.shape).copy()
    n_batch = t.shape[0]
    mode = np.zeros(n_batch, dtype=np.int64) if mode0 is None else np.array(mode0, np.int64)
    status = np.full(n_batch, STATUS_RUNNING, dtype=np.int64)
    events = tuple(system.events)
    directions = np.array([e.direction for e in events], dtype=np.int64)
    terminal = np.array([e.terminal for e in events], dtype=bool)

    rec: list[tuple[np.ndarray, ...]] = []
    ev_rec: list[tuple[np.ndarray, ...]] = []
    active = np.flatnonzero(t < t_end - 1e-12)
    status[t >= t_end - 1e-12] = STATUS_END_TIME
    # working copies of the vehicles still flying, compacted when some finish; the state
    # is kept column-major so kernels can read it by component without a copy
    ta, ya, tea, ma = t[active], np.asfortranarray(y[active]), t_end[active], mode[active]
    n_rows = 0
    g_prev = system.event_values(ta, ya, active) if len(events) else None
    step = 0
    held: dict[str, np.ndarray] | None = None
    while active.size and step < max_steps:
        if step % control_every == 0 or held is None:
            u, ma = system.controls(ta, ya, active, ma)
            if control_every > 1:
                held = _hold(held, u, active, n_batch)
        else:
            u = take_rows(held, active)
        h = np.minimum(dt_s, tea - ta)
        k1 = system.derivative(ta, ya, active, u)
        if step == 0 or (record_every and step % record_every == 0):
            rec.append((active, ta, ya, k1, ma))
        y_new, _ = rk4_step(system, ta, ya, h, active, u, k1)
        n_rows += 4 * active.size
        t_new = ta + h
        done = np.zeros(active.size, dtype=bool)
        if len(events):
            g_new = system.event_values(t_new, y_new, active)
            crossed = _crossed(g_prev, g_new, directions[None, :])
            rows = np.flatnonzero(crossed.any(axis=1))
            if rows.size:
                t_ev, y_ev, first_terminal, ev_rows = _locate(
                    system,
                    ta[rows],
                    ya[rows],
                    k1[rows],
                    y_new[rows],
                    h[rows],
                    active[rows],
                    self_u=take_rows(u, rows),
                    crossed=crossed[rows],
                    terminal=terminal,
                    g0=g_prev[rows],
                    g1=g_new[rows],
                )
                n_rows += rows.size
                for ev_index, r_local, te, ye in ev_rows:
                    ev_rec.append((active[rows[r_local]], np.full(r_local.size, ev_index), te, ye))
                stop = first_terminal >= 0
                if stop.any():
                    sr = rows[stop]
                    done[sr] = True
                    t_new[sr] = t_ev[stop]
                    y_new[sr] = y_ev[stop]
                    status[active[sr]] = first_terminal[stop]
            g_prev = g_new
        ta, ya = t_new, y_new
        reached = (~done) & (ta >= tea - 1e-9)
        status[active[reached]] = STATUS_END_TIME
        finished = done | reached
        if finished.any():
            fi = np.flatnonzero(finished)
            ids = active[fi]
            t[ids], y[ids], mode[ids] = ta[fi], ya[fi], ma[fi]
            uf = take_rows(u, fi)
            rec.append((ids, ta[fi], ya[fi], system.derivative(ta[fi], ya[fi], ids, uf), ma[fi]))
            keep = ~finished
            active, ta, ya, tea, ma = active[keep], ta[keep], ya[keep], tea[keep], ma[keep]
            ya = np.asfortranarray(ya)
            if g_prev is not None:
                g_prev = g_prev[keep]
        step += 1
    if active.size:  # max_steps reached: keep where they stopped
        t[active], y[active], mode[active] = ta, ya, ma
        status[active] = STATUS_END_TIME
    samples = _assemble(rec, y.shape[1])
    event_record = _assemble_events(ev_rec, y.shape[1])
    return IntegrationResult(
        t=t,
        y=y,
        mode=mode,
        status=status,
        samples=samples,
        events=event_record,
        n_steps=step,
        n_derivative_rows=n_rows,
        event_names=tuple(e.name for e in events),
    )


def _locate(system: System, t0, y0, f0, y1, h, idx, *, self_u, crossed, terminal, g0, g1):
    """Locate every crossed event inside its step by bisection on the Hermite interpolant."""
    f1 = system.derivative(t0 + h, y1, idx, self_u)
    n, n_ev = crossed.shape
    s_root = np.full((n, n_ev), np.inf)
    for j in range(n_ev):  # loop over event kinds (a handful), never over vehicles
        rows = np.flatnonzero(crossed[:, j])
        if not rows.size:
            continue
        lo = np.zeros(rows.size)
        hi = np.ones(rows.size)
        sign0 = np.sign(g0[rows, j])
        sign0[sign0 == 0] = -np.sign(g1[rows, j][sign0 == 0])
        for _ in range(_BISECTION_ITERATIONS):
            mid = 0.5 * (lo + hi)
            ym = hermite(y0[rows], f0[rows], y1[rows], f1[rows], h[rows], mid)
            gm = system.event_values(t0[rows] + mid * h[rows], ym, idx[rows])[:, j]
            same = np.sign(gm) == sign0
            lo = np.where(same, mid, lo)
            hi = np.where(same, hi, mid)
        s_root[rows, j] = hi
    # earliest terminal event per row
    s_term = np.where(terminal[None, :] & crossed, s_root, np.inf)
    first = np.argmin(s_term, axis=1)
    has_term = np.isfinite(s_term[np.arange(n), first])
    first_terminal = np.where(has_term, first, -1)
    s_stop = np.where(has_term, s_term[np.arange(n), first], 1.0)
    t_ev = t0 + s_stop * h
    y_ev = hermite(y0, f0, y1, f1, h, s_stop)
    ev_rows = []
    for j in range(n_ev):
        ok = crossed[:, j] & (s_root[:, j] <= s_stop + 1e-15)
        r_local = np.flatnonzero(ok)
        if r_local.size:
            s = s_root[r_local, j]
            ev_rows.append(
                (
                    j,
                    r_local,
                    t0[r_local] + s * h[r_local],
                    hermite(y0[r_local], f0[r_local], y1[r_local], f1[r_local], h[r_local], s),
                )
            )
    return t_ev, y_ev, first_terminal, ev_rows


def _assemble(rec: list[tuple[np.ndarray, ...]], n_state: int) -> Samples:
    if not rec:
        return Samples(
            np.empty(0, np.int64),
            np.empty(0),
            np.empty((0, n_state)),
            np.empty((0, n_state)),
            np.empty(0, np.int64),
        )
    index = np.concatenate([r[0] for r in rec])
    t = np.concatenate([r[1] for r in rec])
    y = np.concatenate([r[2] for r in rec])
    dydt = np.concatenate([r[3] for r in rec])
    mode = np.concatenate([r[4] for r in rec])
    order = np.lexsort((t, index))
    return Samples(index[order], t[order], y[order], dydt[order], mode[order])


def _assemble_events(rec: list[tuple[np.ndarray, ...]], n_state: int) -> EventRecord:
    if not rec:
        return EventRecord(
            np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty((0, n_state))
        )
    return EventRecord(
        np.concatenate([r[0] for r in rec]),
        np.concatenate([r[1] for r in rec]),
        np.concatenate([r[2] for r in rec]),
        np.concatenate([r[3] for r in rec]),
    )
