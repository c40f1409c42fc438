"""Coalition fusion: central measurement fusion and track-to-track fusion.

Two architectures combine what several nations sense (DESIGN.md, coalition markings):

Central measurement fusion (:func:`central_fusion`)
    One tracker runs on the union of every report released to the fusing nation. It is
    *the same tracker* (:func:`hyperdef.tracking.tracker.run_tracker`, same settings) as a
    national one; only its input is larger: ``released_to(detections, node)`` holds the
    node's own reports and every partner report marked releasable to it. This is the
    optimal architecture when the reports can be shared (each report is used once, no
    double counting) and the baseline for track-to-track fusion.

Track-to-track fusion (:func:`associate_tracks`, :func:`fuse_tracks`)
    Each nation tracks with its own sensors and shares tracks. At a common time ``t_s``
    each Tracks table is reduced to its latest scan at or before ``t_s`` (rows of status
    ``confirmed`` by default), and those states are predicted to ``t_s`` with a nearly
    constant-velocity model (:class:`hyperdef.tracking.models.ConstantVelocity`:
    ``x <- F x``, ``P <- F P F^T + Q``). Tracks of two nations are associated by GNN
    (:func:`hyperdef.tracking.association.gnn`) on the chi-square statistic of the 6-D
    position-velocity difference, ``d2 = (x_a - x_b)^T (P_a + P_b)^-1 (x_a - x_b)``,
    gated at the ``gate_probability`` quantile of chi-square with 6 degrees of freedom
    (the cross-covariance of the two estimates is unknown and taken as zero, [BS81]).
    Associated pairs are fused by

    - covariance intersection (``method='ci'``, :func:`covariance_intersection`, [JU97]):
      consistent whatever the (unknown) correlation of the two errors, e.g. from a common
      process noise or from reports both nations received;
    - the naive information sum (``method='naive'``, :func:`naive_fusion`): optimal only
      if the errors are independent, over-confident when they are correlated.

    With more than two nations the tables are fused in turn (dict order): the running
    fused picture is associated with the next nation's tracks, pairs are fused and
    unassociated tracks of either side are carried on as they are.

Markings of a fused product
    A fused track's marking is the intersection of the markings of its sources
    (:func:`hyperdef.core.markings.intersect_markings`). When no nation may receive all
    of them, the fused track cannot be released as one product: it is left out of the
    fused picture and counted in ``not_releasable`` (the inputs stay with their owners).
    With ``node=`` given, each input table is first reduced to the rows released to that
    nation (:func:`hyperdef.tracking.nodes.released_to`): a nation only fuses what it holds.

Counts
    :func:`fuse_tracks` returns a plain Tracks-like table; its counts are kept, as JSON,
    in the schema metadata key ``fusion_counts`` (read with :func:`fusion_counts`):
    ``inputs`` (per node, tracks used), ``fused`` (output tracks with two or more
    sources), ``single_source``, ``not_releasable``, ``output``.

Bad input
    :class:`~hyperdef.errors.InputError` naming the field: a table key that is not a
    coalition node, a missing column, a ``P`` that is not 6x6 (36 values) or not finite,
    input tables whose schema metadata ``frame`` differ, a table whose latest scan at or
    before ``t_s`` is more than ``max_gap_s`` older than ``t_s``, an unknown ``method``,
    ``omega`` outside [0, 1], shapes that do not match. A table with no rows at or before
    ``t_s`` contributes no tracks (the nation holds no track yet).

References
----------
.. [JU97] S. J. Julier, J. K. Uhlmann, "A non-divergent estimation algorithm in the
   presence of unknown correlations", Proc. American Control Conference 1997, vol. 4,
   pp. 2369-2373, doi:10.1109/ACC.1997.609105.
.. [BS81] Y. Bar-Shalom, "On the track-to-track correlation problem", IEEE Trans.
   Automatic Control 26(2), 571-572 (1981).
.. [BWT11] Y. Bar-Shalom, P. K. Willett, X. Tian, *Tracking and Data Fusion: A Handbook of
   Algorithms*, YBS Publishing, 2011, ch. 9 (track-to-track association and fusion).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.spatial import cKDTree
from scipy.stats import chi2

from hyperdef.checks import finite
from hyperdef.core.markings import check_node, intersect_markings
from hyperdef.errors import InputError
from hyperdef.tracking.association import gnn
from hyperdef.tracking.models import ConstantVelocity
from hyperdef.tracking.nodes import released_to
from hyperdef.tracking.tracker import TRACKS_SCHEMA, TrackerConfig, TracksResult, run_tracker

__all__ = [
    "FUSED_SCHEMA",
    "TrackAssociation",
    "TrackStates",
    "associate_tracks",
    "central_fusion",
    "covariance_intersection",
    "fuse_tracks",
    "fusion_counts",
    "naive_fusion",
    "tracks_at",
]

_REQUIRED = ("t", "track_id", "status", "x", "y", "z", "vx", "vy", "vz", "P", "marking")
_STATE = ("x", "y", "z", "vx", "vy", "vz")
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
_CRITERIA = ("trace", "det")
_METHODS = ("ci", "naive")

#: The fused picture: the Tracks table columns plus ``sources`` (``NODE:track_id`` of
#: every input track fused into the row). ``node`` is the fusing nation (null if none).
FUSED_SCHEMA = TRACKS_SCHEMA.append(pa.field("sources", pa.list_(pa.string())))


# ----------------------------------------------------------------------------- central


def central_fusion(
    detections: pa.Table,
    config: TrackerConfig = TrackerConfig(),  # noqa: B008 (frozen, immutable)
    node: str = "USA",
) -> TracksResult:
    """Central measurement fusion: one tracker on every report released to ``node``.

    The same tracker as a national one (:func:`~hyperdef.tracking.tracker.run_tracker`
    with ``config``), run over the union of the coalition's reports that ``node`` may
    receive, ``released_to(detections, node)`` (module notes).

    Parameters
    ----------
    detections : pyarrow.Table
        Detections of all the coalition's sensors.
    config : TrackerConfig
        Tracker settings.
    node : str
        ISO 3166 trigraph of the fusing nation.

    Returns
    -------
    TracksResult
    """
    check_node(node, "node")
    return run_tracker(released_to(detections, node), config, node=node)


# ----------------------------------------------------------------------------- states at t


@dataclass(frozen=True, slots=True)
class TrackStates:
    """Tracks of one table at one time, predicted there.

    Attributes
    ----------
    t_s : float
        Time of the states, s from epoch.
    t_scan_s : float
        Time of the table's scan they were predicted from (NaN when empty).
    track_id : ndarray of int, shape (N,)
    x : ndarray, shape (N, 6)
        ECEF position-velocity, m and m/s.
    P : ndarray, shape (N, 6, 6)
        Covariance of ``x``.
    status, marking : ndarray of str, shape (N,)
    n_updates, truth_id : ndarray of int, shape (N,)
        -1 / 0 where the table has no such column.
    """

    t_s: float
    t_scan_s: float
    track_id: np.ndarray
    x: np.ndarray
    P: np.ndarray
    status: np.ndarray
    marking: np.ndarray
    n_updates: np.ndarray
    truth_id: np.ndarray

    @property
    def n(self) -> int:
        return int(self.track_id.size)


def _column(table: pa.Table, name: str, rows: np.ndarray, dtype, default) -> np.ndarray:
    if name not in table.column_names:
        return np.full(rows.size, default, dtype=dtype)
    col = table.column(name).combine_chunks().take(pa.array(rows))
    if default is not None:
        col = pc.fill_null(col, default)
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=dtype)


def _covariance_rows(table: pa.Table, rows: np.ndarray, what: str) -> np.ndarray:
    col = table.column("P").combine_chunks().take(pa.array(rows))
    lengths = np.asarray(
        pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False), np.int64
    )
    bad = np.flatnonzero(lengths != 36)
    if bad.size:
        k = int(bad[0])
        raise InputError(
            f"{what}.P: row {int(rows[k])} has {int(lengths[k])} values; "
            "expected 36 (6x6 position-velocity covariance, row-major)"
        )
    flat = np.asarray(pc.list_flatten(col).to_numpy(zero_copy_only=False), dtype=float)
    P = flat.reshape(-1, 6, 6)
    bad = np.flatnonzero(~np.all(np.isfinite(P), axis=(1, 2)))
    if bad.size:
        raise InputError(f"{what}.P: row {int(rows[int(bad[0])])} is not finite")
    return P


def tracks_at(
    tracks: pa.Table,
    t_s: float,
    *,
    max_gap_s: float = 60.0,
    model: ConstantVelocity | None = None,
    statuses: tuple[str, ...] = ("confirmed",),
    name: str = "tracks",
) -> TrackStates:
    """States of a Tracks table's latest scan at or before ``t_s``, predicted to ``t_s``.

    Parameters
    ----------
    tracks : pyarrow.Table
        Tracks table (columns of :data:`_REQUIRED`; ``n_updates``, ``truth_id`` optional).
    t_s : float
        Common time, s from epoch.
    max_gap_s : float
        Largest allowed ``t_s - t_scan`` (s); beyond it the table is not a picture of
        ``t_s`` and InputError names ``{name}.t``.
    model : ConstantVelocity, optional
        Prediction model; default ``ConstantVelocity()``.
    statuses : tuple of str
        Track statuses kept (``deleted`` rows are never kept).
    name : str
        How errors name the table.

    Returns
    -------
    TrackStates
    """
    if not isinstance(tracks, pa.Table):
        raise InputError(f"{name}: expected a pyarrow.Table, got {type(tracks).__name__}")
    missing = [c for c in _REQUIRED if c not in tracks.column_names]
    if missing:
        raise InputError(f"{name}: missing columns {', '.join(missing)}")
    t_s = finite(t_s, "t_s")
    max_gap_s = finite(max_gap_s, "max_gap_s")
    if max_gap_s < 0:
        raise InputError(f"max_gap_s: {max_gap_s} must be >= 0")
    model = ConstantVelocity() if model is None else model
    t = np.asarray(pc.fill_null(tracks.column("t"), np.nan).to_numpy(zero_copy_only=False), float)
    before = np.isfinite(t) & (t <= t_s)
    empty = TrackStates(
        t_s, math.nan, np.zeros(0, np.int64), np.zeros((0, 6)), np.zeros((0, 6, 6)),
        np.zeros(0, object), np.zeros(0, object), np.zeros(0, np.int64), np.zeros(0, np.int64),
    )  # fmt: skip
    if not before.any():
        return empty
    t_scan = float(t[before].max())
    if t_s - t_scan > max_gap_s:
        raise InputError(
            f"{name}.t: latest scan at or before t_s={t_s} is at {t_scan}, "
            f"{t_s - t_scan:.3g} s earlier; allowed gap max_gap_s={max_gap_s}"
        )
    status_all = np.asarray(
        pc.fill_null(tracks.column("status"), "").to_numpy(zero_copy_only=False), object
    )
    keep = (t == t_scan) & np.isin(status_all, [s for s in statuses if s != "deleted"])
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        return TrackStates(t_s, t_scan, *(getattr(empty, f) for f in _STATES_FIELDS))
    x = np.column_stack([_column(tracks, c, rows, float, None) for c in _STATE])
    bad = np.flatnonzero(~np.all(np.isfinite(x), axis=1))
    if bad.size:
        raise InputError(f"{name}: row {int(rows[int(bad[0])])} has a non-finite state")
    P = _covariance_rows(tracks, rows, name)
    dt = np.full(rows.size, t_s - t_scan)
    x_pred, F = model.predict(x, dt)
    P_pred = F @ P @ F.transpose(0, 2, 1) + model.process_noise(x, dt)
    return TrackStates(
        t_s=t_s,
        t_scan_s=t_scan,
        track_id=_column(tracks, "track_id", rows, np.int64, -1),
        x=x_pred,
        P=_sym(P_pred),
        status=status_all[rows],
        marking=_column(tracks, "marking", rows, object, None),
        n_updates=_column(tracks, "n_updates", rows, np.int64, 0),
        truth_id=_column(tracks, "truth_id", rows, np.int64, -1),
    )


_STATES_FIELDS = ("track_id", "x", "P", "status", "marking", "n_updates", "truth_id")




def _sym(P: np.ndarray) -> np.ndarray:
    return 0.5 * (P + np.swapaxes(P, -1, -2))


# ----------------------------------------------------------------------------- association


@dataclass(frozen=True, slots=True)
class TrackAssociation:
    """Result of :func:`associate_tracks`.

    Attributes
    ----------
    a, b : TrackStates
        The two tables' tracks at ``t_s``.
    pair_a, pair_b : ndarray of int, shape (K,)
        Indices into ``a`` and ``b`` of the associated pairs.
    d2 : ndarray, shape (K,)
        Chi-square statistic of each pair (6 degrees of freedom).
    gate : float
        The chi-square gate used.
    """

    a: TrackStates
    b: TrackStates
    pair_a: np.ndarray
    pair_b: np.ndarray
    d2: np.ndarray
    gate: float

    @property
    def track_pairs(self) -> np.ndarray:
        """(K, 2) track ids ``(a.track_id, b.track_id)`` of the pairs."""
        return np.column_stack([self.a.track_id[self.pair_a], self.b.track_id[self.pair_b]])


def _associate(
    xa: np.ndarray, Pa: np.ndarray, xb: np.ndarray, Pb: np.ndarray, gate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GNN pairs of two estimate sets on the chi-square of their difference."""
    na, nb = xa.shape[0], xb.shape[0]
    none = np.zeros(0, np.intp)
    if na == 0 or nb == 0:
        return none, none, np.zeros(0)
    # position pre-gate: the 6-D statistic is at least the position one, which is at least
    # |dr|^2 / lambda_max(S_r) >= |dr|^2 / (tr Pa_r + tr Pb_r)
    tra = np.trace(Pa[:, :3, :3], axis1=1, axis2=2)
    trb = np.trace(Pb[:, :3, :3], axis1=1, axis2=2)
    radius = np.sqrt(gate * (tra + trb.max())) * (1.0 + 1e-9)
    hits = cKDTree(xb[:, :3]).query_ball_point(xa[:, :3], radius, return_sorted=True)
    counts = np.fromiter((len(h) for h in hits), dtype=np.intp, count=na)
    ia = np.repeat(np.arange(na), counts)
    ib = np.fromiter((j for h in hits for j in h), dtype=np.intp, count=int(counts.sum()))
    if ia.size == 0:
        return none, none, np.zeros(0)
    d = xa[ia] - xb[ib]
    S = Pa[ia] + Pb[ib]
    d2 = np.einsum("ki,ki->k", d, np.linalg.solve(S, d[..., None])[..., 0])
    ok = np.isfinite(d2) & (d2 <= gate)
    ia, ib, d2 = ia[ok], ib[ok], d2[ok]
    assigned = gnn(ia, ib, d2, na, nb, miss_cost=gate)
    pa_ = np.flatnonzero(assigned >= 0)
    pb_ = assigned[pa_]
    key = ia * nb + ib  # gated pairs are produced sorted by (a, b)
    pair_d2 = d2[np.searchsorted(key, pa_ * nb + pb_)]
    return pa_.astype(np.intp), pb_.astype(np.intp), pair_d2.reshape(-1)


