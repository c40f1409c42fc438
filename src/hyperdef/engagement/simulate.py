"""Engagement simulation: interceptors against threat trajectories, batched over draws.

Each draw flies one interceptor of a class against one object of a threat
:class:`~hyperdef.threats.trajectory.Trajectory` (both 3-DOF, both moving; the threat
follows its recorded truth, interpolated). A draw's record depends only on that draw,
bit for bit, whatever other draws (other targets, launch times, sites) share the call:

* **Step schedule**: every draw keeps its own clock. Its steps end on an absolute grid
  of ticks ``k dt_terminal_s`` counted from the epoch: each terminal step at the next
  tick, each midcourse step at the next multiple of ``dt_midcourse_s / dt_terminal_s``
  ticks (a whole number, checked), and earlier at the draw's own events (launch, stage
  burnout, end of flight). The terminal step is taken while the seeker tracks or the
  time to go is under ``terminal_window_s`` plus one midcourse step. Each iteration of
  the batch loop steps every flying draw once, each from its own clock (the draws'
  times differ: one time per row), in one vectorised pass, so K draws cost as many loop
  iterations as the longest of their flights, however far apart their launches are
  (``EngagementResult.iterations``; ``steps`` per draw).
* **Random streams**: each draw has its own generator (``rng`` as a sequence of one
  Generator per draw, or one Generator split into ``rng.spawn(n)``); its normals are
  drawn in blocks into a per-draw buffer (:class:`ShotNormals`), so the noise of a
  step is still one gather for all its draws.
* Nothing is shared across rows: the target state is interpolated per draw on its own
  object's samples (:meth:`~hyperdef.threats.trajectory.Trajectory.state_at`, exact
  even for objects of a joined trajectory), the track feed is searched per draw, the
  target is predicted on each row's own steps, and no reduction (a matrix product,
  einsum) spans rows.

The phases of a flight:

* **Launch** (:func:`engage`): fire control picks the predicted intercept point (PIP)
  from the class's fly-out table: the earliest point of the target's path, inside the
  class's intercept altitude band and outside :data:`UNPREDICTABLE_PHASES`, that the
  interceptor can reach in time; no such point ends the draw as ``out_of_envelope``
  without flying. It fires when the time of flight to the PIP equals the target's time
  to it, at the table's launch elevation, on the bearing to the PIP.
* **Boost**: while its stages burn the interceptor holds the fly-out path its launch
  elevation was chosen on (the fan's powered ascent).
* **Midcourse**: at the uplink rate the fire-control radar sends a target estimate (truth
  delayed by the latency, with Gaussian position and velocity errors). The PIP is the
  latest estimate predicted to the planned intercept time (a terminal run, which has no
  fly-out plan, recomputes that time for the kill vehicle's speed). Once the time to go
  falls below ``midcourse_window_s`` the kill vehicle flies the zero-effort-miss law to
  the PIP with gravity compensation.
* **Handover**: once the kill vehicle has separated and the target is within the seeker's
  acquisition range and gimbal limit, the seeker locks on and terminal homing begins
  (PN, APN or the optimal ZEM law) on filtered noisy line-of-sight angles, with range
  and range rate from the uplink. If the target leaves the gimbal, guidance falls back
  to midcourse.
* **Closest approach**: when the range rate changes sign inside a step, the miss is the
  minimum of the cubic Hermite interpolant of the relative position over that step
  (relative velocity as its slope), so it does not depend on the step size.
* **End of the target's path**: a flight also ends (``out_of_envelope``, the miss its
  closest approach so far) when its target's trajectory does, at impact or at the end of
  the recorded truth. There is nothing left to intercept, and the truth's last state,
  held, would otherwise be chased as a phantom until ``max_flight_time_s``.

Every draw ends as a record with a status from :data:`STATUSES`; nothing raises for an
expected outcome (a miss, a lost seeker, an empty divert tank).

References
----------
.. [1] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012,
   ch. 2, 8, 14 and 22.
.. [2] E. B. Wilson, "Probable inference, the law of succession, and statistical
   inference", JASA 22 (1927) 209-212 (the kill-probability interval).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from hyperdef.core.atmosphere import ussa76_fast
from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.core.frames import (
    ecef_to_lla,
    enu_rotation,
    great_circle_distance_m,
    initial_bearing_rad,
    lla_to_ecef,
)
from hyperdef.engagement.flight import (
    LAUNCH_SPEED_M_S,
    InterceptorFlight,
    dot,
    environment_acceleration,
    norm,
    perpendicular,
)
from hyperdef.engagement.flyout import FlyoutTable, flyout_table, line_holding_command
from hyperdef.engagement.guidance import (
    limit_lateral,
    midcourse_command,
    predict_path,
    predicted_intercept_point,
    terminal_command,
)
from hyperdef.engagement.homing import GUIDANCE_LAWS
from hyperdef.engagement.interceptor import InterceptorClass, check_interceptor
from hyperdef.engagement.seeker import (
    LineOfSightFilter,
    measure_line_of_sight,
    off_boresight_cos,
)
from hyperdef.errors import InputError
from hyperdef.threats.trajectory import PHASE_CODE, Trajectory, segment_floor

#: outcomes of one engagement
STATUSES = ("hit", "miss", "seeker_never_acquired", "out_of_propellant", "out_of_envelope")

#: how long before the planned intercept a distant range minimum is taken as the end, s
_PLAN_SLACK_S = 10.0

#: a range minimum farther than this before kill-vehicle separation is a passing
#: geometry, not the intercept: the flight goes on
_EARLY_MINIMUM_M = 5_000.0


@dataclass(frozen=True, slots=True)
class Uplink:
    """Target estimates sent to the interceptor in flight.

    Attributes
    ----------
    rate_hz : float
        Updates per second.
    latency_s : float
        Age of each estimate when it arrives, s.
    position_sigma_m, velocity_sigma_m_s : float
        Standard deviation of each component of the estimate's position (m) and
        velocity (m/s) error.
    """

    rate_hz: float = 1.0
    latency_s: float = 0.5
    position_sigma_m: float = 50.0
    velocity_sigma_m_s: float = 5.0


@dataclass(frozen=True, slots=True)
class EngagementOptions:
    """How the engagements are flown.

    Attributes
    ----------
    law : str
        Terminal guidance law: ``pn``, ``apn`` or ``zem``.
    nav_ratio : float
        Effective navigation ratio N' of ``pn`` and ``apn`` (> 0).
    dt_terminal_s, dt_midcourse_s : float
        Integration (and guidance) step in the terminal and midcourse phases, s; the
        midcourse step is a whole number of terminal steps (both end on one grid of
        terminal steps from the epoch, module notes).
    terminal_window_s : float
        Time to go below which the terminal step is used even before lock-on, s.
    max_flight_time_s : float
        Longest flight from launch (or from the start of a terminal run), s; a flight
        also ends with its target's trajectory.
    uplink : Uplink
    los_filter_memory : float
        Fading-memory factor of the line-of-sight filter, [0, 1).
    target_accel_sigma_m_s2 : float
        Error (per component) of the target acceleration estimate used by APN and ZEM.
    ideal : bool
        Perfect information: no seeker noise, exact target state, no uplink delay.
    midcourse_window_s : float
        After burnout the kill vehicle coasts until its time to go to the PIP falls
        below this, s, and only then spends divert on midcourse corrections: a PIP
        predicted minutes ahead moves by tens of km as the target's path unfolds, and
        chasing it early wastes the divert budget.
    """

    law: str = "zem"
    nav_ratio: float = 4.0
    dt_terminal_s: float = 0.01
    dt_midcourse_s: float = 0.1
    terminal_window_s: float = 3.0
    max_flight_time_s: float = 900.0
    uplink: Uplink = field(default_factory=Uplink)
    los_filter_memory: float = 0.8
    target_accel_sigma_m_s2: float = 0.0
    ideal: bool = False
    midcourse_window_s: float = 60.0


def check_options(options: EngagementOptions) -> EngagementOptions:
    """Validate engagement options; return them or raise :class:`InputError`."""
    if options.law not in GUIDANCE_LAWS:
        raise InputError(f"law: {options.law!r} is not one of {', '.join(GUIDANCE_LAWS)}")
    positive = (("nav_ratio", options.nav_ratio), ("dt_terminal_s", options.dt_terminal_s),
                ("dt_midcourse_s", options.dt_midcourse_s),
                ("max_flight_time_s", options.max_flight_time_s),
                ("uplink.rate_hz", options.uplink.rate_hz))
    for name, value in positive:
        if not (math.isfinite(value) and value > 0.0):
            raise InputError(f"{name}: {value:g} must be a finite number > 0")
    non_negative = (("terminal_window_s", options.terminal_window_s),
                    ("midcourse_window_s", options.midcourse_window_s),
                    ("uplink.latency_s", options.uplink.latency_s),
                    ("uplink.position_sigma_m", options.uplink.position_sigma_m),
                    ("uplink.velocity_sigma_m_s", options.uplink.velocity_sigma_m_s),
                    ("target_accel_sigma_m_s2", options.target_accel_sigma_m_s2))
    for name, value in non_negative:
        if not (math.isfinite(value) and value >= 0.0):
            raise InputError(f"{name}: {value:g} must be a finite number >= 0")
    if not 0.0 <= options.los_filter_memory < 1.0:
        raise InputError(f"los_filter_memory: {options.los_filter_memory:g} outside [0, 1)")
    ratio = options.dt_midcourse_s / options.dt_terminal_s
    if round(ratio) < 1 or abs(ratio - round(ratio)) > 1e-9 * ratio:
        raise InputError(f"dt_midcourse_s: {options.dt_midcourse_s:g} must be a whole multiple "
                         f"of dt_terminal_s ({options.dt_terminal_s:g}): both step sizes "
                         "end on one grid of terminal steps")
    return options


@dataclass(frozen=True, slots=True)
class EngagementResult:
    """One record per draw.

    Attributes
    ----------
    target_index : ndarray of int, shape (n,)
        Object of the trajectory each draw engaged.
    t_launch_s : ndarray, shape (n,)
        Launch time, s from epoch (for a terminal run: the start time).
    miss_m : ndarray, shape (n,)
        Closest approach, m (NaN when the interceptor was not launched).
    t_intercept_s : ndarray, shape (n,)
        Time of the closest approach, s from epoch (NaN when not launched).
    t_acquire_s : ndarray, shape (n,)
        Time the seeker first locked on, s (NaN if never).
    status : ndarray of str, shape (n,)
        One of :data:`STATUSES`.
    divert_used_kg : ndarray, shape (n,)
        Divert propellant burnt, kg (0 for aero steering).
    kill_radius_m : float
        Kill radius of the class: ``hit`` means miss <= kill radius.
    steps : ndarray of int, shape (n,)
        Integration steps each draw took (a work count: the same alone or in a batch).
    iterations : int
        Iterations of the batch loop, each stepping every draw still flying once (a work
        count of the whole call, STYLE 11: ``steps.max()``).
    """

    target_index: np.ndarray
    t_launch_s: np.ndarray
    miss_m: np.ndarray
    t_intercept_s: np.ndarray
    t_acquire_s: np.ndarray
    status: np.ndarray
    divert_used_kg: np.ndarray
    kill_radius_m: float
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    iterations: int = 0

    @property
    def kill(self) -> np.ndarray:
        """True for each draw whose status is ``hit``."""
        return self.status == "hit"

    def kill_probability(self, confidence: float = 0.95) -> tuple[float, float, float]:
        """Fraction of draws killed and its Wilson score interval.

        Returns
        -------
        (p, low, high) : tuple of float
        """
        return wilson_interval(int(self.kill.sum()), int(self.kill.size), confidence)

    def counts(self) -> dict[str, int]:
        """Number of draws of each status."""
        return {s: int(np.count_nonzero(self.status == s)) for s in STATUSES}

    def to_table(self) -> pa.Table:
        """The records as a table (one row per draw)."""
        return pa.table({
            "draw": np.arange(self.miss_m.size),
            "target_index": self.target_index.astype(np.int64),
            "t_launch": self.t_launch_s,
            "t_intercept": self.t_intercept_s,
            "t_acquire": self.t_acquire_s,
            "miss_m": self.miss_m,
            "kill": self.kill,
            "status": pa.array(self.status.astype(str), pa.string()),
            "divert_used_kg": self.divert_used_kg,
        })


def wilson_interval(successes: int, trials: int, confidence: float = 0.95
                    ) -> tuple[float, float, float]:
    """Proportion and Wilson score interval (Wilson 1927).

    Returns ``(p, low, high)``; for zero trials ``(nan, 0, 1)``.
    """
    if trials <= 0:
        return math.nan, 0.0, 1.0
    from scipy.stats import norm as normal

    z = float(normal.ppf(0.5 + 0.5 * confidence))
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


# --------------------------------------------------------------------------- track feed
@dataclass(frozen=True, slots=True)
class TrackFeed:
    """Fire-control track estimates uplinked to each draw's interceptor.

    Draw i reads rows ``offsets[i]:offsets[i+1]`` (sorted by time). At an uplink the
    newest estimate no later than the measurement time is sent, with an acceleration
    differenced from the velocities ``accel_baseline_s`` apart (zero with one row).

    Attributes
    ----------
    t : ndarray, shape (M,)
        Track times, s from epoch.
    x : ndarray, shape (M, 6)
        ECEF position and velocity estimates.
    offsets : ndarray of int, shape (n + 1,)
    accel_baseline_s : float
        Time between the two velocities differenced for the acceleration, s.
    """

    t: np.ndarray
    x: np.ndarray
    offsets: np.ndarray
    accel_baseline_s: float = 20.0

    def estimate(self, draws: np.ndarray, t_s: float, with_age: bool = False):
        """(t, r, v, a) of the newest estimate at or before ``t_s`` for each draw.

        With ``with_age``, also the age of the acceleration at ``t`` (half the baseline
        it was differenced over), s. A draw's answer depends on its own rows only (not
        on the other draws of the feed).
        """
        draws = np.asarray(draws, dtype=np.int64)
        lo, hi = self.offsets[draws], self.offsets[draws + 1]
        key, span = _feed_key(self)
        t_q = np.broadcast_to(np.asarray(t_s, dtype=float), draws.shape)
        # before the first estimate: the first one
        j = segment_floor(self.t, key, span, draws, lo, hi, t_q)
        # velocity difference over a long baseline: a track's velocity noise differenced
        # over one scan would swamp the target's acceleration
        prev = segment_floor(self.t, key, span, draws, lo, j + 1,
                             self.t[j] - self.accel_baseline_s)
        dt = self.t[j] - self.t[prev]
        a = np.where((dt > 0)[:, None], (self.x[j, 3:] - self.x[prev, 3:])
                     / np.where(dt > 0, dt, 1.0)[:, None], 0.0)
        if with_age:
            return self.t[j], self.x[j, :3], self.x[j, 3:], a, 0.5 * dt
        return self.t[j], self.x[j, :3], self.x[j, 3:], a


#: search keys of recently used track feeds (id -> (t array, key, span))
_FEED_KEYS: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}


def _feed_key(feed: TrackFeed) -> tuple[np.ndarray, float]:
    """Feed times made globally sorted by adding the draw index times a span (cached)."""
    cached = _FEED_KEYS.get(id(feed))
    if cached is not None and cached[0] is feed.t:
        return cached[1], cached[2]
    span = float(np.max(feed.t) - np.min(feed.t)) + 1.0 if feed.t.size else 1.0
    owner = np.repeat(np.arange(feed.offsets.size - 1), np.diff(feed.offsets))
    key = feed.t + owner * span
    if len(_FEED_KEYS) >= 8:
        _FEED_KEYS.pop(next(iter(_FEED_KEYS)))
    _FEED_KEYS[id(feed)] = (feed.t, key, span)
    return key, span


# --------------------------------------------------------------------------- random streams
class ShotNormals:
    """Standard normal draws of n shots, each from its own generator, drawn in blocks.

    Shot i's draws are the stream of ``generators[i]`` in order, whatever the other
    shots do: each shot holds a buffer of ``block`` normals and a cursor, and only the
    shots whose buffer runs out are refilled (one generator call per shot per block), so
    a step draws the noise of every shot in it with one gather.

    Parameters
    ----------
    generators : sequence of numpy.random.Generator, length n
    block : int
        Normals drawn per refill.
    """

    def __init__(self, generators, block: int = 512):
        self.generators = list(generators)
        self.block = int(block)
        n = len(self.generators)
        self.buffer = np.empty((n, self.block))
        self.cursor = np.full(n, self.block)  # empty: filled on first use

    def take(self, idx: np.ndarray, k: int) -> np.ndarray:
        """The next ``k`` normals of each shot ``idx`` (distinct), shape (len(idx), k)."""
        idx = np.asarray(idx, dtype=np.int64)
        short = idx[self.cursor[idx] + k > self.block]
        for i in short.tolist():  # a shot's refill comes once per block of its draws
            left = self.block - int(self.cursor[i])
            self.buffer[i, :left] = self.buffer[i, self.block - left:]
            self.generators[i].standard_normal(out=self.buffer[i, left:])
            self.cursor[i] = 0
        pos = self.cursor[idx]
        first = int(pos[0]) if pos.size else 0
        if np.all(pos == first):  # shots in step: one slice of columns
            out = self.buffer[idx, first:first + k]
        else:
            out = self.buffer[idx[:, None], pos[:, None] + np.arange(k)]
        self.cursor[idx] = pos + k
        return out


def _shot_normals(rng, n: int, options: EngagementOptions) -> ShotNormals | None:
    """The draws' noise streams (none with perfect information, which draws no noise)."""
    if rng is None:
        if not options.ideal:
            raise InputError("rng: a numpy.random.Generator (or one per draw) is needed "
                             "unless options.ideal")
        return None
    if options.ideal:
        if not isinstance(rng, np.random.Generator):
            shot_generators(rng, n)  # still checked
        return None
    return ShotNormals(shot_generators(rng, n))


