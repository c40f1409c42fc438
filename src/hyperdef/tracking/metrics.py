"""Tracking performance metrics: OSPA, GOSPA, RMSE, NEES/NIS, track continuity, time to confirm.

Set distances (:func:`ospa`, :func:`gospa`) compare one finite set of truth points with one
set of estimates; :func:`ospa_over_time` and :func:`gospa_over_time` evaluate them at every
distinct time of a Tracks table (DESIGN.md) against a :class:`~hyperdef.threats.trajectory.
Trajectory`. The other figures need each track row tied to the truth object it follows; that
tie is made once, by :func:`assign_truth`, and shared:

- ``by="truth_id"``: a confirmed row follows object ``truth_id`` (the object index of the
  truth of the last detection the tracker associated with it, carried for evaluation only;
  -1 or null: none). When several confirmed rows at one time carry the same object, the one
  nearest the truth keeps it and the others count as unassigned (duplicates), so the
  assignment stays one-to-one.
- ``by="distance"``: at each time, the optimal (minimum total position error) one-to-one
  assignment of confirmed tracks to the truth objects alive then
  (``scipy.optimize.linear_sum_assignment``).
- ``by="auto"`` (default): ``truth_id`` when the table has that column, else ``distance``.

In both, a pair farther apart than ``gate_m`` (default: no gate) is left unassigned, and an
object is alive from its first to its last truth sample. Only rows with status ``confirmed``
are scored; ``node`` restricts a table holding several nodes' tracks to one of them.

The set-distance and assignment steps loop over the times with several live truth objects
(one ``linear_sum_assignment`` per scan, which has no batched form); a time with at most one
truth is scored in array expressions (its one assignment is the nearest estimate), and
everything per row is vectorised.

References
----------
D. Schuhmacher, B.-T. Vo, B.-N. Vo, "A consistent metric for performance evaluation of
multi-object filters", IEEE Trans. Signal Processing 56(8), 3447-3457, 2008,
doi:10.1109/TSP.2008.920469 (OSPA).

A. S. Rahmathullah, A. F. Garcia-Fernandez, L. Svensson, "Generalized optimal sub-pattern
assignment metric", Proc. 20th Int. Conf. Information Fusion, 2017,
doi:10.23919/ICIF.2017.8009645 (GOSPA; arXiv:1601.05585).

Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking and
Navigation*, Wiley, 2001, §5.4.2 (NEES, NIS and their chi-square acceptance regions).

K. Bernardin, R. Stiefelhagen, "Evaluating multiple object tracking performance: the CLEAR
MOT metrics", EURASIP J. Image and Video Processing, 2008, 246309,
doi:10.1155/2008/246309 (identity switches).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from hyperdef.errors import InputError
from hyperdef.sensors.truth import truth_at
from hyperdef.threats.trajectory import Trajectory

#: default OSPA/GOSPA cut-off distance, m
DEFAULT_CUTOFF_M = 10_000.0

_STATE_COLUMNS = ("x", "y", "z", "vx", "vy", "vz")
_ASSIGN_MODES = ("auto", "truth_id", "distance")
_COMPONENTS = {"position": slice(0, 3), "velocity": slice(3, 6), "state": slice(0, 6)}


# ------------------------------------------------------------------------------ set distances


@dataclass(frozen=True, slots=True)
class GospaResult:
    """GOSPA distance and its decomposition.

    ``distance ** p == localisation + missed + false``. Scalars from :func:`gospa`, arrays
    of shape (K,) from :func:`gospa_over_time`.

    Attributes
    ----------
    distance : float or ndarray
        GOSPA distance, in the unit of the points.
    localisation : float or ndarray
        Sum of ``d ** p`` over assigned pairs (for ``alpha = 2`` only pairs closer than c;
        for other alpha every assigned pair, at ``min(d, c) ** p``).
    missed, false : float or ndarray
        ``c ** p / alpha`` times the number of missed truths and of false estimates (for
        ``alpha = 2`` a pair at or beyond c counts as one missed and one false).
    n_missed, n_false : int or ndarray
        Those numbers.
    """

    distance: float | np.ndarray
    localisation: float | np.ndarray
    missed: float | np.ndarray
    false: float | np.ndarray
    n_missed: int | np.ndarray
    n_false: int | np.ndarray


def _point_set(points: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(points, dtype=float)
    if a.size == 0:
        return a.reshape(0, a.shape[-1] if a.ndim == 2 else 0)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise InputError(f"{name}: expected an array of shape (m, d), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name}: points must be finite")
    return a


def _check_sets(x, y, c, p, names=("x", "y")) -> tuple[np.ndarray, np.ndarray]:
    a, b = _point_set(x, names[0]), _point_set(y, names[1])
    if len(a) and len(b) and a.shape[1] != b.shape[1]:
        raise InputError(
            f"{names[0]}, {names[1]}: points must have the same dimension, "
            f"got {a.shape[1]} and {b.shape[1]}"
        )
    if not (np.isfinite(c) and c > 0):
        raise InputError(f"c: cut-off must be a positive finite distance, got {c}")
    if not (np.isfinite(p) and p >= 1):
        raise InputError(f"p: order must be finite and >= 1, got {p}")
    return a, b


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    diff = a[:, None, :] - b[None, :, :]
    return np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))


def ospa(x: np.ndarray, y: np.ndarray, c: float, p: float = 2.0) -> float:
    """OSPA distance of order p with cut-off c between two finite point sets.

    ``d = ((min_pi sum_i min(d(x_i, y_pi(i)), c)^p + c^p (n - m)) / n)^(1/p)`` with
    ``m = min(|x|, |y|)``, ``n = max(|x|, |y|)``; 0 when both sets are empty, c when
    exactly one is.

    Parameters
    ----------
    x : ndarray, shape (m, d)
        One set (e.g. truth positions, m).
    y : ndarray, shape (n, d)
        The other set (e.g. track positions), same unit.
    c : float
        Cut-off, > 0, same unit.
    p : float
        Order, 1 <= p < inf.

    Returns
    -------
    float
        The OSPA distance, in [0, c].

    References
    ----------
    Schuhmacher, Vo & Vo, IEEE TSP 56(8), 2008, eq. (3), doi:10.1109/TSP.2008.920469.
    """
    a, b = _check_sets(x, y, c, p)
    return _ospa(a, b, float(c), float(p))


def _ospa(a: np.ndarray, b: np.ndarray, c: float, p: float) -> float:
    m, n = len(a), len(b)
    if m == 0 and n == 0:
        return 0.0
    if m == 0 or n == 0:
        return c
    if m > n:
        a, b, m, n = b, a, n, m
    cost = np.minimum(_distances(a, b), c) ** p
    rows, cols = linear_sum_assignment(cost)
    return float(((cost[rows, cols].sum() + c**p * (n - m)) / n) ** (1.0 / p))


def gospa(
    truth: np.ndarray, estimate: np.ndarray, c: float, p: float = 2.0, alpha: float = 2.0
) -> GospaResult:
    """GOSPA distance between a truth set and an estimate set, with its decomposition.

    ``d = (min_pi sum_i min(d(x_i, y_pi(i)), c)^p + c^p / alpha (n - m))^(1/p)`` (no
    normalisation by n, so missed and false objects are penalised in absolute number).
    With ``alpha = 2`` this equals the assignment form: localisation error of assigned pairs
    plus ``c^p / 2`` per missed truth and per false estimate.

    Parameters
    ----------
    truth : ndarray, shape (m, d)
        Truth points.
    estimate : ndarray, shape (n, d)
        Estimated points, same unit.
    c : float
        Cut-off, > 0.
    p : float
        Order, 1 <= p < inf.
    alpha : float
        Cardinality-mismatch weight, 0 < alpha <= 2 (2 makes GOSPA a metric whose
        decomposition into localisation, missed and false is exact).

    Returns
    -------
    GospaResult

    References
    ----------
    Rahmathullah, Garcia-Fernandez & Svensson, Fusion 2017, Definition 1 and Proposition 1,
    doi:10.23919/ICIF.2017.8009645.
    """
    a, b = _check_sets(truth, estimate, c, p, names=("truth", "estimate"))
    if not (0.0 < alpha <= 2.0):
        raise InputError(f"alpha: must be in (0, 2], got {alpha}")
    return _gospa(a, b, float(c), float(p), float(alpha))


def _gospa(a: np.ndarray, b: np.ndarray, c: float, p: float, alpha: float) -> GospaResult:
    m, n = len(a), len(b)
    dummy = c**p / alpha
    localisation = 0.0
    n_cut = 0
    if m and n:
        dist = _distances(a, b)
        rows, cols = linear_sum_assignment(np.minimum(dist, c) ** p)
        d = dist[rows, cols]
        if alpha == 2.0:
            inside = d < c
            localisation = float(np.sum(d[inside] ** p))
            n_cut = int(np.count_nonzero(~inside))
        else:
            localisation = float(np.sum(np.minimum(d, c) ** p))
        n_assigned = len(rows)
    else:
        n_assigned = 0
    n_missed = m - n_assigned + n_cut
    n_false = n - n_assigned + n_cut
    missed = dummy * n_missed
    false = dummy * n_false
    return GospaResult(
        distance=float((localisation + missed + false) ** (1.0 / p)),
        localisation=localisation,
        missed=float(missed),
        false=float(false),
        n_missed=n_missed,
        n_false=n_false,
    )


# ------------------------------------------------------------------------------ tracks tables


@dataclass(frozen=True, slots=True)
class _Rows:
    """The scored rows of a Tracks table with the truth at their times."""

    times: np.ndarray  # (K,) distinct times of the (node-filtered) table, s
    k: np.ndarray  # (R,) time index of each confirmed row
    t: np.ndarray  # (R,)
    track_id: np.ndarray  # (R,)
    state: np.ndarray  # (R, 6) ECEF
    row: np.ndarray  # (R,) row index in the input table
    truth_id: np.ndarray | None  # (R,) or None
    valid: np.ndarray  # (B, K) object alive
    truth_state: np.ndarray  # (B, K, 6) NaN where not alive
    first_t: np.ndarray  # (B,) first truth sample of each object
    table: pa.Table  # the (node-filtered) Tracks table the rows index


def _column(tracks: pa.Table, name: str) -> pa.ChunkedArray:
    if name not in tracks.column_names:
        raise InputError(f"tracks: missing column {name!r} (DESIGN.md Tracks table)")
    return tracks[name]


def _rows(tracks: pa.Table, trajectory: Trajectory, node: str | None) -> _Rows:
    if not isinstance(tracks, pa.Table):
        raise InputError(f"tracks: expected a pyarrow.Table, got {type(tracks).__name__}")
    if node is not None:
        tracks = tracks.filter(pc.equal(_column(tracks, "node"), node))
    t_all = _column(tracks, "t").to_numpy(zero_copy_only=False).astype(float)
    times = np.unique(t_all)
    confirmed = pc.fill_null(pc.equal(_column(tracks, "status"), "confirmed"), False)
    rows = np.flatnonzero(confirmed.to_numpy(zero_copy_only=False))
    state = np.column_stack(
        [_column(tracks, c).to_numpy(zero_copy_only=False)[rows].astype(float)
         for c in _STATE_COLUMNS]
    ).reshape(-1, 6)
    t = t_all[rows]
    track_id = _column(tracks, "track_id").to_numpy(zero_copy_only=False)[rows]
    truth_id = None
    if "truth_id" in tracks.column_names:
        tid = pc.fill_null(tracks["truth_id"], -1).to_numpy(zero_copy_only=False)
        truth_id = np.asarray(tid, dtype=np.int64)[rows]
    if times.size:
        samples = truth_at(trajectory, times)
        valid = samples.valid
        truth_state = np.concatenate([samples.r_ecef_m, samples.v_ecef_m_s], axis=-1)
    else:  # truth_at needs at least one time
        valid = np.zeros((trajectory.n_objects, 0), dtype=bool)
        truth_state = np.zeros((trajectory.n_objects, 0, 6))
    return _Rows(
        times=times,
        k=np.searchsorted(times, t),
        t=t,
        track_id=track_id,
        state=state,
        row=rows,
        truth_id=truth_id,
        valid=valid,
        truth_state=truth_state,
        first_t=trajectory.t[trajectory.offsets[:-1]],
        table=tracks,
    )


def _groups(k: np.ndarray, n_times: int) -> list[np.ndarray]:
    """Indices of the rows at each time index 0..n_times-1."""
    order = np.argsort(k, kind="stable")
    bounds = np.searchsorted(k[order], np.arange(n_times + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(n_times)]


def _check_common(c_m: float | None, p: float | None, node) -> None:
    if c_m is not None and not (np.isfinite(c_m) and c_m > 0):
        raise InputError(f"c_m: cut-off must be a positive finite distance, got {c_m}")
    if p is not None and not (np.isfinite(p) and p >= 1):
        raise InputError(f"p: order must be finite and >= 1, got {p}")
    if node is not None and not isinstance(node, str):
        raise InputError(f"node: expected a node name (str) or None, got {node!r}")


def _component(component: str) -> slice:
    if component not in _COMPONENTS:
        raise InputError(f"component: {component!r} not one of {', '.join(sorted(_COMPONENTS))}")
    return _COMPONENTS[component]


def _sets_over_time(rows: _Rows, part: slice):
    """Distinct times (K,), and the point sets at each, grouped by how they are scored.

    ``part`` is the slice of the state compared (:func:`_component`). Returns
    ``(times, single, few, sets)``:

    - ``single``: for the times where each set has at most one point (one threat, one
      track: most of a run), the arrays ``(m, n, d)`` of set sizes (K,) and
      truth-to-estimate distance (K,; NaN unless both have a point), so those times are
      scored in one array expression;
    - ``few``: the times with at most one truth and several estimates (tentative tracks
      confirmed beside the true one, or tracks on nothing), ``(kk, m, n, start, dist)``:
      their time indices (F,), set sizes (F,), and the distances from the truth to each
      of their estimates, concatenated (sum n,; NaN where no truth), time ``kk[i]``'s from
      ``start[i]``. The one assignment to make there is the nearest estimate, so these are
      scored in array expressions too, each value as :func:`_ospa` and :func:`_gospa`
      give it (the first estimate of least cost, the final root a Python float power);
    - ``sets``: every other time index (several truths) mapped to its (live truth,
      confirmed estimates) point sets, scored one assignment at a time.

    One computation serves OSPA and GOSPA.
    """
    n_times = rows.times.size
    m = rows.valid.sum(axis=0)
    n = np.bincount(rows.k, minlength=n_times)
    both = np.flatnonzero((m == 1) & (n == 1))
    d = np.full(n_times, np.nan)
    if both.size:
        obj = np.argmax(rows.valid[:, both], axis=0)
        est = np.zeros(n_times, dtype=np.intp)
        est[rows.k] = np.arange(rows.k.size)  # the one row at each such time
        diff = rows.truth_state[obj, both, part] - rows.state[est[both], part]
        d[both] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    order = np.argsort(rows.k, kind="stable")  # the rows of time kk: order[lo[kk]:hi[kk]]
    hi = np.cumsum(n)
    lo = hi - n
    kk = np.flatnonzero((m <= 1) & (n > 1))
    sizes = n[kk]
    start = np.cumsum(sizes) - sizes
    seg = np.repeat(np.arange(kk.size), sizes)
    est = order[np.repeat(lo[kk] - start, sizes) + np.arange(seg.size)]
    dist = np.full(seg.size, np.nan)
    if rows.valid.shape[0]:
        obj = np.argmax(rows.valid[:, kk], axis=0)  # the one truth (any object where none)
        diff = rows.truth_state[obj[seg], kk[seg], part] - rows.state[est, part]
        dist = np.sqrt(np.einsum("ijk,ijk->ij", diff[None], diff[None]))[0]  # as _distances
    # a time with a NaN estimate goes to linear_sum_assignment (which refuses it), as before
    invalid = np.zeros(kk.size, dtype=bool)
    if kk.size:
        invalid = (m[kk] == 1) & np.logical_or.reduceat(np.isnan(dist), start)
    several = np.union1d(np.flatnonzero(m > 1), kk[invalid])
    if np.any(invalid):
        kk, sizes, dist = kk[~invalid], sizes[~invalid], dist[~invalid[seg]]
        start = np.cumsum(sizes) - sizes
    sets = {
        k: (rows.truth_state[rows.valid[:, k], k, part], rows.state[order[lo[k]:hi[k]], part])
        for k in several.tolist()
    }
    return rows.times, (m, n, d), (kk, m[kk], sizes, start, dist), sets


def ospa_over_time(
    tracks: pa.Table,
    trajectory: Trajectory,
    *,
    c_m: float = DEFAULT_CUTOFF_M,
    p: float = 2.0,
    component: str = "position",
    node: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """OSPA between confirmed tracks and live truth at every distinct time of a Tracks table.

    At each time t of the table (all statuses, so a scan where nothing is confirmed yet
    scores c while a threat is alive), the set of confirmed track estimates at t is compared
    with the truth objects alive at t, interpolated there (cubic Hermite,
    :func:`~hyperdef.sensors.truth.truth_at`).

    Parameters
    ----------
    tracks : pyarrow.Table
        Tracks table (DESIGN.md): t, track_id, node, status, x, y, z, vx, vy, vz (ECEF).
    trajectory : Trajectory
        Truth of the B objects.
    c_m : float
        Cut-off, m (m/s for ``component="velocity"``).
    p : float
        Order, 1 <= p < inf.
    component : {"position", "velocity", "state"}
        Which part of the ECEF state is compared (``state``: the 6-vector, m and m/s mixed).
    node : str, optional
        Score only this node's tracks.

    Returns
    -------
    t_s : ndarray, shape (K,)
        Distinct times of the table, s from epoch, increasing.
    ospa : ndarray, shape (K,)
        OSPA distance at each.
    """
    _check_common(c_m, p, node)
    part = _component(component)
    return _ospa_over_time(_sets_over_time(_rows(tracks, trajectory, node), part),
                           float(c_m), float(p))


def _ospa_over_time(scored, c: float, p: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ospa_over_time` of the point sets of :func:`_sets_over_time`."""
    times, (m, n, d), (few, m_few, n_few, start, dist), sets = scored
    # at most one point a side: 0 (both empty), c (one empty) or the cut distance
    values = np.where((m == 0) & (n == 0), 0.0, np.where((m == 0) | (n == 0), c, (
        np.minimum(d, c) ** p) ** (1.0 / p)))
    if few.size:  # one truth (or none) and several estimates: the nearest is assigned
        least = np.minimum.reduceat(np.minimum(dist, c) ** p, start)
        base = (least + c**p * (n_few - m_few)) / n_few
        values[few] = np.where(m_few == 1, [v ** (1.0 / p) for v in base.tolist()], c)
    for kk, (x, y) in sets.items():  # several threats at once
        values[kk] = _ospa(x, y, c, p)
    return times, values