def _gate(gate_probability: float) -> float:
    p = finite(gate_probability, "gate_probability")
    if not 0.0 < p < 1.0:
        raise InputError(f"gate_probability: {gate_probability!r} must be in (0, 1)")
    return float(chi2.ppf(p, 6))


def _check_frames(tables: Mapping[str, pa.Table]) -> None:
    frames = {}
    for key, table in tables.items():
        meta = table.schema.metadata or {}
        if b"frame" in meta:
            frames[key] = meta[b"frame"].decode(errors="replace")
    if len(set(frames.values())) > 1:
        listed = ", ".join(f"{k}: {v!r}" for k, v in frames.items())
        raise InputError(f"frame: the tables are in different frames ({listed})")


def associate_tracks(
    tracks_a: pa.Table,
    tracks_b: pa.Table,
    t_s: float,
    gate_probability: float = 0.999,
    *,
    max_gap_s: float = 60.0,
    model: ConstantVelocity | None = None,
    statuses: tuple[str, ...] = ("confirmed",),
) -> TrackAssociation:
    """Track-to-track association of two Tracks tables at a common time (module notes).

    Parameters
    ----------
    tracks_a, tracks_b : pyarrow.Table
        Tracks tables (e.g. of two nations).
    t_s : float
        Common time, s from epoch; each table's latest scan at or before it is predicted
        to it (:func:`tracks_at`).
    gate_probability : float
        Probability of the chi-square gate (6 degrees of freedom), in (0, 1).
    max_gap_s, model, statuses
        As in :func:`tracks_at`.

    Returns
    -------
    TrackAssociation

    References
    ----------
    [BS81], [BWT11] ch. 9.
    """
    _check_frames({"tracks_a": tracks_a, "tracks_b": tracks_b})
    gate = _gate(gate_probability)
    kw = {"max_gap_s": max_gap_s, "model": model, "statuses": statuses}
    a = tracks_at(tracks_a, t_s, name="tracks_a", **kw)
    b = tracks_at(tracks_b, t_s, name="tracks_b", **kw)
    ia, ib, d2 = _associate(a.x, a.P, b.x, b.P, gate)
    return TrackAssociation(a, b, ia, ib, d2, gate)