def shot_generators(rng, n: int) -> list[np.random.Generator]:
    """One generator per shot: ``rng`` itself when it is a sequence of n generators, else
    ``rng.spawn(n)`` of one generator (shot i then gets the i-th child)."""
    if isinstance(rng, np.random.Generator):
        return rng.spawn(n)
    streams = list(rng)
    if len(streams) != n:
        raise InputError(f"rng: {len(streams)} generators given for {n} shots "
                         "(one per shot, or one Generator)")
    for k, g in enumerate(streams):
        if not isinstance(g, np.random.Generator):
            raise InputError(f"rng[{k}]: expected a numpy.random.Generator, got "
                             f"{type(g).__name__}")
    return streams


# --------------------------------------------------------------------------- closest approach
def closest_approach_in_step(p0: np.ndarray, v0: np.ndarray, p1: np.ndarray, v1: np.ndarray,
                             h_s: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum distance of the cubic Hermite relative path over one step.

    Parameters
    ----------
    p0, p1 : ndarray, shape (n, 3)
        Relative position at the start and end of the step, m.
    v0, v1 : ndarray, shape (n, 3)
        Relative velocity there, m/s.
    h_s : float or ndarray, shape (n,)
        Step length (of each row), s.

    Returns
    -------
    miss_m : ndarray, shape (n,)
        Smallest distance over the step.
    s : ndarray, shape (n,)
        Fraction of the step at which it occurs, in [0, 1].
    """
    h = np.asarray(h_s, dtype=float)
    h = h[:, None] if h.ndim else h
    m0 = v0 * h
    m1 = v1 * h
    # p(s) = c0 + c1 s + c2 s^2 + c3 s^3
    c0, c1 = p0, m0
    c2 = -3.0 * p0 - 2.0 * m0 + 3.0 * p1 - m1
    c3 = 2.0 * p0 + m0 - 2.0 * p1 + m1
    grid = np.linspace(0.0, 1.0, 33)
    pts = (c0[:, None] + c1[:, None] * grid[None, :, None]
           + c2[:, None] * grid[None, :, None] ** 2 + c3[:, None] * grid[None, :, None] ** 3)
    # |p|^2 by component, not einsum: a row's sum must not depend on the batch's layout
    d2 = pts[..., 0] * pts[..., 0] + pts[..., 1] * pts[..., 1] + pts[..., 2] * pts[..., 2]
    s = grid[np.argmin(d2, axis=1)]
    for _ in range(4):  # Newton on d|p|^2/ds = 2 p.p' = 0
        p = c0 + c1 * s[:, None] + c2 * (s * s)[:, None] + c3 * (s**3)[:, None]
        dp = c1 + 2.0 * c2 * s[:, None] + 3.0 * c3 * (s * s)[:, None]
        ddp = 2.0 * c2 + 6.0 * c3 * s[:, None]
        g = dot(p, dp)
        gg = dot(dp, dp) + dot(p, ddp)
        s = np.clip(s - np.where(gg > 0.0, g / np.where(gg > 0.0, gg, 1.0), 0.0), 0.0, 1.0)
    p = c0 + c1 * s[:, None] + c2 * (s * s)[:, None] + c3 * (s**3)[:, None]
    ends = np.minimum(norm(p0), norm(p1))
    miss = norm(p)
    s = np.where(miss <= ends, s, np.where(norm(p0) <= norm(p1), 0.0, 1.0))
    return np.minimum(miss, ends), s


def step_ticks(options: EngagementOptions) -> int:
    """Midcourse step in terminal steps (ticks): ``dt_midcourse_s / dt_terminal_s``."""
    return int(round(options.dt_midcourse_s / options.dt_terminal_s))


# --------------------------------------------------------------------------- the run
class _Run:
    """State of one batched engagement run (internal).

    Every shot keeps its own clock (``clock``); :meth:`step` advances every flying shot
    by its own step from its own time (module notes), so a shot's flight depends only on
    its own state and random stream, never on the other shots.
    """

    def __init__(self, interceptor: InterceptorClass, trajectory: Trajectory,
                 target_index: np.ndarray, flight: InterceptorFlight,
                 options: EngagementOptions, normals: ShotNormals | None,
                 flying: np.ndarray, t_begin_s: np.ndarray):
        self.ic = interceptor
        self.traj = trajectory
        self.obj = target_index
        self.flight = flight
        self.opt = options
        self.normals = normals
        n = target_index.size
        self.t_begin = np.asarray(t_begin_s, dtype=float).copy()
        self.clock = self.t_begin.copy()
        self.active = flying.copy()
        self.acquired = np.zeros(n, dtype=bool)
        self.t_acquire = np.full(n, np.nan)
        self.miss = np.full(n, np.nan)
        self.t_ca = np.full(n, np.nan)
        self.min_range = np.full(n, np.inf)
        self.t_min_range = np.full(n, np.nan)
        self.status = np.where(flying, "", "out_of_envelope").astype(object)
        self.los = LineOfSightFilter(n, options.los_filter_memory)
        self.est_t = np.full(n, -np.inf)
        self.est_r = np.zeros((n, 3))
        self.est_v = np.zeros((n, 3))
        self.est_a = np.zeros((n, 3))
        self.est_age = np.zeros(n)
        #: predicted PIPs and the (estimate time, PIP time) they were predicted for
        self._pred_key = np.full((n, 2), np.nan)
        self._pred = np.zeros((n, 3))
        self.next_uplink = np.full(n, -np.inf)
        # a flight ends at its longest flight time or when its target's path ends
        target_end = trajectory.t[trajectory.offsets[target_index + 1] - 1]
        self.t_end = np.where(flying, np.minimum(self.t_begin + options.max_flight_time_s,
                                                 target_end), -np.inf)
        self.t_pip = np.full(n, np.nan)
        self.pip = np.full((n, 3), np.nan)
        #: each shot's true target state and the time it is for
        self._tgt_t = np.full(n, np.nan)
        self._tgt = np.zeros((3, n, 3))
        #: the run's objects, and each one's place among them
        self._objects = np.unique(target_index)
        self._lookup = np.full(trajectory.n_objects, -1)
        self._lookup[self._objects] = np.arange(self._objects.size)
        #: recompute the PIP time for the coasting vehicle (no fly-out plan to keep)
        self.replan = False
        #: fire-control track states to uplink instead of noisy truth (optional)
        self.feed: TrackFeed | None = None
        self._ticks = step_ticks(options)
        #: loop iterations (each steps the shots of one time) and steps of each shot
        self.iterations = 0
        self.steps = np.zeros(n, dtype=np.int64)

    # ---------------------------------------------------------------- target knowledge
    def _target(self, idx: np.ndarray, sel, t_s: np.ndarray):
        """True target state of shots ``idx`` (``sel``: the same, maybe a slice) at their
        times ``t_s`` (one per shot).

        Each shot keeps the state of its last step's end, which is where its next step
        begins; only the others are interpolated.
        """
        fresh = self._tgt_t[sel] != t_s
        if fresh.any():
            need = idx[fresh]
            self._tgt_t[need] = t_s
            self._tgt[:, need] = self._states(self.obj[need], t_s[fresh])
        return self._tgt[0, sel], self._tgt[1, sel], self._tgt[2, sel]

    def _target_each(self, idx: np.ndarray, sel, t_s: np.ndarray):
        """True target state of shots ``idx`` at their own times ``t_s`` (kept)."""
        state = self._states(self.obj[sel], t_s)
        self._tgt_t[sel] = t_s
        self._tgt[:, sel] = state
        return state

    def _states(self, obj: np.ndarray, t_s: np.ndarray) -> np.ndarray:
        """Target states (3, k, 3) of objects at times; where many shots share one time
        and a few objects, each object is interpolated once and gathered (a row's value
        is the same either way: ``Trajectory.state_at`` works row by row)."""
        if obj.size >= 4 * self._objects.size and np.all(t_s == t_s[0]):
            state = np.stack(self.traj.state_at(self._objects, float(t_s[0])))
            return state[:, self._lookup[obj]]
        return np.stack(self.traj.state_at(obj, t_s))

    def _noise(self, idx: np.ndarray, k: int) -> np.ndarray:
        """The next ``k`` standard normals of each shot ``idx``, shape (len(idx), k)."""
        return self.normals.take(idx, k)

    def _uplink(self, idx: np.ndarray, sel, t: np.ndarray) -> None:
        """Refresh the target estimate of shots ``idx`` (at times ``t``) whose uplink is due."""
        is_due = t >= self.next_uplink[sel] - 1e-9
        due = idx[is_due]
        if due.size == 0:
            return
        t = t[is_due]
        up = self.opt.uplink
        latency = 0.0 if self.opt.ideal else up.latency_s
        t_meas = t - latency
        age = 0.0
        if self.feed is not None and not self.opt.ideal:
            t_meas, r, v, a, age = self.feed.estimate(due, t_meas, with_age=True)
        else:
            r, v, a = self.traj.state_at(self.obj[due], t_meas)
            if not self.opt.ideal:
                noise = self._noise(due, 6)
                r = r + up.position_sigma_m * noise[:, :3]
                v = v + up.velocity_sigma_m_s * noise[:, 3:]
        self.est_t[due] = t_meas
        self.est_r[due], self.est_v[due], self.est_a[due] = r, v, a
        self.est_age[due] = age
        self.next_uplink[due] = np.maximum(self.next_uplink[due] + 1.0 / up.rate_hz, t
                                           + (0.0 if self.opt.ideal else 1.0 / up.rate_hz))

    def _estimate(self, idx: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Target position and velocity estimated for times ``t`` (uplinked, predicted
        forward)."""
        if self.opt.ideal:
            r, v, _ = self._target(idx, idx, t)
            return r, v
        dt = (t - self.est_t[idx])[:, None]
        a = self.est_a[idx]
        return self.est_r[idx] + self.est_v[idx] * dt + 0.5 * a * dt * dt, self.est_v[idx] + a * dt

    # ---------------------------------------------------------------- one step
    def _tick(self, t_s: np.ndarray) -> np.ndarray:
        """Index k of the last tick ``k dt_terminal_s`` at or before each time ``t_s``
        (1 ns slack: a step never ends a hair before a tick)."""
        dt = self.opt.dt_terminal_s
        k = np.floor((t_s + 1e-9) / dt).astype(np.int64)
        while np.any(up := (k + 1) * dt <= t_s + 1e-9):
            k += up
        while np.any(down := k * dt > t_s + 1e-9):
            k -= down
        return k

    def step(self) -> None:
        """Advance every flying shot by one step of its own, each from its own clock."""
        fl, opt = self.flight, self.opt
        idx = np.flatnonzero(self.active)
        self.iterations += 1
        # a slice gathers and scatters 15x faster than an index array of every shot
        sel = slice(None) if idx.size == self.obj.size else idx
        t = self.clock[idx]
        self.steps[sel] += 1
        r_t, v_t, a_t = self._target(idx, sel, t)
        r_m, v_m = fl.r[sel], fl.v[sel]
        rel, vrel = r_t - r_m, v_t - v_m
        rng_m = norm(rel)
        u = rel / np.maximum(rng_m, 1e-9)[:, None]
        separated = fl.separated(t, sel)
        in_view = (separated & (rng_m <= self.ic.seeker.acquisition_range_m)
                   & (off_boresight_cos(v_m, u) >= math.cos(self.ic.seeker.gimbal_limit_rad)))
        tracking = in_view
        self._uplink(idx, sel, t)
        env = environment_acceleration(r_m, v_m)
        closing_rate = dot(rel, vrel)
        range_rate = closing_rate / np.maximum(rng_m, 1e-9)
        tgo_now = rng_m / np.maximum(-range_rate, 1.0)

        if tracking.all():
            command = self._terminal(idx, sel, t, u, rng_m, range_rate, a_t - env, tgo_now)
        else:
            command = np.zeros((idx.size, 3))
            mid = ~tracking
            command[mid] = self._midcourse(idx[mid], r_m[mid], v_m[mid], env[mid], t[mid])
            if tracking.any():
                it = idx[tracking]
                command[tracking] = self._terminal(
                    it, it, t[tracking], u[tracking], rng_m[tracking], range_rate[tracking],
                    a_t[tracking] - env[tracking], tgo_now[tracking])
        # the atmosphere at the step's start, for the steering limit and the first RK4
        # stage (wherever an airframe flies)
        air = (ussa76_fast(approx_altitude_m(r_m)) if self.ic.kill_vehicle.steering == "aero"
               or not separated.all() else None)
        command = limit_lateral(command, v_m, fl.available_accel(t, sel, air))

        # each shot's step ends at the next tick of its own grid (terminal: every tick,
        # midcourse: every `_ticks` ticks, both counted from the epoch), or earlier at its
        # own stage burnout or end of flight
        k = self._tick(t)
        dt, m = opt.dt_terminal_s, self._ticks
        terminal = tracking | (tgo_now < opt.terminal_window_s + opt.dt_midcourse_s)
        grid = np.where(terminal, (k + 1) * dt, (k // m + 1) * m * dt)
        event = fl.next_events_s(t, sel)
        t1 = np.minimum(np.minimum(grid, event), self.t_end[sel])
        t1 = np.maximum(t1, t + 1e-6)
        h = t1 - t
        fl.step(sel, h, fl.held(t, sel, command), env=env, air=air)
        self.clock[sel] = t1
        burnt = t1 >= event - 1e-9  # a stage burned out on this step's end
        if burnt.any():
            fl.drop_stages(t1[burnt], idx[burnt])

        r_t1, v_t1, _ = self._target_each(idx, sel, t1)
        r_m1 = fl.r[sel]
        rel1, vrel1 = r_t1 - r_m1, v_t1 - fl.v[sel]
        closing_before = closing_rate < 0.0
        opening_after = dot(rel1, vrel1) >= 0.0
        crossing = closing_before & opening_after
        self._track_minimum(idx, sel, rng_m, t)
        accept = np.zeros(idx.size, dtype=bool)
        if crossing.any():
            c = np.flatnonzero(crossing)
            miss, s = closest_approach_in_step(rel[c], vrel[c], rel1[c], vrel1[c], h[c])
            # a range minimum counts as the intercept once the seeker holds the target,
            # when it is close, or near the planned intercept time; a far pass earlier
            # (a target flying under a lofted interceptor) is not the end of the flight
            late = ~(t1[c] < self.t_pip[idx[c]] - _PLAN_SLACK_S)
            ok = (fl.separated(t1[c], idx[c]) & (self.acquired[idx[c]] | late)) | (
                miss < _EARLY_MINIMUM_M)
            accept[c[ok]] = True
            self._finish_intercept(idx[c[ok]], miss[ok], t[c[ok]] + s[ok] * h[c[ok]],
                                   t1[c[ok]])
        # the interceptor came back to the ground, or ran out of time
        alt = approx_altitude_m(r_m1)
        crashed = (alt < -100.0) & ~accept
        timed_out = (t1 >= self.t_end[sel] - 1e-9) & ~accept
        if np.any(crashed | timed_out):
            self._finish_without_intercept(idx[crashed | timed_out])

    def _midcourse(self, idx, r_m, v_m, env, t) -> np.ndarray:
        """Boost: hold the fly-out path the launch elevation was chosen on (the zero-effort
        miss of a coasting body says nothing useful while the motors still add speed).
        After burnout: coast until the time to go is inside ``midcourse_window_s`` (no
        command, and no PIP predicted), then fly through the predicted intercept point
        (divert or fins)."""
        fl = self.flight
        guided = fl.separated(t, idx)
        command = np.zeros((idx.size, 3))
        if not guided.all():  # still boosting (the command of a guided shot is its own)
            command[~guided] = line_holding_command(fl, t[~guided], idx[~guided])
        if guided.any():
            g = idx[guided]
            if self.replan:
                self._refresh_pip(g, r_m[guided], v_m[guided], t[guided])
            tgo = self.t_pip[g] - t[guided]
            # the coast before the window flies no command, and needs no PIP yet
            near = np.flatnonzero(guided)[tgo <= self.opt.midcourse_window_s]
            if near.size:
                aim = idx[near]
                if not self.replan and not self.opt.ideal:
                    # the target at the planned intercept time, from the latest estimate
                    self.pip[aim] = self._predict(aim, self.t_pip[aim])
                command[near] = midcourse_command(r_m[near], v_m[near], self.pip[aim],
                                                  self.t_pip[aim] - t[near], env[near])
        return command

    def _refresh_pip(self, idx, r_m, v_m, t, iterations: int = 3) -> None:
        """Move the PIP to where the target will be when the coasting interceptor gets there.

        Starts from the constant-velocity collision triangle and refines it on the
        predicted path; the time to go is kept within the engagement's flight time, so a
        target faster than the interceptor (no collision course) cannot run it away.
        """
        speed = np.maximum(norm(v_m), 1.0)
        r_e, v_e = self._estimate(idx, t)
        _, tgo = predicted_intercept_point(r_e, v_e, r_m, speed)
        limit = self.opt.max_flight_time_s
        t_pip = t + np.clip(tgo, 0.0, limit)
        for _ in range(iterations):
            pip = self._predict(idx, t_pip)
            t_pip = t + np.clip(norm(pip - r_m) / speed, 0.0, limit)
        self.t_pip[idx] = t_pip
        self.pip[idx] = self._predict(idx, t_pip)

    def _predict(self, idx, t_s) -> np.ndarray:
        """Target position predicted from the current estimate to times ``t_s``
        (:func:`~hyperdef.engagement.guidance.predict_path`, each row on its own steps).

        A shot's prediction changes only when a new estimate arrives or the time asked
        for moves, so it is kept and flown again only then (the uplink is slower than
        the guidance step)."""
        if self.opt.ideal:
            return self.traj.state_at(self.obj[idx], t_s)[0]
        t_s = np.broadcast_to(np.asarray(t_s, dtype=float), (np.size(idx),))
        key = np.stack((self.est_t[idx], t_s), axis=1)
        stale = ~np.all(self._pred_key[idx] == key, axis=1)
        if stale.any():
            s = idx[stale]
            self._pred[s] = predict_path(self.est_r[s], self.est_v[s], self.est_a[s],
                                         t_s[stale] - self.est_t[s],
                                         accel_age_s=self.est_age[s])
            self._pred_key[s] = key[stale]
        return self._pred[idx]

    def _terminal(self, idx, sel, t, u_true, rng_m, range_rate, a_target_rel, tgo
                  ) -> np.ndarray:
        """Homing command of shots ``idx`` (``sel``: the same shots, maybe as a slice)."""
        opt = self.opt
        newly = ~self.acquired[sel]
        if newly.any():
            self.acquired[idx[newly]] = True
            self.t_acquire[idx[newly]] = t[newly]
        if opt.ideal or self.ic.seeker.angle_noise_rad == 0.0:
            r_t, v_t, _ = self._target(idx, sel, t)
            rel = r_t - self.flight.r[sel]
            vrel = v_t - self.flight.v[sel]
        else:
            u_meas = measure_line_of_sight(u_true, self.ic.seeker.angle_noise_rad, None,
                                           standard_normals=self._noise(idx, 2))
            start = ~self.los.started[sel]
            if start.any():
                self.los.start(idx[start], u_meas[start], np.zeros((int(start.sum()), 3)))
            u, u_rate = self.los.update(sel, u_meas, self.opt.dt_terminal_s)
            u = u / norm(u)[:, None]
            rel = rng_m[:, None] * u
            vrel = range_rate[:, None] * u + rng_m[:, None] * perpendicular(u_rate, u)
        a_target = a_target_rel
        if opt.target_accel_sigma_m_s2 > 0.0 and not opt.ideal:
            a_target = a_target + opt.target_accel_sigma_m_s2 * self._noise(idx, 3)
        return terminal_command(opt.law, opt.nav_ratio, self.ic.time_constant_s, rel, vrel,
                                a_target, self.flight.a_lat[sel], tgo)

    def _track_minimum(self, idx, sel, rng_m, t) -> None:
        closer = rng_m < self.min_range[sel]
        self.min_range[idx[closer]] = rng_m[closer]
        self.t_min_range[idx[closer]] = t[closer]

    def _finish_intercept(self, idx, miss, t_ca, t_now) -> None:
        if idx.size == 0:
            return
        self.miss[idx] = miss
        self.t_ca[idx] = t_ca
        hit = miss <= self.ic.kill_vehicle.kill_radius_m
        empty = self.flight.out_of_propellant(t_now, idx)
        status = np.where(hit, "hit", np.where(~self.acquired[idx], "seeker_never_acquired",
                                               np.where(empty, "out_of_propellant", "miss")))
        self.status[idx] = status
        self.active[idx] = False

    def _finish_without_intercept(self, idx) -> None:
        if idx.size == 0:
            return
        self.miss[idx] = self.min_range[idx]
        self.t_ca[idx] = self.t_min_range[idx]
        self.status[idx] = "out_of_envelope"
        self.active[idx] = False

    def run(self) -> None:
        while self.active.any():
            self.step()

    def result(self, t_launch_s: np.ndarray) -> EngagementResult:
        used = np.zeros(self.obj.size)
        if self.ic.kill_vehicle.steering == "thrusters":
            flown = ~np.isnan(self.miss)
            used = np.where(flown, np.clip(self.ic.kill_vehicle.mass_kg - self.flight.m, 0.0,
                                           self.ic.kill_vehicle.divert_propellant_kg), 0.0)
        return EngagementResult(
            target_index=self.obj.copy(),
            t_launch_s=np.asarray(t_launch_s, float).copy(),
            miss_m=self.miss,
            t_intercept_s=self.t_ca,
            t_acquire_s=self.t_acquire,
            status=self.status.astype(str),
            divert_used_kg=used,
            kill_radius_m=self.ic.kill_vehicle.kill_radius_m,
            steps=self.steps.copy(),
            iterations=self.iterations,
        )


def _check_targets(trajectory: Trajectory, target_index, n_draws: int) -> np.ndarray:
    obj = np.broadcast_to(np.asarray(target_index, dtype=np.int64), (n_draws,)).copy()
    if np.any((obj < 0) | (obj >= trajectory.n_objects)):
        bad = int(obj[(obj < 0) | (obj >= trajectory.n_objects)][0])
        raise InputError(f"target_index: {bad} outside [0, {trajectory.n_objects - 1}] "
                         "(objects of the trajectory)")
    return obj


#: flight phases fire control does not plan an intercept in
UNPREDICTABLE_PHASES = (PHASE_CODE["boost"], PHASE_CODE["pullout"])


def _unpredictable(trajectory: Trajectory, obj: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """True where the object is in one of :data:`UNPREDICTABLE_PHASES` at the given times."""
    j = segment_floor(trajectory.t, trajectory._time_key(), trajectory._key_span(), obj,
                      trajectory.offsets[obj], trajectory.offsets[obj + 1], t_s)
    return np.isin(trajectory.phase[j], UNPREDICTABLE_PHASES)


def choose_intercept(table: FlyoutTable, trajectory: Trajectory, target_index: np.ndarray,
                     t_launch_s: np.ndarray, site_lla: np.ndarray, *, horizon_s: float = 900.0,
                     step_s: float = 1.0, alt_window_m: tuple[float, float] = (0.0, np.inf)
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Earliest point of each target's path the interceptor can reach in time.

    For launch at t_L, the target at time t_L + tau is reachable if the fly-out table's
    time to that point's ground range and altitude is at most tau. The earliest such
    tau on a ``step_s`` grid, with the target's altitude inside ``alt_window_m`` and not
    in an :data:`UNPREDICTABLE_PHASES` phase, is the intercept.

    Returns
    -------
    time_of_flight_s : ndarray, shape (n,)
        Interceptor flight time to the PIP, s (NaN when no point is reachable).
    time_to_pip_s : ndarray, shape (n,)
        Time from launch until the target is at the PIP, s (>= the time of flight: the
        difference is how long the launch could wait).
    pip_ecef_m : ndarray, shape (n, 3)
        Predicted intercept point (NaN when none).
    """
    n = target_index.size
    taus = np.arange(step_s, horizon_s + step_s, step_s)
    k = taus.size
    obj = np.repeat(target_index, k)
    tq = (t_launch_s[:, None] + taus[None, :]).reshape(-1)
    end = trajectory.t[trajectory.offsets[1:] - 1][obj]
    r, _, _ = trajectory.state_at(obj, np.minimum(tq, end))
    lla = ecef_to_lla(r)
    site = np.repeat(site_lla, k, axis=0)
    ground = great_circle_distance_m(site[:, 0], site[:, 1], lla[:, 0], lla[:, 1])
    need = table.time_to(ground, np.maximum(lla[:, 2], 0.0)).reshape(n, k)
    slack = taus[None, :] - need  # >= 0: reachable in time
    in_window = (lla[:, 2] >= max(alt_window_m[0], 0.0)) & (lla[:, 2] <= alt_window_m[1])
    # no intercept planned on a burning booster or a glider pulling out of its climb:
    # neither path can be predicted from a track
    in_window &= ~_unpredictable(trajectory, obj, np.minimum(tq, end))
    slack = np.where((tq <= end).reshape(n, k) & in_window.reshape(n, k), slack, np.nan)
    ok = slack >= 0.0
    first = np.argmax(ok, axis=1)
    found = ok[np.arange(n), first]
    tof = np.where(found, need[np.arange(n), first], np.nan)
    tau = np.where(found, taus[first], np.nan)
    pip = np.where(found[:, None], r.reshape(n, k, 3)[np.arange(n), first], np.nan)
    return tof, tau, pip


def engage(interceptor: InterceptorClass, trajectory: Trajectory, *, target_index=0,
           site_lla: np.ndarray, t_launch_s, options: EngagementOptions = EngagementOptions(),
           rng: np.random.Generator | Sequence[np.random.Generator] | None = None,
           n_draws: int | None = None,
           track_feed: TrackFeed | None = None,
           plan: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
           ) -> EngagementResult:
    """Fly interceptors from a launch site against threats, one record per draw.

    Parameters
    ----------
    interceptor : InterceptorClass
    trajectory : Trajectory
        Threat truth.
    target_index : int or array of int, shape (n,)
        Object engaged by each draw.
    site_lla : ndarray, shape (3,) or (n, 3)
        Launch site, (lat rad, lon rad, alt m).
    t_launch_s : float or ndarray, shape (n,)
        Earliest launch time of each draw, s from epoch. Fire control waits until the
        time of flight to the PIP equals the target's time to it, so the actual launch
        (``EngagementResult.t_launch_s``) may be later.
    options : EngagementOptions
    rng : numpy.random.Generator or sequence of n Generators, optional
        Source of the seeker and uplink noise; required unless ``options.ideal``. A
        sequence gives each draw its own stream: then every record of a draw depends
        only on that draw (its target, site, launch, plan, feed rows and generator),
        bit for bit, whatever other draws share the call. One Generator is split into
        ``rng.spawn(n)``, one child per draw in order, so a draw's record then also
        depends on its position in the call (and on how often ``rng`` spawned before).
    n_draws : int, optional
        Number of draws when every argument is a scalar.
    track_feed : TrackFeed, optional
        Fire-control track estimates to uplink (instead of truth with Gaussian errors).
    plan : (time_of_flight_s, time_to_pip_s, pip_ecef_m), optional
        The fire-control solution per draw (shapes (n,), (n,), (n, 3); NaN: no shot),
        e.g. from :func:`hyperdef.engagement.fire_control.launch_windows` on a track's
        predicted path; by default it is chosen on the truth path
        (:func:`choose_intercept`).

    Returns
    -------
    EngagementResult
    """
    check_interceptor(interceptor)
    check_options(options)
    sizes = [np.size(target_index), np.size(t_launch_s), np.size(site_lla) // 3, n_draws or 1]
    n = int(max(sizes))
    if n == 1 and rng is not None and not isinstance(rng, np.random.Generator):
        n = max(len(rng), 1)  # every other argument a scalar: one draw per generator
    obj = _check_targets(trajectory, target_index, n)
    t_launch = np.broadcast_to(np.asarray(t_launch_s, dtype=float), (n,)).copy()
    site = np.broadcast_to(np.asarray(site_lla, dtype=float), (n, 3)).copy()
    normals = _shot_normals(rng, n, options)
    table = flyout_table(interceptor)
    if plan is None:
        tof, tau, pip = choose_intercept(
            table, trajectory, obj, t_launch, site, horizon_s=options.max_flight_time_s,
            alt_window_m=(interceptor.intercept_alt_min_m, interceptor.intercept_alt_max_m))
    else:
        tof, tau, pip = (np.broadcast_to(np.asarray(a, dtype=float), shape).copy()
                         for a, shape in zip(plan, ((n,), (n,), (n, 3)), strict=True))
    flying = np.isfinite(tof)
    # fire when the time of flight matches the target's time to the PIP
    t_launch = np.where(flying, t_launch + np.maximum(tau - tof, 0.0), t_launch)
    pip_lla = ecef_to_lla(np.where(flying[:, None], pip, lla_to_ecef(site)))
    ground = great_circle_distance_m(site[:, 0], site[:, 1], pip_lla[:, 0], pip_lla[:, 1])
    elevation = np.where(flying, table.launch_elevation(ground, np.maximum(pip_lla[:, 2], 0)),
                         0.5 * np.pi)
    elevation = np.where(np.isfinite(elevation), elevation, 0.5 * np.pi)
    azimuth = initial_bearing_rad(site[:, 0], site[:, 1], pip_lla[:, 0], pip_lla[:, 1])
    enu = np.stack((np.cos(elevation) * np.sin(azimuth), np.cos(elevation) * np.cos(azimuth),
                    np.sin(elevation)), axis=-1)
    rot = enu_rotation(site)  # rows e, n, u in ECEF; written out, no einsum (one row's sum)
    v0 = LAUNCH_SPEED_M_S * (enu[:, 0:1] * rot[:, 0] + enu[:, 1:2] * rot[:, 1]
                             + enu[:, 2:3] * rot[:, 2])
    flight = InterceptorFlight(interceptor, lla_to_ecef(site), v0,
                               np.full(n, interceptor.launch_mass_kg), t_launch)
    run = _Run(interceptor, trajectory, obj, flight, options, normals, flying, t_launch)
    run.t_pip = t_launch + tof
    run.pip = pip
    run.feed = track_feed
    run.run()
    return run.result(t_launch)


def terminal_start(trajectory: Trajectory, target_index, t_start_s, *,
                   time_to_go_s: float, interceptor_speed_m_s: float,
                   heading_error_rad: float | np.ndarray = 0.0,
                   rng: np.random.Generator | None = None, n_draws: int = 1
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Interceptor states on a collision course at handover, for terminal runs.

    Each interceptor is placed so that, flying straight at ``interceptor_speed_m_s``, it
    would meet the target's constant-velocity prediction after ``time_to_go_s``; its
    velocity is then turned by the heading error about a random axis across it (the
    classical terminal-homing initial condition, Zarchan 2012 ch. 2).

    Parameters
    ----------
    trajectory : Trajectory
    target_index : int or ndarray of int, shape (n,)
    t_start_s : float or ndarray, shape (n,)
        Handover time of each draw, s from epoch.
    time_to_go_s : float
        Time from handover to the intercept, s.
    interceptor_speed_m_s : float
        Kill-vehicle speed, m/s.
    heading_error_rad : float or ndarray, shape (n,)
        Angle between the velocity and the collision course, rad.
    rng : numpy.random.Generator, optional
        Draws the direction of each heading error (none: all in one plane).
    n_draws : int

    Returns
    -------
    r_ecef_m, v_ecef_m_s : ndarray, shape (n, 3)
    """
    obj = np.broadcast_to(np.asarray(target_index, dtype=np.int64), (n_draws,))
    t_start = np.broadcast_to(np.asarray(t_start_s, dtype=float), (n_draws,))
    r_t, v_t, _ = trajectory.state_at(obj, t_start)
    pip = r_t + v_t * time_to_go_s
    # approach from below the target's path, in its vertical plane, 30 deg up
    up = r_t / norm(r_t)[:, None]
    along = perpendicular(v_t, up)
    along /= np.maximum(norm(along), 1e-9)[:, None]
    approach = math.cos(math.radians(30.0)) * along - math.sin(math.radians(30.0)) * up
    direction = -approach  # the interceptor flies toward the oncoming target
    r0 = pip - direction * interceptor_speed_m_s * time_to_go_s
    he = np.broadcast_to(np.asarray(heading_error_rad, dtype=float), (n_draws,))
    if rng is None:
        phase = np.zeros(n_draws)
    else:
        phase = rng.uniform(0.0, 2.0 * math.pi, n_draws)
    from hyperdef.engagement.seeker import perpendicular_basis

    e1, e2 = perpendicular_basis(direction)
    tilt = np.cos(phase)[:, None] * e1 + np.sin(phase)[:, None] * e2
    d = np.cos(he)[:, None] * direction + np.sin(he)[:, None] * tilt
    return r0, interceptor_speed_m_s * d


def engage_terminal(interceptor: InterceptorClass, trajectory: Trajectory, *, target_index=0,
                    t_start_s, r_ecef_m: np.ndarray, v_ecef_m_s: np.ndarray,
                    options: EngagementOptions = EngagementOptions(),
                    rng: np.random.Generator | Sequence[np.random.Generator] | None = None
                    ) -> EngagementResult:
    """Terminal homing of separated kill vehicles from given states.

    The kill vehicles start at ``t_start_s`` (one time, or one per draw) with full divert
    propellant and the seeker looking; the uplink supplies range and range rate.
    Statuses and records are as in :func:`engage`; ``t_launch_s`` of the result holds
    the start times; ``rng`` is as there (one Generator, split per draw, or one per draw).
    """
    check_interceptor(interceptor)
    check_options(options)
    r0 = np.asarray(r_ecef_m, dtype=float).reshape(-1, 3)
    n = r0.shape[0]
    obj = _check_targets(trajectory, target_index, n)
    t_start = np.broadcast_to(np.asarray(t_start_s, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(t_start)):
        raise InputError("t_start_s: must be finite")
    normals = _shot_normals(rng, n, options)
    flight = InterceptorFlight(interceptor, r0, np.asarray(v_ecef_m_s, float).reshape(n, 3),
                               np.full(n, interceptor.kill_vehicle.mass_kg),
                               t_start - interceptor.burnout_time_s)
    run = _Run(interceptor, trajectory, obj, flight, options, normals, np.ones(n, dtype=bool),
               t_start)
    # the starting PIP: where the target is when the coasting vehicle gets there
    r_t, v_t, _ = trajectory.state_at(obj, t_start)
    rel, vrel = r_t - flight.r, v_t - flight.v
    run.t_pip = t_start + norm(rel) / np.maximum(-dot(rel, vrel) / norm(rel), 1.0)
    run.pip = trajectory.state_at(obj, run.t_pip)[0]
    run.replan = True
    run.run()
    return run.result(t_start)