def gospa_over_time(
    tracks: pa.Table,
    trajectory: Trajectory,
    *,
    c_m: float = DEFAULT_CUTOFF_M,
    p: float = 2.0,
    alpha: float = 2.0,
    component: str = "position",
    node: str | None = None,
) -> tuple[np.ndarray, GospaResult]:
    """GOSPA between confirmed tracks and live truth at every distinct time of a Tracks table.

    As :func:`ospa_over_time`, with the truth as the first set (missed = live truth not
    tracked, false = confirmed tracks on nothing).

    Returns
    -------
    t_s : ndarray, shape (K,)
    result : GospaResult
        Every field an array of shape (K,).
    """
    _check_common(c_m, p, node)
    if not (0.0 < alpha <= 2.0):
        raise InputError(f"alpha: must be in (0, 2], got {alpha}")
    part = _component(component)
    return _gospa_over_time(_sets_over_time(_rows(tracks, trajectory, node), part),
                            float(c_m), float(p), float(alpha))


def _gospa_over_time(scored, c: float, p: float, alpha: float
                     ) -> tuple[np.ndarray, GospaResult]:
    """:func:`gospa_over_time` of the point sets of :func:`_sets_over_time`."""
    times, (m, n, d), few, sets = scored
    # at most one point a side (as _gospa): a pair farther than c counts as missed + false
    pair = (m == 1) & (n == 1)
    if alpha == 2.0:
        cut = pair & ~(d < c)
        localisation = np.where(pair & ~cut, d**p, 0.0)
    else:
        cut = np.zeros(times.size, dtype=bool)
        localisation = np.where(pair, np.minimum(d, c) ** p, 0.0)
    assigned = pair.astype(np.int64)
    n_missed = m - assigned + cut
    n_false = n - assigned + cut
    dummy = c**p / alpha
    result = {"localisation": localisation, "missed": dummy * n_missed,
              "false": dummy * n_false, "n_missed": n_missed.astype(np.int64),
              "n_false": n_false.astype(np.int64)}
    result["distance"] = (result["localisation"] + result["missed"] + result["false"]) ** (
        1.0 / p)
    _gospa_few(result, few, c, p, alpha)
    for kk, (x, y) in sets.items():  # several threats at once
        one = _gospa(x, y, c, p, alpha)
        for name, values in result.items():
            values[kk] = getattr(one, name)
    return times, GospaResult(**result)