# ----------------------------------------------------------------------------- fusion rules


def _pair_inputs(x_a, P_a, x_b, P_b) -> tuple[np.ndarray, ...]:
    out = []
    for name, v, nd in (("x_a", x_a, 2), ("P_a", P_a, 3), ("x_b", x_b, 2), ("P_b", P_b, 3)):
        a = np.asarray(v, dtype=float)
        if a.ndim == nd - 1:
            a = a[None]
        if a.ndim != nd or a.shape[-1] == 0:
            raise InputError(
                f"{name}: expected shape (N, n{', n' if nd == 3 else ''}), got {a.shape}"
            )
        if not np.all(np.isfinite(a)):
            raise InputError(f"{name}: values must be finite")
        out.append(a)
    x_a, P_a, x_b, P_b = out
    n, d = x_a.shape
    for name, a, shape in (("P_a", P_a, (n, d, d)), ("x_b", x_b, (n, d)), ("P_b", P_b, (n, d, d))):
        if a.shape != shape:
            raise InputError(
                f"{name}: expected shape {shape} to match x_a {x_a.shape}, got {a.shape}"
            )
    inv = []
    for name, P in (("P_a", P_a), ("P_b", P_b)):
        try:
            L = np.linalg.cholesky(_sym(P))
        except np.linalg.LinAlgError:
            raise InputError(f"{name}: not symmetric positive definite") from None
        Linv = np.linalg.inv(L)
        inv.append(Linv.transpose(0, 2, 1) @ Linv)
    return x_a, P_a, x_b, P_b, inv[0], inv[1]


