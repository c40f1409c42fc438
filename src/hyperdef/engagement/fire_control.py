"""Fire control: launch windows from tracks, engage-on-remote, shoot-look-shoot, WTA.

From a firm (confirmed) track the fire control predicts the threat's path
(:func:`~hyperdef.engagement.guidance.predict_path`: J2 gravity plus the aerodynamic part
of an acceleration differenced from the track's last velocities), and for every battery
finds, with its interceptor's fly-out table, the launch times at which an interceptor
meets the threat at a predicted intercept point (PIP) inside the class's intercept
altitude band before the threat comes down:

* intercept at path time tau is possible for a launch at t_L when the table's time of
  flight to the PIP is tof(tau) <= tau - t_L; so tau - tof(tau) is the latest launch for
  an intercept at tau, and the window is [earliest, latest] with latest = max over tau;
* the preferred launch is the earliest (doctrine "shoot early": it leaves the most time
  for a look and a second shot);
* at the launch the solution (PIP, intercept time) is predicted again from the newest
  track estimate (:func:`launch_solution`).

A battery fires on a track of its own node, or on a remote track (engage-on-remote) only
when the track's marking releases it to the battery's nation; a refused shot is recorded
with its reason. Batteries are assigned by weapon-target assignment
(:mod:`hyperdef.engagement.assignment`) on single-shot kill probabilities where windows
are open. Each shot is flown by :func:`~hyperdef.engagement.simulate.engage` with
midcourse updates from the fire-control track (:class:`TrackFeed`); kill assessment draws
the kill from the miss distance with a Gaussian (Carleton) damage function
``P_k(m) = exp(-(m / r_L)^2)`` of the class's lethal radius r_L. Doctrine ``salvo``
fires two rounds at once. Inventories are decremented per round.

The shots of a decision round (first shots; then the shoot-look-shoot second shots,
which depend on the first shots' kills) are planned first and flown together, and
:func:`run_fire_control_draws` flies those of many Monte Carlo draws in one batched
``engage`` per interceptor class. Each round has its own random stream, spawned from
its draw's generator in the draw's firing order (then one uniform per round for its
kill), and ``engage`` flies each round as if alone, so a draw's result does not depend
on the draws flown with it.

The planning steps that need predicted paths (a pair's first window, a launch solution, a
look) are *plans*: generators that yield the :class:`PathRequest` list they wait for, are
sent the paths, and return their result. :func:`_gather` runs many plans in lockstep as
one (the pairs of a draw, the draws of a batch) and :func:`_solve` answers each round of
requests with one :func:`predict_track_paths`, so the planning of a batch costs one RK4
integration per round instead of one per path; every path is predicted row by row, the
same in a batch as alone.

Rounds in flight are shared knowledge of all the batteries on one picture (shoot-look-
shoot across batteries, the dynamic WTA of Hosein & Athans 1990):

* a track that continues or duplicates an engaged track is the same threat
  (:func:`join_broken_tracks`), so its rounds in flight and its kill count for it;
* while a round flies at a threat no other battery fires at it where it could still fire
  after the round's kill assessment (intercept plus ``kill_assessment_delay_s``): it holds
  fire for the look. Where it could not, the threat is worth only its expected survival
  ``V (1 - p)^k`` of the k rounds of assumed kill probability p in flight (Manne 1958),
  and a spare round goes to it only where the assignment finds that value the best use
  (:func:`_support_shots`);
* if the look shows a survivor, the ``shoot_look_shoot`` battery with a round left and
  the best kill probability among those whose window still allows a launch fires again
  (the first shooter or another one); the look is made again every ``decision_step_s``
  while the track lasts, until a window opens.

References
----------
.. [1] P. Zarchan, *Tactical and Strategic Missile Guidance*, 6th ed., AIAA, 2012,
   ch. 14 (predicted intercept point, launch windows).
.. [2] D. K. Schleher / R. E. Ball, *The Fundamentals of Aircraft Combat Survivability
   Analysis and Design*, 2nd ed., AIAA, 2003, ch. 4 (Carleton damage function, shoot-look-
   shoot and salvo doctrine).
.. [3] A. Kline, D. Ahner and R. Hill, Computers & Operations Research 105, 2019 (WTA).
.. [4] A. S. Manne, "A target-assignment problem", Operations Research 6(3), 1958 (a
   target of value V under k rounds of kill probability p keeps V (1 - p)^k).
.. [5] P. A. Hosein and M. Athans, "Some analytical results for the dynamic weapon-target
   allocation problem", MIT LIDS-P-1944, 1990 (shoot-look-shoot: the survivors of one
   engagement stage are the targets of the next).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyperdef.core.dynamics import approx_altitude_m
from hyperdef.core.frames import ecef_to_lla, great_circle_distance_m
from hyperdef.core.markings import check_node, format_marking, intersect_markings, parse_marking
from hyperdef.engagement.assignment import assign_one_shot
from hyperdef.engagement.flyout import flyout_table
from hyperdef.engagement.guidance import predict_path_samples
from hyperdef.engagement.interceptor import INTERCEPTORS
from hyperdef.engagement.simulate import (
    EngagementOptions,
    TrackFeed,
    check_options,
    engage,
)
from hyperdef.errors import InputError
from hyperdef.threats.trajectory import Trajectory, concat_trajectories

_T = TypeVar("_T")

#: firing doctrines
DOCTRINES = ("shoot_look_shoot", "salvo")

#: single-shot kill probability assumed by the assignment for each class (illustrative;
#: the flown engagements decide the actual outcome)
DEFAULT_SSPK = {"gpi": 0.8, "sm6": 0.7}


@dataclass(frozen=True, slots=True)
class Battery:
    """An interceptor battery (or ship) of one node.

    Attributes
    ----------
    battery_id : str
    node : str
        ISO 3166 trigraph of the nation operating it.
    lat_deg, lon_deg, alt_m : float
        Site, degrees and metres above WGS-84 (on the Earth's surface: -500 to 9,000 m).
    interceptor : str
        Class name, a key of :data:`~hyperdef.engagement.interceptor.INTERCEPTORS`.
    inventory : int
        Rounds ready to fire, >= 0.
    doctrine : str
        ``shoot_look_shoot`` or ``salvo``.
    releasable_to : tuple of str
        Nations its engagement records may be released to besides its own.
    """

    battery_id: str
    node: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0
    interceptor: str = "gpi"
    inventory: int = 4
    doctrine: str = "shoot_look_shoot"
    releasable_to: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        name = f"battery {self.battery_id!r}"
        check_node(self.node, f"{name}.node")
        if not (math.isfinite(self.lat_deg) and -90.0 <= self.lat_deg <= 90.0):
            raise InputError(f"{name}.lat_deg: {self.lat_deg} outside [-90, 90]")
        if not (math.isfinite(self.lon_deg) and -180.0 <= self.lon_deg <= 360.0):
            raise InputError(f"{name}.lon_deg: {self.lon_deg} outside [-180, 360]")
        if not (math.isfinite(self.alt_m) and -500.0 <= self.alt_m <= 9_000.0):
            raise InputError(f"{name}.alt_m: {self.alt_m} m is not on the Earth's surface "
                             "(allowed -500 to 9000 m)")
        if self.interceptor not in INTERCEPTORS:
            raise InputError(f"{name}.interceptor: {self.interceptor!r} is not one of "
                             f"{', '.join(INTERCEPTORS)}")
        if isinstance(self.inventory, bool) or not isinstance(self.inventory, int | np.integer
                                                              ) or self.inventory < 0:
            raise InputError(f"{name}.inventory: {self.inventory!r} must be an integer >= 0")
        if self.doctrine not in DOCTRINES:
            raise InputError(f"{name}.doctrine: {self.doctrine!r} is not one of "
                             f"{', '.join(DOCTRINES)}")
        for k, other in enumerate(self.releasable_to):
            check_node(other, f"{name}.releasable_to[{k}]")

    @property
    def site_lla(self) -> np.ndarray:
        """(lat rad, lon rad, alt m)."""
        return np.array([math.radians(self.lat_deg), math.radians(self.lon_deg), self.alt_m])

    @property
    def marking(self) -> str:
        """Releasability of the battery's own records."""
        return format_marking({self.node, *self.releasable_to})

    def may_engage(self, track_node: str, track_marking: str) -> tuple[bool, str]:
        """Whether the battery may fire on a track, and the reason when not."""
        if track_node == self.node:
            return True, ""
        if self.node in parse_marking(track_marking):
            return True, ""
        return False, f"not_releasable: track of {track_node} marked {track_marking!r}"


@dataclass(frozen=True, slots=True)
class LaunchWindow:
    """When a battery can fire at a threat track.

    Attributes
    ----------
    engageable : bool
    earliest_s, latest_s, preferred_s : float
        Launch times, s from epoch (NaN when not engageable).
    intercept_s : float
        Intercept time for the preferred launch.
    time_of_flight_s : float
        Interceptor flight time for the preferred launch.
    pip_ecef_m : ndarray, shape (3,)
        Predicted intercept point of the preferred launch.
    intercept_alt_m, intercept_range_m : float
        Its altitude and ground range from the battery.
    threat_impact_s : float
        Predicted time the threat comes down.
    reason : str
        Why not engageable (empty when engageable).
    """

    engageable: bool
    earliest_s: float
    latest_s: float
    preferred_s: float
    intercept_s: float
    time_of_flight_s: float
    pip_ecef_m: np.ndarray
    intercept_alt_m: float
    intercept_range_m: float
    threat_impact_s: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PredictedPath:
    """A threat path predicted from a track: times (K,) and ECEF positions (K, 3)."""

    t: np.ndarray
    r_ecef_m: np.ndarray

    @property
    def impact_s(self) -> float:
        return float(self.t[-1])


@dataclass(frozen=True, slots=True)
class PathRequest:
    """A threat path to predict from a track (:func:`predict_track_path`'s arguments).

    Attributes
    ----------
    t_track : ndarray, shape (K,)
        Track update times, increasing, s.
    x_track : ndarray, shape (K, 6)
        ECEF position (m) and velocity (m/s) estimates.
    t_from_s : float
        Prediction start, s.
    horizon_s, step_s, accel_baseline_s : float
        Prediction length, sample spacing and acceleration baseline, s.
    """

    t_track: np.ndarray
    x_track: np.ndarray
    t_from_s: float
    horizon_s: float = 900.0
    step_s: float = 1.0
    accel_baseline_s: float = 20.0


def predict_track_path(t_track: np.ndarray, x_track: np.ndarray, t_from_s: float, *,
                       horizon_s: float = 900.0, step_s: float = 1.0,
                       accel_baseline_s: float = 20.0) -> PredictedPath:
    """The path of a tracked threat from its latest estimate at or before ``t_from_s``.

    Acceleration is differenced from the track's velocities over at least
    ``accel_baseline_s``; the threat is flown forward under J2 gravity plus the
    aerodynamic part of that acceleration
    (:func:`~hyperdef.engagement.guidance.predict_path_samples`), and the path is cut
    where it reaches the ground. The one-request case of :func:`predict_track_paths`.

    Parameters
    ----------
    t_track : ndarray, shape (K,)
        Track update times, increasing.
    x_track : ndarray, shape (K, 6)
        ECEF position and velocity estimates.
    t_from_s : float
        Prediction start.
    """
    return predict_track_paths([PathRequest(t_track, x_track, t_from_s, horizon_s, step_s,
                                            accel_baseline_s)])[0]


def predict_track_paths(requests: Sequence[PathRequest]) -> list[PredictedPath]:
    """:func:`predict_track_path` of many requests, their paths integrated together.

    The requests with as many samples (the same horizon and spacing) share one
    :func:`~hyperdef.engagement.guidance.predict_path_samples`, one row each on its own
    steps and sample times, so a path is the same, bit for bit, whatever requests share
    the call.

    Raises
    ------
    InputError
        A request starts before its track's first update.
    """
    k = np.empty(len(requests), dtype=np.int64)
    for m, q in enumerate(requests):  # per request: the row it starts from (one search)
        k[m] = int(np.searchsorted(q.t_track, q.t_from_s, side="right")) - 1
        if k[m] < 0:
            raise InputError(f"t_from_s: {q.t_from_s} is before the track's first update "
                             f"{float(q.t_track[0])}")
    times = [q.t_track[k[m]] + np.arange(0.0, q.horizon_s + q.step_s, q.step_s)
             for m, q in enumerate(requests)]
    out: list[PredictedPath] = [None] * len(requests)  # type: ignore[list-item]
    for size in dict.fromkeys(t.size for t in times):  # one group per horizon (often one)
        group = [m for m, t in enumerate(times) if t.size == size]
        qs = [requests[m] for m in group]
        x0 = np.array([q.x_track[k[m]] for m, q in zip(group, qs, strict=True)])
        t0 = np.array([q.t_track[k[m]] for m, q in zip(group, qs, strict=True)])
        a = np.array([track_acceleration(q.t_track, q.x_track, k[m], q.accel_baseline_s)
                      for m, q in zip(group, qs, strict=True)])
        age = np.array([0.5 * (q.t_track[k[m]] - q.t_track[_baseline_start(
            q.t_track, k[m], q.accel_baseline_s)]) for m, q in zip(group, qs, strict=True)])
        at = np.array([times[m] for m in group])
        r = predict_path_samples(x0[:, :3], x0[:, 3:], a, at - t0[:, None], accel_age_s=age,
                                 stop_below_m=0.0)
        below = approx_altitude_m(r) < 0.0
        ends = np.maximum(np.where(below.any(axis=1), below.argmax(axis=1), size), 1)
        for m, q, row, end in zip(group, qs, r, ends.tolist(), strict=True):
            keep = times[m][:end] >= q.t_from_s
            out[m] = PredictedPath(t=times[m][:end][keep], r_ecef_m=row[:end][keep])
    return out


def path_is_predictable(x6: np.ndarray, a: np.ndarray, *, max_climb_curvature_m_s2: float = 2.0,
                        max_axial_m_s2: float = 20.0) -> bool:
    """Whether a track's motion can be extrapolated into a path fire control can plan on.

    Not while it accelerates along its path like a burning booster (over
    ``max_axial_m_s2``), nor while it curves upward more than a constant flight-path
    angle would (a glider pulling out of its climb): its vertical acceleration must not
    exceed the ``-v_h^2 / r`` of level flight over the curved Earth by more than
    ``max_climb_curvature_m_s2``.
    """
    r, v = x6[:3], x6[3:]
    radius = float(np.linalg.norm(r))
    up = r / radius
    v_up = float(v @ up)
    v_h2 = float(v @ v) - v_up * v_up
    a_up = float(a @ up)
    speed = float(np.linalg.norm(v))
    axial = float(a @ v) / max(speed, 1.0)
    return (a_up <= -v_h2 / radius + max_climb_curvature_m_s2) and abs(axial) <= max_axial_m_s2


def track_acceleration(t_track: np.ndarray, x_track: np.ndarray, k: int,
                       baseline_s: float = 20.0) -> np.ndarray:
    """Acceleration at row ``k`` differenced from velocities ``baseline_s`` apart, m/s^2."""
    j = _baseline_start(t_track, k, baseline_s)
    dt = t_track[k] - t_track[j]
    return (x_track[k, 3:] - x_track[j, 3:]) / dt if dt > 0 else np.zeros(3)


def _baseline_start(t_track: np.ndarray, k: int, baseline_s: float) -> int:
    """Row of the velocity differenced with row ``k``'s: the last at least ``baseline_s``
    earlier (the first row when there is none)."""
    return max(int(np.searchsorted(t_track, t_track[k] - baseline_s, side="right")) - 1, 0)


def launch_window(battery: Battery, path: PredictedPath, t_now_s: float,
                  ready_s: float = 0.0) -> LaunchWindow:
    """Launch window of ``battery`` against a predicted threat path (module notes)."""
    ic = INTERCEPTORS[battery.interceptor]
    table = flyout_table(ic)
    nan3 = np.full(3, np.nan)
    impact = path.impact_s if path.t.size else float("nan")
    if path.t.size == 0:
        return LaunchWindow(False, *(np.nan,) * 5, nan3, np.nan, np.nan, impact,
                            "no_prediction")
    lla = ecef_to_lla(path.r_ecef_m)
    site = battery.site_lla
    ground = great_circle_distance_m(site[0], site[1], lla[:, 0], lla[:, 1])
    tof = table.time_to(ground, np.maximum(lla[:, 2], 0.0))
    band = (lla[:, 2] >= ic.intercept_alt_min_m) & (lla[:, 2] <= ic.intercept_alt_max_m)
    latest_for = path.t - tof  # latest launch for an intercept at each path time
    start = t_now_s + ready_s
    ok = band & np.isfinite(tof) & (latest_for >= start)
    if not ok.any():
        reason = ("out_of_reach" if not (band & np.isfinite(tof)).any() else "too_late")
        return LaunchWindow(False, *(np.nan,) * 5, nan3, np.nan, np.nan, impact, reason)
    first = int(np.flatnonzero(ok)[0])
    return LaunchWindow(
        engageable=True,
        earliest_s=start,
        latest_s=float(np.max(latest_for[ok])),
        preferred_s=float(max(start, latest_for[first])),
        intercept_s=float(path.t[first]),
        time_of_flight_s=float(tof[first]),
        pip_ecef_m=path.r_ecef_m[first].copy(),
        intercept_alt_m=float(lla[first, 2]),
        intercept_range_m=float(ground[first]),
        threat_impact_s=impact,
    )


def kill_probability(miss_m: np.ndarray, lethal_radius_m: float) -> np.ndarray:
    """Carleton damage function ``exp(-(miss / r_L)^2)`` (Ball 2003, ch. 4)."""
    return np.exp(-(np.asarray(miss_m, dtype=float) / lethal_radius_m) ** 2)


#: columns of the engagements table (DESIGN.md, then hyperdef's additions)
ENGAGEMENT_COLUMNS = ("shot_id", "battery_id", "track_id", "truth_id", "t_launch",
                      "t_intercept", "miss_m", "kill", "marking", "node", "shot_number",
                      "status", "reason")


@dataclass(frozen=True, slots=True)
class FireControlResult:
    """Engagements of a raid and the launch windows behind them.

    Attributes
    ----------
    engagements : pyarrow.Table
        One row per round fired or refused (:data:`ENGAGEMENT_COLUMNS`).
    windows : dict
        ``(battery_id, track_id) -> LaunchWindow`` of every releasable pair.
    inventory : dict
        Rounds left per battery.
    """

    engagements: pa.Table
    windows: dict
    inventory: dict

    def kills(self) -> dict[int, bool]:
        """Whether each engaged truth object was killed (evaluation)."""
        table = self.engagements
        out: dict[int, bool] = {}
        for truth, kill in zip(table.column("truth_id").to_pylist(),
                               table.column("kill").to_pylist(), strict=True):
            if truth is not None and truth >= 0:
                out[truth] = out.get(truth, False) or bool(kill)
        return out


def _firm_tracks(tracks: pa.Table) -> dict[int, dict]:
    """History of every track that was ever confirmed, keyed by track id."""
    ids = tracks.column("track_id").to_numpy()
    status = tracks.column("status")
    is_confirmed = pc.fill_null(pc.equal(status, "confirmed"), False).to_numpy()
    kept = ~pc.fill_null(pc.equal(status, "deleted"), False).to_numpy()
    t = tracks.column("t").to_numpy()
    x = np.column_stack([tracks.column(c).to_numpy() for c in ("x", "y", "z", "vx", "vy",
                                                               "vz")])
    truth = (tracks.column("truth_id").to_numpy() if "truth_id" in tracks.column_names
             else np.full(ids.size, -1))
    nodes, markings = tracks.column("node"), tracks.column("marking")
    out = {}
    for tid in np.unique(ids[is_confirmed]):  # per firm track, not per sample
        rows = np.flatnonzero((ids == tid) & kept)
        rows = rows[np.argsort(t[rows], kind="stable")]
        confirmed = rows[is_confirmed[rows]]
        last = int(rows[-1])
        out[int(tid)] = {
            "t": t[rows], "x": x[rows], "t_firm": float(t[confirmed[0]]),
            "node": nodes[last].as_py(), "marking": markings[last].as_py(),
            "truth_id": int(truth[last]),
        }
    return out


def join_broken_tracks(firm: dict[int, dict], *, max_gap_s: float = 120.0,
                       max_distance_m: float = 10_000.0,
                       max_overlap_s: float = 120.0,
                       max_duplicate_m: float = 2_000.0) -> dict[int, dict]:
    """Treat a firm track that starts where an earlier one was heading as its continuation.

    A tracker that loses a threat (a coverage gap, a hand-over between sensors) starts a
    new track on it; fire control would otherwise count two threats and spend rounds on
    both. A track B that starts within ``max_gap_s`` after track A's last update, at a
    point within ``max_distance_m`` of A's path predicted to that time (and of the same
    node), is appended to A's history under A's id (Blackman & Popoli 1999, ch. 9: track
    continuity by prediction and gating). So is a duplicate: a track B started on the
    same object up to ``max_overlap_s`` before A ends (a fusion tracker that missed an
    association opens a second track on the object while the first one still runs),
    when B's first position is within ``max_duplicate_m`` of A's estimate at that time
    (duplicates seen in the regional raid start 26-473 m from the first track; real
    threats launched in a stream fly tens of km apart); A's history is kept whole and B's
    rows after A's last update are appended. Without this a
    threat killed (or with rounds in flight) under A's id reappears as a new, unengaged
    threat under B's, and the assignment spends a round on it (regional_raid, seed 2026:
    three of the terminal battery's five rounds). Two objects closer than
    ``max_duplicate_m`` at the same time are one threat to the fire control.
    """
    order = sorted(firm, key=lambda k: float(firm[k]["t"][0]))
    merged: dict[int, dict] = {}
    for tid in order:  # firm tracks of a raid: tens, not a hot path
        trk = firm[tid]
        start = float(trk["t"][0])
        parent = None
        for pid, old in merged.items():
            end = float(old["t"][-1])
            if old["node"] != trk["node"] or not (-max_overlap_s <= start - end <= max_gap_s):
                continue
            limit = max_distance_m
            if start <= end:  # a duplicate: A's own estimate at B's start
                k = int(np.searchsorted(old["t"], start, side="right")) - 1
                if k < 0:
                    continue
                guess = old["x"][k, :3] + old["x"][k, 3:] * (start - float(old["t"][k]))
                limit = min(max_distance_m, max_duplicate_m)
            else:  # a gap: A's path predicted to B's start
                path = predict_track_path(old["t"], old["x"], end,
                                          horizon_s=start - end + 1.0)
                k = int(np.searchsorted(path.t, start))
                if k >= path.t.size:
                    continue
                guess = path.r_ecef_m[k]
            if np.linalg.norm(guess - trk["x"][0, :3]) <= limit:
                parent = pid
                break
        if parent is None:
            merged[tid] = dict(trk)
            continue
        old = merged[parent]
        end = float(old["t"][-1])
        if float(trk["t"][-1]) <= end:  # a duplicate that ends first adds nothing
            continue
        after = trk["t"] > end
        merged[parent] = {**old, "t": np.concatenate([old["t"], trk["t"][after]]),
                          "x": np.concatenate([old["x"], trk["x"][after]]),
                          "marking": trk["marking"], "truth_id": trk["truth_id"]}
    return merged


def run_fire_control(tracks: pa.Table, batteries: list[Battery], trajectory: Trajectory, *,
                     rng: np.random.Generator, threat_values: dict[int, float] | None = None,
                     options: EngagementOptions = EngagementOptions(),
                     kill_assessment_delay_s: float = 5.0,
                     decision_step_s: float = 5.0) -> FireControlResult:
    """Fire on every firm track of a Tracks table and fly the shots against the truth.

    The one-draw case of :func:`run_fire_control_draws`.

    Parameters
    ----------
    tracks : pyarrow.Table
        Tracks table (DESIGN.md) of the fire-control node(s); ``truth_id`` only tells the
        simulation which truth object a shot physically flies at.
    batteries : list of Battery
    trajectory : Trajectory
        Truth of the threats.
    rng : numpy.random.Generator
        Engagement noise and kill draws: each decision round (the first shots, then the
        shoot-look-shoot second shots) spawns one child per round fired
        (``rng.spawn``, in firing order) for its flight's noise, then draws one uniform
        per round for its kill.
    threat_values : dict, optional
        Value per track id (default 1).
    options : EngagementOptions
    kill_assessment_delay_s : float
        Time after an intercept before the kill is known to every battery on the picture,
        s (>= 0); until then no battery that could still fire later fires at the threat
        (module notes).
    decision_step_s : float
        Fire control re-examines a firm track this often until its path is predictable
        (:func:`path_is_predictable`) and a window opens, s.

    Returns
    -------
    FireControlResult
    """
    return run_fire_control_draws(
        [tracks], batteries, [trajectory], rngs=[rng], threat_values=threat_values,
        options=options, kill_assessment_delay_s=kill_assessment_delay_s,
        decision_step_s=decision_step_s)[0]


def run_fire_control_draws(tracks: list[pa.Table], batteries: list[Battery],
                           trajectories: list[Trajectory], *,
                           rngs: list[np.random.Generator],
                           threat_values: dict[int, float] | None = None,
                           options: EngagementOptions = EngagementOptions(),
                           kill_assessment_delay_s: float = 5.0,
                           decision_step_s: float = 5.0) -> list[FireControlResult]:
    """:func:`run_fire_control` of several Monte Carlo draws, their shots flown together.

    Draw d fires on ``tracks[d]`` against the truth ``trajectories[d]`` with the
    batteries as given (each draw starts from their full inventories). The planning
    (windows, assignment, looks) follows each draw's own decisions, its path predictions
    made together with those of the other draws (module notes: one batched
    :func:`predict_track_paths` per planning round); the flights are batched across
    draws: every first shot of every draw in one
    :func:`~hyperdef.engagement.simulate.engage` call per interceptor class, then every
    shoot-look-shoot second shot (they depend on the first shots' kills) in another. A
    draw's random use depends on that draw only (the streams of
    :func:`run_fire_control`, from ``rngs[d]``) and ``engage`` flies each round alone
    whatever shares its batch, so result d equals
    ``run_fire_control(tracks[d], batteries, trajectories[d], rng=rngs[d], ...)``, every
    value of it.

    Parameters
    ----------
    tracks : list of pyarrow.Table
        One Tracks table per draw.
    batteries : list of Battery
    trajectories : list of Trajectory
        Truth of each draw (the same object may serve several draws).
    rngs : list of numpy.random.Generator
        One per draw.
    threat_values, options, kill_assessment_delay_s, decision_step_s
        As :func:`run_fire_control`, the same for every draw.

    Returns
    -------
    list of FireControlResult
        One per draw, in order.
    """
    if not batteries:
        raise InputError("batteries: at least one battery is needed")
    ids = [b.battery_id for b in batteries]
    if len(set(ids)) != len(ids):
        raise InputError(f"batteries: battery ids must be unique, got {ids}")
    if not (math.isfinite(kill_assessment_delay_s) and kill_assessment_delay_s >= 0):
        raise InputError(f"kill_assessment_delay_s: {kill_assessment_delay_s} must be >= 0")
    n = len(tracks)
    if len(trajectories) != n or len(rngs) != n:
        raise InputError(f"trajectories, rngs: expected one per draw ({n} tracks tables), "
                         f"got {len(trajectories)} and {len(rngs)}")
    check_options(options)
    draws = [_Draw(tracks[d], batteries, threat_values, kill_assessment_delay_s,
                   decision_step_s) for d in range(n)]
    _solve(_gather([draw.assign() for draw in draws]))  # planning only: windows, WTA
    first = _solve(_gather([draw.first_shots() for draw in draws]))
    for draw, shots, fired in zip(draws, first, _fly_shots(first, batteries, trajectories,
                                                           rngs, options), strict=True):
        draw.record_first(shots, fired)
    second = _solve(_gather([draw.second_shots() for draw in draws]))
    for draw, shots, fired in zip(draws, second, _fly_shots(second, batteries, trajectories,
                                                            rngs, options), strict=True):
        for shot, rounds in zip(shots, fired, strict=True):
            draw.record(shot, rounds)
    return [draw.result() for draw in draws]


@dataclass(frozen=True, slots=True)
class _Shot:
    """A decision to fire ``rounds`` interceptors of battery ``battery`` at track ``tid``."""

    battery: int
    j: int
    tid: int
    trk: dict
    window: LaunchWindow
    rounds: int
    number: int


class _Draw:
    """Fire-control planning and records of one draw (internal): the windows and the
    assignment (:meth:`assign`), then the shots of each decision round. The planning
    methods are plans (module notes): run them with :func:`_solve`, or many draws' at
    once with :func:`_gather`."""

    def __init__(self, tracks: pa.Table, batteries: list[Battery],
                 threat_values: dict[int, float] | None, kill_assessment_delay_s: float,
                 decision_step_s: float):
        self.batteries = batteries
        self.delay_s = kill_assessment_delay_s
        self.step_s = decision_step_s
        self.threat_values = threat_values or {}
        self.firm = join_broken_tracks(_firm_tracks(tracks))
        self.inventory = {b.battery_id: int(b.inventory) for b in batteries}
        self.rows: list[dict] = []
        self.windows: dict = {}
        self.track_ids = sorted(self.firm)
        self.counter = 0
        self.killed_by = np.zeros(len(self.track_ids), dtype=bool)
        #: when the kill assessment of every round at each threat is known
        self.assessed = np.full(len(self.track_ids), -np.inf)

    def assign(self) -> Plan[None]:
        """The first window of every releasable battery-track pair (all pairs planned
        together), a refusal row for each other pair, then the first-shot and supporting
        assignments."""
        batteries, firm, track_ids = self.batteries, self.firm, self.track_ids
        n_b, n_t = len(batteries), len(track_ids)
        pairs, plans = [], []
        for i, b in enumerate(batteries):  # pairs of a raid: batteries x firm tracks
            for j, tid in enumerate(track_ids):
                trk = firm[tid]
                allowed, why = b.may_engage(trk["node"], trk["marking"])
                if not allowed:
                    self.rows.append(_refusal(b, tid, trk, why))
                    continue
                pairs.append((i, j))
                plans.append(_first_window(b, trk, self.step_s))
        feasible = np.zeros((n_b, n_t), dtype=bool)
        pk = self.pk = np.zeros((n_b, n_t))
        for (i, j), window in zip(pairs, (yield from _gather(plans)), strict=True):
            b = batteries[i]
            self.windows[(b.battery_id, track_ids[j])] = window
            feasible[i, j] = window.engageable
            pk[i, j] = DEFAULT_SSPK.get(b.interceptor, 0.7)
        values = self.values = np.array([self.threat_values.get(t, 1.0) for t in track_ids])
        # a salvo spends two rounds on a threat: the assignment counts engagements, not
        # rounds
        per_engagement = np.array([2 if b.doctrine == "salvo" else 1 for b in batteries])
        rounds = np.array([self.inventory[b.battery_id] for b in batteries])
        self.choice = assign_one_shot(values, pk, feasible, -(-rounds // per_engagement))
        self.support = _support_shots(batteries, track_ids, self.windows, values, pk,
                                      feasible, self.choice, rounds, per_engagement,
                                      self.delay_s)

    def first_shots(self) -> Plan[list[_Shot]]:
        """First shots of every assigned track, in launch order, before any second shot:
        a battery's rounds go to new threats before it looks again at an old one. Their
        launch solutions are planned together."""
        batteries, windows = self.batteries, self.windows
        shots = [(windows[(batteries[i].battery_id, tid)].preferred_s, j, tid, i)
                 for j, tid in enumerate(self.track_ids)
                 for i in (self.choice[j], self.support[j]) if i >= 0]
        fired = []
        for _, j, tid, i in sorted(shots):
            b = batteries[i]
            if self.inventory[b.battery_id] <= 0:
                continue
            rounds = 2 if b.doctrine == "salvo" and self.inventory[b.battery_id] >= 2 else 1
            self.inventory[b.battery_id] -= rounds  # per round fired
            fired.append((int(i), j, tid, windows[(b.battery_id, tid)], rounds))
        return (yield from self._solutions(fired, 1))

    def _solutions(self, fired: list[tuple], number: int) -> Plan[list[_Shot]]:
        """Shots ``(battery, j, track id, window, rounds)`` with their launch solutions
        (:func:`launch_solution`, all planned together)."""
        solved = yield from _gather([
            _launch_solution(self.batteries[i], self.firm[tid]["t"], self.firm[tid]["x"],
                             window) for i, _, tid, window, _ in fired])
        return [_Shot(i, j, tid, self.firm[tid], window, rounds, number)
                for (i, j, tid, _, rounds), window in zip(fired, solved, strict=True)]

    def record_first(self, shots: list[_Shot], fired: list[list[tuple]]) -> None:
        for shot, rounds in zip(shots, fired, strict=True):
            killed, t_done = self.record(shot, rounds)
            j = shot.j
            self.killed_by[j] |= killed
            self.assessed[j] = max(self.assessed[j], t_done + self.delay_s
                                   if np.isfinite(t_done) else np.nan)

    def second_shots(self) -> Plan[list[_Shot]]:
        """Shoot-look-shoot across batteries: no battery fires again at a threat while a
        round is in flight at it (assessment pending); where the look shows a survivor,
        the best shoot-look-shoot battery with a round left and a launch that still fits
        fires. The looks follow one another (each spends a round the next may not have);
        the launch solutions are planned together after them."""
        batteries, n_b = self.batteries, len(self.batteries)
        looks = [(self.assessed[j], j, tid) for j, tid in enumerate(self.track_ids)
                 if np.isfinite(self.assessed[j]) and not self.killed_by[j]]
        fired = []
        for t_ready, j, tid in sorted(looks):
            trk = self.firm[tid]
            open_now = yield from _open_windows(batteries, self.inventory, self.windows, trk,
                                                tid, t_ready, self.step_s)
            if not open_now:
                continue
            can = np.array([i in open_now for i in range(n_b)])[:, None]
            left = np.array([self.inventory[b.battery_id] > 0 for b in batteries],
                            dtype=np.int64)
            i = int(assign_one_shot(self.values[j:j + 1], self.pk[:, j:j + 1], can, left)[0])
            if i < 0:
                continue
            self.inventory[batteries[i].battery_id] -= 1
            fired.append((i, j, tid, open_now[i], 1))
        return (yield from self._solutions(fired, 2))

    def record(self, shot: _Shot, fired: list[tuple]) -> tuple[bool, float]:
        """Rows of a shot's rounds (miss, status, t_intercept, kill uniform each); whether
        one killed, and when the last one ended."""
        b = self.batteries[shot.battery]
        trk = shot.trk
        killed = False
        for res_miss, res_status, t_int, u_kill in fired:
            self.counter += 1
            kill = bool(np.isfinite(res_miss) and u_kill < kill_probability(
                res_miss, INTERCEPTORS[b.interceptor].kill_vehicle.kill_radius_m))
            killed = killed or kill
            self.rows.append({
                "shot_id": self.counter, "battery_id": b.battery_id, "track_id": shot.tid,
                "truth_id": trk["truth_id"], "t_launch": shot.window.preferred_s,
                "t_intercept": t_int, "miss_m": res_miss, "kill": kill,
                "marking": intersect_markings([trk["marking"], b.marking]) or b.marking,
                "node": b.node, "shot_number": shot.number, "status": res_status,
                "reason": ""})
        t_done = max((r[2] for r in fired), default=np.nan)
        return killed, t_done

    def result(self) -> FireControlResult:
        return FireControlResult(engagements=_table(self.rows), windows=self.windows,
                                 inventory=self.inventory)


def _fly_shots(shots: list[list[_Shot]], batteries: list[Battery],
               trajectories: list[Trajectory], rngs: list[np.random.Generator],
               options: EngagementOptions) -> list[list[list[tuple]]]:
    """Fly one decision round of every draw: one batched
    :func:`~hyperdef.engagement.simulate.engage` per interceptor class.

    Draw d's rounds, in its firing order, get the children ``rngs[d].spawn(k)`` as their
    flight streams and then ``rngs[d].random(k)`` as their kill uniforms. Returns, per
    draw and shot, one ``(miss_m, status, t_intercept_s, kill_uniform)`` per round.
    """
    owner: list[tuple[int, int]] = []  # (draw, shot) of each round, rounds in order
    streams: list[np.random.Generator] = []
    uniforms: list[float] = []
    for d, draw_shots in enumerate(shots):  # cheap: the draws' random streams
        k = sum(s.rounds for s in draw_shots)
        if k == 0:
            continue
        streams.extend(rngs[d].spawn(k))
        uniforms.extend(rngs[d].random(k).tolist())
        owner.extend((d, m) for m, s in enumerate(draw_shots) for _ in range(s.rounds))
    flat = [shots[d][m] for d, m in owner]
    miss = np.full(len(flat), np.nan)
    t_int = np.full(len(flat), np.nan)
    status = np.full(len(flat), "no_target", dtype=object)  # a false track: nothing to hit
    real = [r for r, s in enumerate(flat) if s.trk["truth_id"] >= 0]
    classes = dict.fromkeys(batteries[flat[r].battery].interceptor for r in real)
    for name in classes:  # one batched flight per interceptor class (one or two)
        rows = [r for r in real if batteries[flat[r].battery].interceptor == name]
        res = _engage_rounds([flat[r] for r in rows], [owner[r][0] for r in rows],
                             [streams[r] for r in rows], batteries, trajectories, name,
                             options)
        miss[rows], status[rows], t_int[rows] = res.miss_m, res.status, res.t_intercept_s
    out: list[list[list[tuple]]] = [[[] for _ in draw_shots] for draw_shots in shots]
    for r, (d, m) in enumerate(owner):
        out[d][m].append((float(miss[r]), str(status[r]), float(t_int[r]), uniforms[r]))
    return out


def _engage_rounds(rounds: list[_Shot], draws: list[int], streams: list[np.random.Generator],
                   batteries: list[Battery], trajectories: list[Trajectory], name: str,
                   options: EngagementOptions):
    """One :func:`~hyperdef.engagement.simulate.engage` of rounds of class ``name`` from
    several draws: their truths joined (each distinct one once, objects offset), each
    round with its own site, plan, feed rows and stream."""
    parts: list[Trajectory] = []
    base: dict[int, int] = {}
    for d in draws:  # a few distinct truths (often one object shared by every draw)
        tr = trajectories[d]
        if id(tr) not in base:
            base[id(tr)] = sum(p.n_objects for p in parts)
            parts.append(tr)
    joined = concat_trajectories(parts)
    target = np.array([base[id(trajectories[d])] + s.trk["truth_id"]
                       for s, d in zip(rounds, draws, strict=True)], dtype=np.int64)
    windows = [s.window for s in rounds]
    site = np.array([batteries[s.battery].site_lla for s in rounds])
    launch = np.array([w.preferred_s for w in windows])
    plan = (np.array([w.time_of_flight_s for w in windows]),
            np.array([w.intercept_s - w.preferred_s for w in windows]),
            np.array([w.pip_ecef_m for w in windows]).reshape(-1, 3))
    sizes = [s.trk["t"].size for s in rounds]
    feed = TrackFeed(t=np.concatenate([s.trk["t"] for s in rounds]),
                     x=np.concatenate([s.trk["x"] for s in rounds]),
                     offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
    return engage(INTERCEPTORS[name], joined, target_index=target, site_lla=site,
                  t_launch_s=launch, options=options, rng=streams, track_feed=feed, plan=plan)


def _open_windows(batteries: list[Battery], inventory: dict, windows: dict, trk: dict,
                  tid: int, t_ready: float, step_s: float) -> Plan[dict[int, LaunchWindow]]:
    """Windows of the shoot-look-shoot batteries with rounds left on a surviving threat,
    from the kill assessment on: examined again every ``step_s`` while the track lasts
    (the path predicted at the look can still be too uncertain to place an intercept that
    a few seconds' more track allows), the first instant any is open (a plan, module
    notes)."""
    ready = [i for i, b in enumerate(batteries)  # a few batteries
             if b.doctrine == "shoot_look_shoot" and inventory[b.battery_id] > 0
             and (b.battery_id, tid) in windows]
    if not ready:
        return {}
    for t_look in np.arange(t_ready, float(trk["t"][-1]) + 1e-9, step_s):
        (path,) = yield [PathRequest(trk["t"], trk["x"], float(t_look))]
        open_now = {i: w for i in ready
                    if (w := launch_window(batteries[i], path, float(t_look))).engageable}
        if open_now:
            return open_now
    return {}


def _support_shots(batteries: list[Battery], track_ids: list[int], windows: dict,
                   values: np.ndarray, pk: np.ndarray, feasible: np.ndarray,
                   choice: np.ndarray, rounds: np.ndarray, per_engagement: np.ndarray,
                   kill_assessment_delay_s: float) -> np.ndarray:
    """A second battery's engagement of a threat while the first one's rounds fly.

    A threat that the first-shot assignment gave battery A is worth only its expected
    survival ``V (1 - p_A)^k`` of A's k rounds to any other battery (Manne 1958; Hosein &
    Athans 1990), and another battery B may add a round to it only where B could not
    fire after A's kill assessment anyway (B's window closes before A's intercept plus
    the assessment delay): where a later shot is still possible, B holds fire for the
    look (shoot-look-shoot across batteries). B spends on this only rounds beyond those
    it keeps for the looks it could take, and the assignment
    (:func:`~hyperdef.engagement.assignment.assign_one_shot` with ``survival``) gives a
    round only where it adds the most value.

    Returns
    -------
    ndarray of int, shape (T,)
        Supporting battery per threat, -1 for none.
    """
    n_b, n_t = pk.shape
    survival = np.ones(n_t)
    look_from = np.full(n_t, np.inf)
    for j, i in enumerate(choice):
        if i >= 0:
            window = windows[(batteries[i].battery_id, track_ids[j])]
            survival[j] = (1.0 - pk[i, j]) ** per_engagement[i]
            look_from[j] = window.intercept_s + kill_assessment_delay_s
    latest = np.array([[windows[(b.battery_id, tid)].latest_s
                        if (b.battery_id, tid) in windows else np.nan for tid in track_ids]
                       for b in batteries]).reshape(n_b, n_t)
    engaged = (choice >= 0)[None, :]
    mine = choice[None, :] == np.arange(n_b)[:, None]
    look_later = feasible & engaged & (latest >= look_from[None, :])
    sls = np.array([b.doctrine == "shoot_look_shoot" for b in batteries])[:, None]
    used = (mine * per_engagement[:, None]).sum(axis=1)
    keep = (look_later & sls).sum(axis=1)
    spare = np.maximum(rounds - used - keep, 0) // per_engagement
    can = feasible & engaged & ~mine & ~look_later
    return assign_one_shot(values, pk, can, spare, survival=survival)


def launch_solution(battery: Battery, t_track: np.ndarray, x_track: np.ndarray,
                    window: LaunchWindow, iterations: int = 3) -> LaunchWindow:
    """The window's fire-control solution re-planned on the track at its launch time.

    A window opens when the track first allows an intercept, often minutes before its
    preferred launch; the track keeps improving until then, and a path predicted from it
    minutes ahead is off by kilometres (a 10 m/s velocity error over 300 s), more than a
    terminal interceptor's short flight can take out. So the PIP, the intercept time and
    the launch are predicted again from the newest estimate at the planned launch, a few
    times while the launch moves; where the track is not predictable then (or the new
    path has no window) the earlier solution stands.

    Parameters
    ----------
    battery : Battery
    t_track : ndarray, shape (K,)
        Track update times, increasing, s.
    x_track : ndarray, shape (K, 6)
        ECEF position and velocity estimates; only those at or before a launch time are
        used for it.
    window : LaunchWindow
        The solution found when the window opened.
    iterations : int
        Re-plans at most.

    Returns
    -------
    LaunchWindow
    """
    return _solve(_launch_solution(battery, t_track, x_track, window, iterations))


def _launch_solution(battery: Battery, t_track: np.ndarray, x_track: np.ndarray,
                     window: LaunchWindow, iterations: int = 3) -> Plan[LaunchWindow]:
    """:func:`launch_solution` as a plan (module notes)."""
    if not window.engageable:
        return window
    for _ in range(iterations):  # a few fixed-point passes
        t_launch = window.preferred_s
        k = int(np.searchsorted(t_track, t_launch, side="right")) - 1
        if k < 0 or not path_is_predictable(x_track[k], track_acceleration(t_track, x_track,
                                                                          k)):
            break
        (path,) = yield [PathRequest(t_track, x_track, t_launch)]
        fresh = launch_window(battery, path, t_launch)
        if not fresh.engageable:
            break
        window = fresh
        if fresh.preferred_s - t_launch < 1.0:
            break
    return window


def _first_window(battery: Battery, trk: dict, step_s: float) -> Plan[LaunchWindow]:
    """The first window that opens on a firm track, checked every ``step_s`` seconds (a
    plan, module notes)."""
    last = None
    for t_dec in np.arange(trk["t_firm"], trk["t"][-1] + 1e-9, step_s):  # decision times
        k = int(np.searchsorted(trk["t"], t_dec, side="right")) - 1
        a = track_acceleration(trk["t"], trk["x"], k)
        if not path_is_predictable(trk["x"][k], a):
            continue
        (path,) = yield [PathRequest(trk["t"], trk["x"], t_dec)]
        window = launch_window(battery, path, t_dec)
        if window.engageable:
            return window
        last = window
    if last is None:
        nan3 = np.full(3, np.nan)
        return LaunchWindow(False, *(np.nan,) * 5, nan3, np.nan, np.nan, np.nan,
                            "unpredictable")
    return last


#: a planning step that needs predicted paths: a generator that yields the path requests
#: it waits for, is sent their paths (in order), and returns its result
Plan = Generator[list[PathRequest], list[PredictedPath], _T]


def _gather(plans: Sequence[Plan]) -> Plan[list]:
    """Several plans run in lockstep as one: each round asks for the requests of every
    plan still running, together, and returns each its own paths; the result is the
    list of their results, in order."""
    plans = list(plans)
    results: list = [None] * len(plans)
    asks: dict[int, list[PathRequest]] = {}

    def advance(m: int, paths: list[PredictedPath] | None) -> None:
        try:
            asks[m] = plans[m].send(paths)
        except StopIteration as done:
            results[m] = done.value
            asks.pop(m, None)

    for m in range(len(plans)):  # the plans' first steps
        advance(m, None)
    while asks:  # one round: every waiting plan's requests at once
        waiting = list(asks.items())
        paths = yield [q for _, requests in waiting for q in requests]
        at = 0
        for m, requests in waiting:
            advance(m, paths[at:at + len(requests)])
            at += len(requests)
    return results


def _solve(plan: Plan[_T]) -> _T:
    """Run a plan to its result, each round's requests answered by one
    :func:`predict_track_paths`."""
    try:
        requests = plan.send(None)
        while True:
            requests = plan.send(predict_track_paths(requests))
    except StopIteration as done:
        return done.value


def _refusal(b: Battery, tid: int, trk: dict, why: str) -> dict:
    return {"shot_id": -1, "battery_id": b.battery_id, "track_id": tid,
            "truth_id": trk["truth_id"], "t_launch": np.nan, "t_intercept": np.nan,
            "miss_m": np.nan, "kill": False, "marking": b.marking, "node": b.node,
            "shot_number": 0, "status": "refused", "reason": why}


ENGAGEMENTS_SCHEMA = pa.schema([
    ("shot_id", pa.int64()), ("battery_id", pa.string()), ("track_id", pa.int64()),
    ("truth_id", pa.int64()), ("t_launch", pa.float64()), ("t_intercept", pa.float64()),
    ("miss_m", pa.float64()), ("kill", pa.bool_()), ("marking", pa.string()),
    ("node", pa.string()), ("shot_number", pa.int64()), ("status", pa.string()),
    ("reason", pa.string()),
])


def _table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=ENGAGEMENTS_SCHEMA)


def write_engagements(table: pa.Table, path) -> None:
    """Write an engagements table to Parquet atomically."""
    import pyarrow.parquet as pq

    from hyperdef.report import atomic_output

    with atomic_output(path) as tmp:
        pq.write_table(table.cast(ENGAGEMENTS_SCHEMA), tmp)