def _gospa_few(result: dict, few, c: float, p: float, alpha: float) -> None:
    """Write into ``result`` the GOSPA of the times with one truth (or none) and several
    estimates (``few`` of :func:`_sets_over_time`), each value as :func:`_gospa` gives it:
    the truth assigned to the first estimate of least cost."""
    kk, m, n, start, dist = few
    if kk.size == 0:
        return
    cost = np.minimum(dist, c) ** p
    least = np.minimum.reduceat(cost, start)
    seg = np.repeat(np.arange(kk.size), n)
    first = np.full(kk.size, -1)
    at_least = np.flatnonzero(cost == least[seg])[::-1]
    first[seg[at_least]] = at_least  # the first of each time's (written last)
    one = m == 1
    if alpha == 2.0:
        d_pick = dist[first]
        inside = one & (d_pick < c)
        localisation = np.where(inside, d_pick**p, 0.0)
        n_cut = (one & ~inside).astype(np.int64)
    else:
        localisation = np.where(one, least, 0.0)
        n_cut = np.zeros(kk.size, dtype=np.int64)
    assigned = one.astype(np.int64)
    n_missed = m - assigned + n_cut
    n_false = n - assigned + n_cut
    dummy = c**p / alpha
    missed, false = dummy * n_missed, dummy * n_false
    total = localisation + missed + false
    for name, values in (("localisation", localisation), ("missed", missed), ("false", false),
                         ("n_missed", n_missed), ("n_false", n_false),
                         ("distance", [v ** (1.0 / p) for v in total.tolist()])):
        result[name][kk] = values