def _ci_cost(Ia: np.ndarray, Ib: np.ndarray, w: np.ndarray, criterion: str) -> np.ndarray:
    info = w[:, None, None] * Ia + (1.0 - w)[:, None, None] * Ib
    if criterion == "det":
        return -np.linalg.slogdet(info)[1]
    return np.trace(np.linalg.inv(info), axis1=1, axis2=2)


def _optimal_omega(Ia: np.ndarray, Ib: np.ndarray, criterion: str, tol: float) -> np.ndarray:
    """Vectorised golden-section search of the CI weight on [0, 1], endpoints included.

    Both criteria are convex in omega (``tr(M^-1)`` and ``-log det M`` are convex in
    ``M`` and ``M(omega)`` is affine), so the search finds the global minimum.
    """
    n = Ia.shape[0]
    lo, hi = np.zeros(n), np.ones(n)
    c, d = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    fc, fd = _ci_cost(Ia, Ib, c, criterion), _ci_cost(Ia, Ib, d, criterion)
    for _ in range(int(math.ceil(math.log(tol) / math.log(_GOLDEN)))):
        left = fc < fd  # the minimum lies in [lo, d], else in [c, hi]
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        # one new evaluation: the surviving interior point is reused
        p = np.where(left, hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo))
        fp = _ci_cost(Ia, Ib, p, criterion)
        c, d = np.where(left, p, d), np.where(left, c, p)
        fc, fd = np.where(left, fp, fd), np.where(left, fc, fp)
    mid = 0.5 * (lo + hi)
    cand = np.stack([mid, np.zeros(n), np.ones(n)], axis=1)
    cost = np.stack([_ci_cost(Ia, Ib, cand[:, k], criterion) for k in range(3)], axis=1)
    return cand[np.arange(n), np.argmin(cost, axis=1)]