# ------------------------------------------------------------------------------ truth assignment


@dataclass(frozen=True, slots=True)
class TruthAssignment:
    """Confirmed track rows tied to the truth object each follows.

    Attributes
    ----------
    row : ndarray of int, shape (R,)
        Row of each confirmed row in the (node-filtered) Tracks table.
    t : ndarray, shape (R,)
        Time, s from epoch.
    track_id : ndarray, shape (R,)
    object_index : ndarray of int, shape (R,)
        Truth object followed, -1 where none (false, duplicate or gated out).
    error : ndarray, shape (R, 6)
        Estimate minus truth, ECEF (m, m/s); NaN where ``object_index`` is -1.
    times : ndarray, shape (K,)
        Distinct times of the table.
    by : str
        ``truth_id`` or ``distance``: how the tie was made.
    """

    row: np.ndarray
    t: np.ndarray
    track_id: np.ndarray
    object_index: np.ndarray
    error: np.ndarray
    times: np.ndarray
    by: str


def _resolve_mode(by: str, rows: _Rows) -> str:
    if by not in _ASSIGN_MODES:
        raise InputError(f"by: {by!r} not one of {', '.join(_ASSIGN_MODES)}")
    if by == "auto":
        return "truth_id" if rows.truth_id is not None else "distance"
    if by == "truth_id" and rows.truth_id is None:
        raise InputError("by: 'truth_id' asked for but tracks has no truth_id column")
    return by


def _assign(rows: _Rows, by: str, gate_m: float) -> np.ndarray:
    n_obj = rows.valid.shape[0]
    obj = np.full(rows.t.size, -1, dtype=np.int64)
    if by == "truth_id":
        tid = rows.truth_id
        ok = (tid >= 0) & (tid < n_obj)
        cand = np.flatnonzero(ok)
        cand = cand[rows.valid[tid[cand], rows.k[cand]]]
        truth_r = rows.truth_state[tid[cand], rows.k[cand], :3]
        d = np.linalg.norm(rows.state[cand, :3] - truth_r, axis=1)
        keep = d <= gate_m
        cand, d = cand[keep], d[keep]
        # one row per (time, object): the nearest keeps it
        order = np.lexsort((d, tid[cand], rows.k[cand]))
        cand = cand[order]
        first = np.ones(cand.size, dtype=bool)
        first[1:] = (rows.k[cand][1:] != rows.k[cand][:-1]) | (tid[cand][1:] != tid[cand][:-1])
        cand = cand[first]
        obj[cand] = tid[cand]
        return obj
    for kk, g in enumerate(_groups(rows.k, rows.times.size)):
        alive = np.flatnonzero(rows.valid[:, kk])
        if g.size == 0 or alive.size == 0:
            continue
        dist = _distances(rows.state[g, :3], rows.truth_state[alive, kk, :3])
        r_idx, c_idx = linear_sum_assignment(dist)
        keep = dist[r_idx, c_idx] <= gate_m
        obj[g[r_idx[keep]]] = alive[c_idx[keep]]
    return obj


def _assignment(rows: _Rows, by: str, gate_m: float) -> TruthAssignment:
    mode = _resolve_mode(by, rows)
    if not gate_m > 0:
        raise InputError(f"gate_m: must be a positive distance (inf for none), got {gate_m}")
    obj = _assign(rows, mode, float(gate_m))
    error = np.full((obj.size, 6), np.nan)
    hit = obj >= 0
    error[hit] = rows.state[hit] - rows.truth_state[obj[hit], rows.k[hit]]
    return TruthAssignment(
        row=rows.row,
        t=rows.t,
        track_id=rows.track_id,
        object_index=obj,
        error=error,
        times=rows.times,
        by=mode,
    )


def assign_truth(
    tracks: pa.Table,
    trajectory: Trajectory,
    *,
    by: str = "auto",
    gate_m: float = np.inf,
    node: str | None = None,
) -> TruthAssignment:
    """Tie every confirmed row of a Tracks table to the truth object it follows.

    Parameters
    ----------
    tracks : pyarrow.Table
        Tracks table (DESIGN.md), optionally with the evaluation-only ``truth_id`` column.
    trajectory : Trajectory
        Truth of the B objects; ``truth_id`` is the object index.
    by : {"auto", "truth_id", "distance"}
        How (module docstring).
    gate_m : float
        Pairs farther apart in position than this are left unassigned, m.
    node : str, optional
        Score only this node's tracks.

    Returns
    -------
    TruthAssignment
    """
    _check_common(None, None, node)
    rows = _rows(tracks, trajectory, node)
    return _assignment(rows, by, gate_m)


# ------------------------------------------------------------------------------ RMSE


@dataclass(frozen=True, slots=True)
class RmseResult:
    """Root-mean-square error of confirmed tracks against the truth they follow.

    Every assigned confirmed row is one sample; errors are 3-D Euclidean norms.

    Attributes
    ----------
    pos_m, vel_m_s : float
        Over all samples; NaN when there are none.
    pos_per_object_m, vel_per_object_m_s : ndarray, shape (B,)
        Per truth object; NaN for an object never tracked.
    n_samples : ndarray of int, shape (B,)
        Samples per object.
    """

    pos_m: float
    vel_m_s: float
    pos_per_object_m: np.ndarray
    vel_per_object_m_s: np.ndarray
    n_samples: np.ndarray


def _rmse(a: TruthAssignment, n_obj: int) -> RmseResult:
    hit = a.object_index >= 0
    obj = a.object_index[hit]
    e2_pos = np.sum(a.error[hit, :3] ** 2, axis=1)
    e2_vel = np.sum(a.error[hit, 3:] ** 2, axis=1)
    counts = np.bincount(obj, minlength=n_obj)
    with np.errstate(invalid="ignore", divide="ignore"):
        pos_obj = np.sqrt(np.bincount(obj, e2_pos, minlength=n_obj) / counts)
        vel_obj = np.sqrt(np.bincount(obj, e2_vel, minlength=n_obj) / counts)
    n = obj.size
    return RmseResult(
        pos_m=float(np.sqrt(e2_pos.mean())) if n else float("nan"),
        vel_m_s=float(np.sqrt(e2_vel.mean())) if n else float("nan"),
        pos_per_object_m=pos_obj,
        vel_per_object_m_s=vel_obj,
        n_samples=counts,
    )


def rmse(
    tracks: pa.Table,
    trajectory: Trajectory,
    *,
    by: str = "auto",
    gate_m: float = np.inf,
    node: str | None = None,
) -> RmseResult:
    """Position and velocity RMSE of confirmed tracks against the truth each follows.

    Rows are tied to truth by :func:`assign_truth` (``truth_id`` when carried, else the
    optimal assignment per time); unassigned rows do not count.

    Returns
    -------
    RmseResult
    """
    a = assign_truth(tracks, trajectory, by=by, gate_m=gate_m, node=node)
    return _rmse(a, trajectory.n_objects)