def covariance_intersection(
    x_a: np.ndarray,
    P_a: np.ndarray,
    x_b: np.ndarray,
    P_b: np.ndarray,
    omega: np.ndarray | float | None = None,
    *,
    criterion: str = "trace",
    tol: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariance intersection of pairs of estimates with unknown correlation.

    ``P^-1 = w P_a^-1 + (1 - w) P_b^-1`` and
    ``x = P (w P_a^-1 x_a + (1 - w) P_b^-1 x_b)``, consistent (``P`` bounds the actual error
    covariance) for any cross-correlation of the two errors when each input is.

    Parameters
    ----------
    x_a, x_b : ndarray, shape (N, n) or (n,)
        Estimates of the same state (e.g. ECEF position-velocity, n = 6).
    P_a, P_b : ndarray, shape (N, n, n) or (n, n)
        Their covariances, symmetric positive definite.
    omega : float or ndarray, shape (N,), optional
        Weight of ``a`` in [0, 1]; ``1`` returns ``a``, ``0`` returns ``b``. Default: per
        pair the weight minimising ``criterion``, by a vectorised golden-section search
        (relative tolerance ``tol`` on [0, 1]) with the endpoints also tried.
    criterion : {'trace', 'det'}
        Minimise the trace or the determinant of the fused covariance.

    Returns
    -------
    x : ndarray, shape (N, n)
    P : ndarray, shape (N, n, n)
    omega : ndarray, shape (N,)

    References
    ----------
    [JU97].
    """
    x_a, P_a, x_b, P_b, Ia, Ib = _pair_inputs(x_a, P_a, x_b, P_b)
    n = x_a.shape[0]
    if criterion not in _CRITERIA:
        raise InputError(f"criterion: {criterion!r} is not one of {', '.join(_CRITERIA)}")
    if omega is None:
        tol = finite(tol, "tol")
        if not 0.0 < tol < 1.0:
            raise InputError(f"tol: {tol} must be in (0, 1)")
        w = _optimal_omega(Ia, Ib, criterion, tol)
    else:
        try:
            w = np.broadcast_to(np.asarray(omega, dtype=float), (n,)).copy()
        except ValueError:
            raise InputError(f"omega: shape {np.shape(omega)} does not match {n} pairs") from None
        if not np.all((w >= 0.0) & (w <= 1.0)):
            raise InputError(f"omega: values must be in [0, 1], got {omega!r}")
    wa, wb = w[:, None, None], (1.0 - w)[:, None, None]
    P = _sym(np.linalg.inv(wa * Ia + wb * Ib))
    y = wa[..., 0] * (Ia @ x_a[..., None])[..., 0] + wb[..., 0] * (Ib @ x_b[..., None])[..., 0]
    x = (P @ y[..., None])[..., 0]
    at_a, at_b = w == 1.0, w == 0.0
    x[at_a], P[at_a] = x_a[at_a], P_a[at_a]
    x[at_b], P[at_b] = x_b[at_b], P_b[at_b]
    return x, P, w


def naive_fusion(
    x_a: np.ndarray, P_a: np.ndarray, x_b: np.ndarray, P_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Information-sum fusion assuming the two errors are independent.

    ``P^-1 = P_a^-1 + P_b^-1``, ``x = P (P_a^-1 x_a + P_b^-1 x_b)``. Over-confident when the
    errors are correlated (common process noise, shared reports): use
    :func:`covariance_intersection` then.

    Parameters
    ----------
    x_a, x_b : ndarray, shape (N, n) or (n,)
    P_a, P_b : ndarray, shape (N, n, n) or (n, n)

    Returns
    -------
    x : ndarray, shape (N, n)
    P : ndarray, shape (N, n, n)

    References
    ----------
    [BWT11] ch. 9 (fusion without cross-covariance).
    """
    x_a, _, x_b, _, Ia, Ib = _pair_inputs(x_a, P_a, x_b, P_b)
    P = _sym(np.linalg.inv(Ia + Ib))
    y = (Ia @ x_a[..., None] + Ib @ x_b[..., None])[..., 0]
    return (P @ y[..., None])[..., 0], P


# ----------------------------------------------------------------------------- fused picture


def fuse_tracks(
    tables: Mapping[str, pa.Table],
    t_s: float,
    method: str = "ci",
    *,
    node: str | None = None,
    gate_probability: float = 0.999,
    max_gap_s: float = 60.0,
    model: ConstantVelocity | None = None,
    statuses: tuple[str, ...] = ("confirmed",),
    criterion: str = "trace",
) -> pa.Table:
    """Fused picture at ``t_s`` from several nations' Tracks tables (module notes).

    Parameters
    ----------
    tables : mapping of str to pyarrow.Table
        Tracks table of each nation (key: ISO 3166 trigraph), fused in this order.
    t_s : float
        Time of the picture, s from epoch.
    method : {'ci', 'naive'}
        Pair fusion rule: :func:`covariance_intersection` or :func:`naive_fusion`.
    node : str, optional
        The fusing nation: inputs are first reduced to the rows released to it and it is
        written in the ``node`` column (null when not given).
    gate_probability, max_gap_s, model, statuses
        As in :func:`associate_tracks`.
    criterion : {'trace', 'det'}
        Covariance-intersection criterion.

    Returns
    -------
    pyarrow.Table
        :data:`FUSED_SCHEMA`: one row per fused track, ``t = t_s``, ``track_id`` from 0,
        ``status`` ``confirmed`` if any source is, ``P`` the fused 6x6 covariance,
        ``model_probs`` empty, ``marking`` the intersection of the sources' markings,
        ``n_updates`` the sum of the sources', ``truth_id`` the sources' common value or
        -1 when they differ, ``sources`` ``["USA:3", "JPN:0"]``. Counts in the schema
        metadata (:func:`fusion_counts`).
    """
    if not isinstance(tables, Mapping) or not tables:
        raise InputError("tables: expected a non-empty mapping of node -> Tracks table")
    for key, table in tables.items():
        check_node(key, f"tables key {key!r}")
        if not isinstance(table, pa.Table):
            raise InputError(
                f"tables[{key!r}]: expected a pyarrow.Table, got {type(table).__name__}"
            )
    if method not in _METHODS:
        raise InputError(f"method: {method!r} is not one of {', '.join(_METHODS)}")
    if criterion not in _CRITERIA:
        raise InputError(f"criterion: {criterion!r} is not one of {', '.join(_CRITERIA)}")
    _check_frames(tables)
    if node is not None:
        check_node(node, "node")
        tables = {k: released_to(v, node) for k, v in tables.items()}
    gate = _gate(gate_probability)
    t_s = finite(t_s, "t_s")

    x = np.zeros((0, 6))
    P = np.zeros((0, 6, 6))
    sources: list[list[str]] = []
    marks: list[list[str]] = []
    confirmed: list[bool] = []
    n_upd: list[int] = []
    truths: list[set[int]] = []
    inputs: dict[str, int] = {}
    for key, table in tables.items():
        s = tracks_at(
            table, t_s, max_gap_s=max_gap_s, model=model, statuses=statuses,
            name=f"tables[{key!r}]",
        )  # fmt: skip
        inputs[key] = s.n
        ia, ib, _ = _associate(x, P, s.x, s.P, gate)
        if ia.size:
            if method == "ci":
                xf, Pf, _ = covariance_intersection(
                    x[ia], P[ia], s.x[ib], s.P[ib], criterion=criterion
                )
            else:
                xf, Pf = naive_fusion(x[ia], P[ia], s.x[ib], s.P[ib])
            x[ia], P[ia] = xf, Pf
            for i, j in zip(ia.tolist(), ib.tolist(), strict=True):
                sources[i].append(f"{key}:{int(s.track_id[j])}")
                marks[i].append(str(s.marking[j]))
                confirmed[i] = confirmed[i] or s.status[j] == "confirmed"
                n_upd[i] += int(s.n_updates[j])
                truths[i].add(int(s.truth_id[j]))
        new = np.setdiff1d(np.arange(s.n), ib)
        x = np.concatenate([x, s.x[new]])
        P = np.concatenate([P, s.P[new]])
        for j in new.tolist():
            sources.append([f"{key}:{int(s.track_id[j])}"])
            marks.append([str(s.marking[j])])
            confirmed.append(s.status[j] == "confirmed")
            n_upd.append(int(s.n_updates[j]))
            truths.append({int(s.truth_id[j])})

    fused_marks = [intersect_markings(m) for m in marks]
    keep = np.array([m is not None for m in fused_marks], dtype=bool)
    kept = np.flatnonzero(keep)
    n = kept.size
    counts = {
        "inputs": inputs,
        "fused": int(sum(len(sources[i]) > 1 for i in kept)),
        "single_source": int(sum(len(sources[i]) == 1 for i in kept)),
        "not_releasable": int((~keep).sum()),
        "output": int(n),
    }
    xk, Pk = x[kept], P[kept]

    def lists(values: np.ndarray, width: int) -> pa.ListArray:
        offsets = pa.array(np.arange(n + 1, dtype=np.int32) * width)
        return pa.ListArray.from_arrays(offsets, pa.array(values.reshape(-1), pa.float64()))

    src_flat = [s for i in kept for s in sources[i]]
    src_offsets = np.concatenate([[0], np.cumsum([len(sources[i]) for i in kept])]).astype(np.int32)
    arrays = [
        pa.array(np.full(n, t_s)),
        pa.array(np.arange(n, dtype=np.int64)),
        pa.array([node] * n, pa.string()),
        pa.array(["confirmed" if confirmed[i] else "tentative" for i in kept], pa.string()),
        *(pa.array(xk[:, k]) for k in range(6)),
        lists(Pk, 36),
        lists(np.zeros(0), 0),
        pa.array([fused_marks[i] for i in kept], pa.string()),
        pa.array(np.array([n_upd[i] for i in kept], dtype=np.int64)),
        pa.array(
            np.array(
                [next(iter(truths[i])) if len(truths[i]) == 1 else -1 for i in kept], dtype=np.int64
            )
        ),
        pa.ListArray.from_arrays(pa.array(src_offsets), pa.array(src_flat, pa.string())),
    ]
    meta = dict(FUSED_SCHEMA.metadata or {})
    meta[b"fusion_method"] = method.encode()
    meta[b"fusion_counts"] = json.dumps(counts).encode()
    return pa.Table.from_arrays(arrays, schema=FUSED_SCHEMA.with_metadata(meta))


def fusion_counts(table: pa.Table) -> dict:
    """Counts :func:`fuse_tracks` stored in a fused table's schema metadata."""
    meta = table.schema.metadata or {}
    if b"fusion_counts" not in meta:
        raise InputError("table: no 'fusion_counts' metadata (not made by fuse_tracks)")
    return json.loads(meta[b"fusion_counts"])