# ------------------------------------------------------------------------------ consistency


def _quadratic_form(err: np.ndarray, cov: np.ndarray, names: tuple[str, str]) -> np.ndarray:
    e = np.asarray(err, dtype=float)
    c = np.asarray(cov, dtype=float)
    if e.ndim == 1:
        e, c = e[None], c[None] if c.ndim == 2 else c
    if c.ndim != 3 or c.shape[-2:] != (e.shape[-1], e.shape[-1]) or c.shape[0] != e.shape[0]:
        raise InputError(
            f"{names[1]}: expected shape ({e.shape[0]}, {e.shape[-1]}, {e.shape[-1]}) "
            f"to match {names[0]} {e.shape}, got {c.shape}"
        )
    return np.einsum("ni,ni->n", e, np.linalg.solve(c, e[..., None])[..., 0])


def nees(x_err: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Normalised estimation error squared ``e^T P^-1 e`` of each estimate.

    Parameters
    ----------
    x_err : ndarray, shape (N, n)
        Estimate minus truth.
    P : ndarray, shape (N, n, n)
        Covariance the filter reports for each estimate.

    Returns
    -------
    ndarray, shape (N,)
        Chi-square with n degrees of freedom for a consistent filter.

    References
    ----------
    Bar-Shalom, Li & Kirubarajan 2001, §5.4.2, eq. (5.4.2-1).
    """
    return _quadratic_form(x_err, P, ("x_err", "P"))


def nis(nu: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Normalised innovation squared ``nu^T S^-1 nu`` of each update.

    Parameters
    ----------
    nu : ndarray, shape (N, m)
        Innovations (measurement minus prediction).
    S : ndarray, shape (N, m, m)
        Innovation covariances.

    Returns
    -------
    ndarray, shape (N,)
        Chi-square with m degrees of freedom for a consistent filter.

    References
    ----------
    Bar-Shalom, Li & Kirubarajan 2001, §5.4.2, eq. (5.4.2-8).
    """
    return _quadratic_form(nu, S, ("nu", "S"))


def chi2_band(dof: int, n_runs: int = 1, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided acceptance band for the average of n_runs NEES (or NIS) values.

    For a consistent filter the sum of n_runs independent NEES values of dimension ``dof``
    is chi-square with ``n_runs * dof`` degrees of freedom; the band for the average is
    ``chi2.ppf([(1 - confidence) / 2, (1 + confidence) / 2], n_runs * dof) / n_runs``.

    Parameters
    ----------
    dof : int
        State (NEES) or measurement (NIS) dimension, >= 1.
    n_runs : int
        Number of values averaged (Monte Carlo runs), >= 1.
    confidence : float
        Probability mass inside the band, in (0, 1).

    Returns
    -------
    lo, hi : float

    References
    ----------
    Bar-Shalom, Li & Kirubarajan 2001, §5.4.2, eqs. (5.4.2-2) to (5.4.2-6).
    """
    if int(dof) != dof or dof < 1:
        raise InputError(f"dof: must be a positive integer, got {dof}")
    if int(n_runs) != n_runs or n_runs < 1:
        raise InputError(f"n_runs: must be a positive integer, got {n_runs}")
    if not (0.0 < confidence < 1.0):
        raise InputError(f"confidence: must be in (0, 1), got {confidence}")
    k = int(dof) * int(n_runs)
    q = np.array([(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    lo, hi = chi2.ppf(q, k) / n_runs
    return float(lo), float(hi)


def fraction_inside_band(values: np.ndarray, lo: float, hi: float) -> float:
    """Fraction of finite ``values`` within ``[lo, hi]`` (NaN when none is finite).

    Parameters
    ----------
    values : ndarray, any shape
        E.g. the run-averaged NEES at each time step, shape (K,).
    lo, hi : float
        Band from :func:`chi2_band`.
    """
    v = np.asarray(values, dtype=float).reshape(-1)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    return float(np.mean((v >= lo) & (v <= hi)))


def track_nees(
    tracks: pa.Table,
    trajectory: Trajectory,
    *,
    by: str = "auto",
    gate_m: float = np.inf,
    node: str | None = None,
) -> tuple[TruthAssignment, np.ndarray]:
    """6-state NEES of every assigned confirmed row, from its ``P`` column.

    Returns
    -------
    assignment : TruthAssignment
    nees : ndarray, shape (R,)
        NEES (6 degrees of freedom) per confirmed row; NaN where the row is unassigned or its
        P is missing or singular.
    """
    _check_common(None, None, node)
    return _track_nees(_rows(tracks, trajectory, node), by, gate_m)


def _track_nees(rows: _Rows, by: str, gate_m: float) -> tuple[TruthAssignment, np.ndarray]:
    """:func:`track_nees` of the scored rows of :func:`_rows`."""
    a = _assignment(rows, by, gate_m)
    P = _covariances(rows.table, a.row)
    out = np.full(a.row.size, np.nan)
    hit = (a.object_index >= 0) & np.all(np.isfinite(P), axis=(1, 2))
    if np.any(hit):
        Ph = P[hit]
        ok = np.linalg.matrix_rank(Ph) == 6
        idx = np.flatnonzero(hit)[ok]
        out[idx] = nees(a.error[idx], Ph[ok])
    return a, out


def _covariances(tracks: pa.Table, rows: np.ndarray) -> np.ndarray:
    """The ``P`` of the table's ``rows``, (R, 6, 6); NaN where missing or not 36 values."""
    P = np.full((rows.size, 6, 6), np.nan)
    if "P" not in tracks.column_names or rows.size == 0:
        return P
    col = tracks["P"]
    if col.null_count == 0 and pc.all(pc.equal(pc.list_value_length(col), 36)).as_py():
        # every row 36 values (the tracker's tables): the rows of the flat values
        flat = pc.list_flatten(col).to_numpy(zero_copy_only=False)
        return np.asarray(flat, dtype=float).reshape(-1, 6, 6)[rows]
    col = col.combine_chunks().take(pa.array(rows))
    lengths = pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False)
    good = lengths == 36
    if np.any(good):
        flat = pc.list_flatten(col.filter(pa.array(good))).to_numpy(zero_copy_only=False)
        P[good] = np.asarray(flat, dtype=float).reshape(-1, 6, 6)
    return P


# ------------------------------------------------------------------------------ continuity


@dataclass(frozen=True, slots=True)
class TrackContinuity:
    """Breaks, identity switches and swaps (definitions in :func:`track_breaks_and_swaps`).

    Attributes
    ----------
    breaks : ndarray of int, shape (B,)
        Per truth object: distinct confirmed track ids that followed it, minus 1 (0 if none).
    id_switches : ndarray of int, shape (B,)
        Per truth object: CLEAR MOT identity switches.
    track_ids : ndarray, shape (T,)
        Confirmed track ids that followed some object, sorted.
    swaps_per_track : ndarray of int, shape (T,)
        Times each of those tracks moved from one object to another.
    """

    breaks: np.ndarray
    id_switches: np.ndarray
    track_ids: np.ndarray
    swaps_per_track: np.ndarray

    @property
    def total_breaks(self) -> int:
        return int(self.breaks.sum())

    @property
    def total_id_switches(self) -> int:
        return int(self.id_switches.sum())

    @property
    def total_swaps(self) -> int:
        return int(self.swaps_per_track.sum())


def _continuity(a: TruthAssignment, n_obj: int) -> TrackContinuity:
    hit = a.object_index >= 0
    obj, tid, t = a.object_index[hit], a.track_id[hit], a.t[hit]
    # ids as dense integers so any id type (int or str) sorts and compares
    uid, tcode = np.unique(tid, return_inverse=True)
    tcode = tcode.reshape(-1)
    pairs = np.unique(np.stack([obj, tcode], axis=1), axis=0) if obj.size else np.empty((0, 2))
    held = np.bincount(pairs[:, 0].astype(np.int64), minlength=n_obj)
    breaks = np.maximum(held - 1, 0)
    # truth side: consecutive (in time) holders of an object that differ
    order = np.lexsort((t, obj))
    o, c = obj[order], tcode[order]
    change = (o[1:] == o[:-1]) & (c[1:] != c[:-1])
    id_switches = np.bincount(o[1:][change], minlength=n_obj)
    # track side: consecutive objects of a track that differ
    order = np.lexsort((t, tcode))
    o, c = obj[order], tcode[order]
    moved = (c[1:] == c[:-1]) & (o[1:] != o[:-1])
    swaps = np.bincount(c[1:][moved], minlength=uid.size)
    return TrackContinuity(
        breaks=breaks.astype(np.int64),
        id_switches=id_switches.astype(np.int64),
        track_ids=uid,
        swaps_per_track=swaps.astype(np.int64),
    )


def track_breaks_and_swaps(
    tracks: pa.Table,
    trajectory: Trajectory,
    *,
    by: str = "auto",
    gate_m: float = np.inf,
    node: str | None = None,
) -> TrackContinuity:
    """Track breaks (fragmentation), identity switches and track swaps.

    With every confirmed row tied to a truth object by :func:`assign_truth`:

    - **breaks** of an object: the number of distinct confirmed track ids that followed it
      over its life, minus 1 (an object followed by track A, then after A is lost by track
      B, has 1 break);
    - **identity switches** of an object (CLEAR MOT, Bernardin & Stiefelhagen 2008, §2.1):
      the times the track following it differs from the one that last followed it (gaps,
      where no track follows it, keep the last one); a lost-and-reacquired object counts 1,
      two tracks that exchange their objects count 2 (one per object);
    - **swaps** of a track: the times the object it follows differs from the one it last
      followed (two tracks exchanging objects: 2 swaps; a break alone: 0).

    Unlike CLEAR MOT, the per-time assignment is not biased to keep earlier correspondences
    (with ``by="truth_id"`` the tracker's own association decides, which is what is scored).

    Returns
    -------
    TrackContinuity
    """
    a = assign_truth(tracks, trajectory, by=by, gate_m=gate_m, node=node)
    return _continuity(a, trajectory.n_objects)


# ------------------------------------------------------------------------------ time to confirm


@dataclass(frozen=True, slots=True)
class ConfirmTimes:
    """When each truth object became first seen and first held by a confirmed track.

    Attributes
    ----------
    t_start_s : ndarray, shape (B,)
        First detection of the object (or its first truth sample when no detections are
        given), s from epoch; NaN if never detected.
    t_confirm_s : ndarray, shape (B,)
        First time a confirmed track follows it; NaN if never.
    delay_s : ndarray, shape (B,)
        ``t_confirm_s - t_start_s``; NaN where either is.
    """

    t_start_s: np.ndarray
    t_confirm_s: np.ndarray
    delay_s: np.ndarray


def _confirm_times(
    a: TruthAssignment, trajectory: Trajectory, detections: pa.Table | None
) -> ConfirmTimes:
    n_obj = trajectory.n_objects
    if detections is None:
        start = trajectory.t[trajectory.offsets[:-1]].astype(float)
    else:
        for name in ("t", "truth_id"):
            if name not in detections.column_names:
                raise InputError(f"detections: missing column {name!r}")
        dt = detections["t"].to_numpy(zero_copy_only=False).astype(float)
        did = np.asarray(
            pc.fill_null(detections["truth_id"], -1).to_numpy(zero_copy_only=False), np.int64
        )
        ok = (did >= 0) & (did < n_obj)
        start = np.full(n_obj, np.inf)
        np.minimum.at(start, did[ok], dt[ok])
        start[np.isinf(start)] = np.nan
    hit = a.object_index >= 0
    confirm = np.full(n_obj, np.inf)
    np.minimum.at(confirm, a.object_index[hit], a.t[hit])
    confirm[np.isinf(confirm)] = np.nan
    return ConfirmTimes(t_start_s=start, t_confirm_s=confirm, delay_s=confirm - start)


#: longest gap between a track's confirmed rows still counted as held, s (metrics notes)
HELD_GAP_S = 10.0


def held_intervals(a: TruthAssignment, n_objects: int,
                   max_gap_s: float = HELD_GAP_S) -> list[np.ndarray]:
    """Per object, the stretches of time a confirmed track follows it.

    The distinct times at which some confirmed row is tied to the object are joined into
    intervals wherever consecutive times are at most ``max_gap_s`` apart (a track is held
    between scans).

    Returns
    -------
    list of ndarray, length B, each shape (k, 2)
        Sorted, disjoint ``(start, end)`` intervals, s (k = 0 for an untracked object).
    """
    hit = a.object_index >= 0
    pairs = np.unique(np.column_stack([a.object_index[hit], a.t[hit]]), axis=0)
    if pairs.size == 0:
        return [np.zeros((0, 2)) for _ in range(n_objects)]
    obj, t = pairs[:, 0].astype(np.int64), pairs[:, 1]  # sorted by object, then time
    first = np.r_[True, (obj[1:] != obj[:-1]) | (np.diff(t) > max_gap_s)]
    last = np.r_[first[1:], True]
    starts, ends, owner = t[first], t[last], obj[first]
    cut = np.searchsorted(owner, np.arange(n_objects + 1))
    return [np.column_stack([starts[cut[i]:cut[i + 1]], ends[cut[i]:cut[i + 1]]])
            for i in range(n_objects)]


def _completeness(a: TruthAssignment, trajectory: Trajectory,
                  max_gap_s: float = HELD_GAP_S) -> np.ndarray:
    """Fraction of each object's flight a confirmed track follows it: the length of its
    :func:`held_intervals`, clipped to the flight, over the flight time. Shape (B,), NaN
    for an object whose flight has no duration."""
    starts = trajectory.t[trajectory.offsets[:-1]].astype(float)
    ends = trajectory.t[trajectory.offsets[1:] - 1].astype(float)
    held = held_intervals(a, trajectory.n_objects, max_gap_s)
    covered = np.array([np.sum(np.clip(h[:, 1], s, e) - np.clip(h[:, 0], s, e))
                        for h, s, e in zip(held, starts, ends, strict=True)])
    duration = ends - starts
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(duration > 0, covered / duration, np.nan)


def time_to_confirm(
    tracks: pa.Table,
    trajectory: Trajectory,
    detections: pa.Table | None = None,
    *,
    by: str = "auto",
    gate_m: float = np.inf,
    node: str | None = None,
) -> ConfirmTimes:
    """Time from each object's first detection to the first confirmed track following it.

    Parameters
    ----------
    tracks : pyarrow.Table
        Tracks table.
    trajectory : Trajectory
        Truth of the B objects.
    detections : pyarrow.Table, optional
        Detections table (columns ``t``, ``truth_id``); the start is each object's earliest
        true report. Without it, the start is the object's first truth sample (launch), which
        includes the time before any sensor could see it.

    Returns
    -------
    ConfirmTimes
    """
    a = assign_truth(tracks, trajectory, by=by, gate_m=gate_m, node=node)
    return _confirm_times(a, trajectory, detections)


# ------------------------------------------------------------------------------ summary


def _num(value) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None


def summary(
    tracks: pa.Table,
    trajectory: Trajectory,
    detections: pa.Table | None = None,
    *,
    c_m: float = DEFAULT_CUTOFF_M,
    p: float = 2.0,
    by: str = "auto",
    gate_m: float = np.inf,
    node: str | None = None,
) -> dict:
    """Headline tracking figures as plain Python numbers (None where undefined).

    Keys: ``ospa_mean_m`` and ``gospa_mean_m`` (position, over the table's distinct times),
    ``rmse_pos_m``, ``rmse_vel_m_s``, ``rmse_pos_per_object_m``, ``nees_mean`` (6-state,
    over assigned rows with a valid P; 6 for a consistent tracker), ``breaks``,
    ``id_switches``, ``swaps`` (totals), ``breaks_per_object``, ``first_detection_s``,
    ``time_to_confirm_s``, ``track_completeness`` (per object, lists of length B: the
    fraction of the flight a confirmed track follows the object, joining confirmed rows
    at most :data:`HELD_GAP_S` apart), ``assigned_by``, ``cutoff_m``, ``order_p``.
    """
    _check_common(c_m, p, node)
    # the scored rows, the truth at their times and the point sets, once for all figures
    rows = _rows(tracks, trajectory, node)
    scored = _sets_over_time(rows, _COMPONENTS["position"])
    _, o = _ospa_over_time(scored, float(c_m), float(p))
    _, g = _gospa_over_time(scored, float(c_m), float(p), 2.0)
    a, ne = _track_nees(rows, by, gate_m)
    n_obj = trajectory.n_objects
    err = _rmse(a, n_obj)
    cont = _continuity(a, n_obj)
    ttc = _confirm_times(a, trajectory, detections)
    finite_nees = ne[np.isfinite(ne)]
    return {
        "ospa_mean_m": _num(o.mean()) if o.size else None,
        "gospa_mean_m": _num(np.mean(g.distance)) if o.size else None,
        "rmse_pos_m": _num(err.pos_m),
        "rmse_vel_m_s": _num(err.vel_m_s),
        "rmse_pos_per_object_m": [_num(v) for v in err.pos_per_object_m],
        "nees_mean": _num(finite_nees.mean()) if finite_nees.size else None,
        "breaks": cont.total_breaks,
        "id_switches": cont.total_id_switches,
        "swaps": cont.total_swaps,
        "breaks_per_object": [int(v) for v in cont.breaks],
        "first_detection_s": [_num(v) for v in ttc.t_start_s],
        "time_to_confirm_s": [_num(v) for v in ttc.delay_s],
        "track_completeness": [_num(v) for v in _completeness(a, trajectory)],
        "assigned_by": a.by,
        "cutoff_m": float(c_m),
        "order_p": float(p),
    }
