"""Measurement-to-track association: spatial pre-gate, chi-square gate, GNN and JPDA.

Everything here works on *pairs*: a candidate (track, detection) pair is an entry of two
integer arrays ``track`` and ``detection`` of the same length K, and every per-pair
quantity (distance, likelihood, innovation) is an array of length K. Nothing is ever
shaped (tracks x detections), so memory and work grow with the number of pairs that
survive the gates, not with their product.

Pipeline of one scan (one sensor at one time, see :mod:`hyperdef.tracking.tracker`):

1. **Coarse pre-gate** (:func:`pregate_pairs`, :func:`pregate_radius`). A k-d tree
   ([Ben75]) over the detections' ECEF positions is queried with a ball around each
   track's predicted position. For an ``xyz`` measurement with innovation
   ``nu = z - r`` and ``S = P_r + R``, ``nu^T S^-1 nu >= |nu|^2 / lambda_max(S)`` and
   ``lambda_max(S) <= tr P_r + tr R``, so a ball of radius
   ``sqrt(g tr P_r) + max_d sqrt(g tr R_d)`` (``g`` the chi-square threshold) contains every
   detection that can pass the chi-square gate: the pre-gate returns a superset of the
   gated pairs. For ``rae``/``raer`` the same bound holds to first order with the
   detection's converted ECEF covariance
   (:func:`hyperdef.tracking.measurements.measurement_covariance_to_ecef`); a margin
   (``margin_m``) covers the curvature of the conversion. Angles-only (``los``)
   detections have no position: :func:`los_pregate_pairs` does the same on the unit
   sphere of directions seen from the sensor (angular radius = the track's pre-gate radius
   over its range, plus ``sqrt(g tr R)`` in rad, plus ``margin_rad``; a chord is never
   longer than its arc, so this is again a superset to first order).
2. **Chi-square gate** (:func:`chi2_gate`) on the candidates, batched over pairs: the
   predicted measurement of each pair's track from that detection's sensor position,
   ``S = H P H^T + R`` with the EKF linearisation of the measurement model, and the
   squared Mahalanobis distance against ``chi2.ppf(p_gate, m)`` ([BLK] section 2.4.3).
3. **Assignment**: :func:`gnn` (global nearest neighbour, a rectangular assignment with
   a miss option per track, [BP99] ch. 6, [Cro16]) or :func:`jpda` (joint probabilistic
   data association, [FBS83], [BDH09]) whose marginals feed :func:`jpda_update_ekf`.

GNN
    Pairs whose track and detection have no other gated partner are assigned directly
    (vectorised; with well-separated targets that is nearly every pair). The rest are
    split into connected components of the gate graph
    (:func:`scipy.sparse.csgraph.connected_components`) and each component is solved by
    :func:`scipy.optimize.linear_sum_assignment` on the component's cost matrix augmented
    with one "miss" column per track (cost ``miss_cost``; non-gated entries are
    infeasible). Memory is that of the largest component, not tracks x detections.

JPDA
    Clusters are the connected components of the gate graph. A cluster with one track is
    the PDA closed form (vectorised over all such clusters). A cluster with several tracks
    is enumerated exactly ([FBS83]; joint events with each detection used at most once,
    each track assigned one of its gated detections or none) while it has at most
    ``max_tracks`` tracks, ``max_detections`` detections and at most ``max_hypotheses``
    candidate events (the product over its tracks of (gated detections + 1), an upper
    bound on the number of feasible events). A larger cluster falls back to the GNN
    solution of that cluster with cost ``-log`` of the event factors, reported as hard
    marginals (beta 0 or 1) and counted in :attr:`JPDAResult.n_fallback_clusters`.
    Event weight (parametric JPDA, [FBS83], [BDH09]):
    ``prod_assigned Pd N(nu_td; 0, S_td) / lambda * prod_missed (1 - Pd Pg)`` with
    ``lambda`` the clutter spatial density in measurement units (per m^3 for ``xyz``,
    per m rad^2 for ``rae``) and ``Pg`` the gate probability.

References
----------
.. [Ben75] J. L. Bentley, "Multidimensional binary search trees used for associative
   searching", Communications of the ACM 18(9), 509-517 (1975), doi:10.1145/361002.361007.
.. [BLK] Y. Bar-Shalom, X. R. Li, T. Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley, 2001, section 2.4.3 (chi-square validation gate).
.. [BP99] S. Blackman, R. Popoli, *Design and Analysis of Modern Tracking Systems*, Artech
   House, 1999, ch. 6 (gating and GNN assignment) and ch. 7 (JPDA).
.. [Cro16] D. F. Crouse, "On implementing 2D rectangular assignment algorithms", IEEE
   Trans. Aerospace and Electronic Systems 52(4), 1679-1696 (2016),
   doi:10.1109/TAES.2016.140952 (the algorithm of ``linear_sum_assignment``).
.. [FBS83] T. E. Fortmann, Y. Bar-Shalom, M. Scheffe, "Sonar tracking of multiple targets
   using joint probabilistic data association", IEEE J. Oceanic Engineering 8(3), 173-184
   (1983), doi:10.1109/JOE.1983.1145560.
.. [BDH09] Y. Bar-Shalom, F. Daum, J. Huang, "The probabilistic data association filter",
   IEEE Control Systems Magazine 29(6), 82-100 (2009), doi:10.1109/MCS.2009.934469
   (PDAF and JPDAF, the combined innovation and the spread-of-innovations term).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hyperdef.core.frames import ecef_to_lla, enu_rotation
from hyperdef.errors import InputError
from hyperdef.tracking.filters import _sym
from hyperdef.tracking.protocols import MeasurementModel

__all__ = [
    "GateResult",
    "JPDAResult",
    "chi2_gate",
    "gnn",
    "jpda",
    "jpda_update_ekf",
    "los_directions",
    "los_pregate_pairs",
    "pregate_pairs",
    "pregate_radius",
]

_LOG_2PI = math.log(2.0 * math.pi)
_EMPTY = np.zeros(0, dtype=np.intp)


# ------------------------------------------------------------------------ pre-gate


def pregate_radius(
    track_pos_cov: np.ndarray,
    det_pos_cov: np.ndarray,
    threshold: float,
    margin_m: float = 0.0,
) -> np.ndarray:
    """Radius of the spatial pre-gate ball around each track, m.

    ``sqrt(g tr P_r) + max_d sqrt(g tr R_d) + margin`` (module notes): with it,
    :func:`pregate_pairs` returns a superset of the pairs inside the chi-square gate of
    threshold ``g`` (exactly for ``xyz``, to first order for ``rae``/``raer``).

    Parameters
    ----------
    track_pos_cov : ndarray, shape (T, 3, 3)
        Predicted ECEF position covariance of each track, m^2.
    det_pos_cov : ndarray, shape (D, 3, 3)
        ECEF position covariance of each detection, m^2 (D may be 0).
    threshold : float
        Chi-square gate threshold ``g`` (squared Mahalanobis distance).
    margin_m : float
        Added margin, m.

    Returns
    -------
    ndarray, shape (T,)
        Radii, m.
    """
    tr_p = np.maximum(np.trace(track_pos_cov, axis1=-2, axis2=-1), 0.0)
    det_part = 0.0
    if det_pos_cov.shape[0]:
        tr_r = np.trace(det_pos_cov, axis1=-2, axis2=-1)
        det_part = math.sqrt(threshold * max(float(np.nanmax(tr_r)), 0.0))
    return np.sqrt(threshold * tr_p) + det_part + margin_m


def _flatten_ball(hits: np.ndarray, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.fromiter(map(len, hits), dtype=np.intp, count=n_queries)
    total = int(counts.sum())
    if total == 0:
        return _EMPTY.copy(), _EMPTY.copy()
    di = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.intp, count=total)
    ti = np.repeat(np.arange(n_queries, dtype=np.intp), counts)
    return ti, di


def pregate_pairs(
    track_pos: np.ndarray, track_radius: np.ndarray, det_pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (track, detection) pairs from a k-d tree over the detections.

    Parameters
    ----------
    track_pos : ndarray, shape (T, 3)
        Predicted track positions (ECEF, m; or any common Cartesian frame).
    track_radius : ndarray, shape (T,)
        Ball radius around each track, same unit (:func:`pregate_radius`).
    det_pos : ndarray, shape (D, 3)
        Detection positions, finite.

    Returns
    -------
    track, detection : ndarray of int, shape (K,)
        Indices of the pairs with ``|det_pos - track_pos| <= radius``, grouped by track in
        increasing track order. Work is ``O((T + D) log D + K)``.

    References
    ----------
    [Ben75].
    """
    track_pos = np.asarray(track_pos, dtype=np.float64)
    det_pos = np.asarray(det_pos, dtype=np.float64)
    n_tracks = track_pos.shape[0]
    if n_tracks == 0 or det_pos.shape[0] == 0:
        return _EMPTY.copy(), _EMPTY.copy()
    tree = cKDTree(det_pos)
    hits = tree.query_ball_point(
        track_pos, np.asarray(track_radius, dtype=np.float64), return_sorted=False
    )
    return _flatten_ball(hits, n_tracks)


def los_directions(z_los: np.ndarray, sensor_r_ecef_m: np.ndarray) -> np.ndarray:
    """ECEF unit vectors of ``los`` measurements (azimuth, elevation in the sensor's ENU).

    Parameters
    ----------
    z_los : ndarray, shape (D, 2)
        Azimuth (rad from north) and elevation (rad).
    sensor_r_ecef_m : ndarray, shape (D, 3)
        Sensor ECEF positions, m.

    Returns
    -------
    ndarray, shape (D, 3)
        Unit line-of-sight vectors in ECEF.
    """
    az, el = z_los[:, 0], z_los[:, 1]
    enu = np.column_stack((np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)))
    c = enu_rotation(ecef_to_lla(sensor_r_ecef_m), check=False)
    return np.einsum("nji,nj->ni", c, enu)


def los_pregate_pairs(
    track_pos: np.ndarray,
    track_radius: np.ndarray,
    z_los: np.ndarray,
    R_los: np.ndarray,
    sensor_r_ecef_m: np.ndarray,
    threshold: float,
    margin_rad: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs for angles-only detections, by a k-d tree on the unit sphere.

    All detections must come from one sensor position (one scan). A track's angular radius
    is ``track_radius / range + max_d sqrt(g tr R_d) + margin_rad`` (rad); a chord is no
    longer than its arc, so the ball of that chord radius around the track's direction
    holds every detection direction within the angle (module notes).

    Parameters
    ----------
    track_pos : ndarray, shape (T, 3)
        Predicted ECEF positions, m.
    track_radius : ndarray, shape (T,)
        Position pre-gate radius, m (:func:`pregate_radius` with no detection term).
    z_los : ndarray, shape (D, 2)
        Azimuth, elevation, rad.
    R_los : ndarray, shape (D, 2, 2)
        Their covariances, rad^2.
    sensor_r_ecef_m : ndarray, shape (D, 3)
        Sensor ECEF position of each detection (the same for all), m.
    threshold : float
        Chi-square threshold ``g``.
    margin_rad : float
        Added angular margin, rad.

    Returns
    -------
    track, detection : ndarray of int, shape (K,)
    """
    n_tracks = track_pos.shape[0]
    if n_tracks == 0 or z_los.shape[0] == 0:
        return _EMPTY.copy(), _EMPTY.copy()
    u_det = los_directions(z_los, sensor_r_ecef_m)
    d = track_pos - sensor_r_ecef_m[0]
    rng = np.maximum(np.linalg.norm(d, axis=1), 1.0)
    u_trk = d / rng[:, None]
    tr_r = float(np.max(np.trace(R_los, axis1=-2, axis2=-1)))
    ang = track_radius / rng + math.sqrt(threshold * max(tr_r, 0.0)) + margin_rad
    return pregate_pairs(u_trk, np.minimum(ang, 2.0), u_det)


# ------------------------------------------------------------------- chi-square gate


@dataclass(frozen=True, slots=True)
class GateResult:
    """The pairs inside the chi-square gate.

    Attributes
    ----------
    track, detection : ndarray of int, shape (K,)
        Indices of the gated pairs, in the order of the candidates.
    distance2 : ndarray, shape (K,)
        Squared Mahalanobis distance ``nu^T S^-1 nu``.
    log_likelihood : ndarray, shape (K,)
        ``log N(nu; 0, S)``.
    log_det_S : ndarray, shape (K,)
        ``log det S`` (measurement units squared).
    innovation : ndarray, shape (K, m)
        ``z - z_pred`` with angles wrapped.
    """

    track: np.ndarray
    detection: np.ndarray
    distance2: np.ndarray
    log_likelihood: np.ndarray
    log_det_S: np.ndarray
    innovation: np.ndarray


def chi2_gate(
    x: np.ndarray,
    P: np.ndarray,
    track: np.ndarray,
    detection: np.ndarray,
    z: np.ndarray,
    R: np.ndarray,
    meas_model: MeasurementModel,
    sensor_r_ecef_m: np.ndarray,
    sensor_v_ecef_m_s: np.ndarray,
    threshold: float,
) -> GateResult:
    """Chi-square gate of candidate pairs, batched over pairs (no input checks).

    For each pair, ``z_pred, H = meas_model.predict(x_t, r_s, v_s)`` with the sensor
    state of that detection, ``nu = residual(z_d, z_pred)``, ``S = H P_t H^T + R_d`` (EKF
    linearisation, also used to gate sigma-point filters), and the pair is kept when
    ``nu^T S^-1 nu <= threshold``. Only the first six state components (ECEF position and
    velocity) are used. Pairs whose ``S`` is not positive definite are dropped.

    Parameters
    ----------
    x : ndarray, shape (T, n), n >= 6
        Predicted states (ECEF m, m/s first).
    P : ndarray, shape (T, n, n)
        Their covariances.
    track, detection : ndarray of int, shape (K,)
        Candidate pairs (e.g. from :func:`pregate_pairs`).
    z : ndarray, shape (D, m)
        Measurements.
    R : ndarray, shape (D, m, m)
        Their covariances.
    meas_model : MeasurementModel
        Model of the measurements.
    sensor_r_ecef_m, sensor_v_ecef_m_s : ndarray, shape (D, 3)
        Sensor ECEF position (m) and velocity (m/s) of each detection.
    threshold : float
        Gate threshold, e.g. ``scipy.stats.chi2.ppf(0.999, m)``.

    Returns
    -------
    GateResult

    References
    ----------
    [BLK] section 2.4.3.
    """
    m = int(meas_model.dim)
    if track.size == 0:
        empty = np.zeros(0)
        return GateResult(_EMPTY.copy(), _EMPTY.copy(), empty, empty, empty, np.zeros((0, m)))
    x6 = x[track, :6]
    P6 = P[track, :6, :6]
    z_pred, H = meas_model.predict(x6, sensor_r_ecef_m[detection], sensor_v_ecef_m_s[detection])
    nu = meas_model.residual(z[detection], z_pred)
    S = _sym(H @ P6 @ np.swapaxes(H, -1, -2) + R[detection])
    try:
        L = np.linalg.cholesky(S)
        ok = np.ones(track.size, dtype=bool)
    except np.linalg.LinAlgError:
        ok = np.linalg.eigvalsh(S)[:, 0] > 0.0
        S = np.where(ok[:, None, None], S, np.eye(m))
        L = np.linalg.cholesky(S)
    w = np.linalg.solve(L, nu[..., None])[..., 0]
    d2 = np.einsum("ki,ki->k", w, w)
    keep = ok & (d2 <= threshold)
    log_det = 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=-1)
    d2, log_det = d2[keep], log_det[keep]
    return GateResult(
        track[keep],
        detection[keep],
        d2,
        -0.5 * (d2 + log_det + m * _LOG_2PI),
        log_det,
        nu[keep],
    )


# ------------------------------------------------------------------------------ GNN


def _components(track: np.ndarray, detection: np.ndarray, n_tracks: int, n_dets: int):
    """Component label of every pair of the bipartite gate graph."""
    n = n_tracks + n_dets
    graph = coo_matrix(
        (np.ones(track.size, dtype=np.int8), (track, n_tracks + detection)), shape=(n, n)
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    return labels[track]


def _split(labels: np.ndarray) -> list[np.ndarray]:
    """Pair indices grouped by label."""
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(order, cuts)


#: largest contested sub-problem (tracks x (detections + tracks)) solved as one matrix
_ONE_MATRIX_CELLS = 4_000_000


def _assign_component(
    tk: np.ndarray, dk: np.ndarray, cost: np.ndarray, miss: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal assignment of one component; returns (track, detection) assigned pairs."""
    tracks, t_loc = np.unique(tk, return_inverse=True)
    dets, d_loc = np.unique(dk, return_inverse=True)
    k, d = tracks.size, dets.size
    C = np.full((k, d + k), np.inf)
    C[t_loc, d_loc] = cost
    C[np.arange(k), d + np.arange(k)] = miss[tracks]
    rows, cols = linear_sum_assignment(C)
    real = cols < d
    return tracks[rows[real]], dets[cols[real]]


def gnn(
    track: np.ndarray,
    detection: np.ndarray,
    cost: np.ndarray,
    n_tracks: int,
    n_dets: int,
    miss_cost: np.ndarray | float,
) -> np.ndarray:
    """Global-nearest-neighbour assignment over gated pairs.

    Minimises the sum of the chosen pairs' costs plus ``miss_cost`` for every track left
    unassigned, each track and each detection used at most once, only gated pairs allowed
    (module notes: isolated pairs directly, the rest per connected component with
    :func:`scipy.optimize.linear_sum_assignment`).

    Parameters
    ----------
    track, detection : ndarray of int, shape (K,)
        Gated pairs (no duplicates).
    cost : ndarray, shape (K,)
        Cost of each pair (e.g. ``d2 + log det S``), finite.
    n_tracks, n_dets : int
        Numbers of tracks T and detections D.
    miss_cost : float or ndarray, shape (T,)
        Cost of leaving each track unassigned.

    Returns
    -------
    ndarray of int, shape (T,)
        Detection assigned to each track, -1 for none.

    References
    ----------
    [BP99] ch. 6, [Cro16].
    """
    track = np.asarray(track, dtype=np.intp)
    detection = np.asarray(detection, dtype=np.intp)
    cost = np.asarray(cost, dtype=np.float64)
    miss = np.broadcast_to(np.asarray(miss_cost, dtype=np.float64), (n_tracks,))
    out = np.full(n_tracks, -1, dtype=np.intp)
    if track.size == 0:
        return out
    deg_t = np.bincount(track, minlength=n_tracks)
    deg_d = np.bincount(detection, minlength=n_dets)
    single = (deg_t[track] == 1) & (deg_d[detection] == 1)
    take = single & (cost < miss[track])
    out[track[take]] = detection[take]
    rest = np.flatnonzero(~single)
    if rest.size:
        tr, de, co = track[rest], detection[rest], cost[rest]
        k = np.unique(tr).size
        d = np.unique(de).size
        if k * (d + k) <= _ONE_MATRIX_CELLS:
            # the components are independent: one solve of their block-diagonal union
            # (non-gated cells infinite) gives every component's optimum at once, and
            # costs one call instead of one per component
            t_a, d_a = _assign_component(tr, de, co, miss)
            out[t_a] = d_a
        else:
            for idx in _split(_components(tr, de, n_tracks, n_dets)):
                t_a, d_a = _assign_component(tr[idx], de[idx], co[idx], miss)
                out[t_a] = d_a
    return out


# ----------------------------------------------------------------------------- JPDA


@dataclass(frozen=True, slots=True)
class JPDAResult:
    """Marginal association probabilities of JPDA.

    Attributes
    ----------
    beta : ndarray, shape (K,)
        Probability that pair k's detection originated from its track.
    beta_miss : ndarray, shape (T,)
        Probability that no detection originated from the track; for every track
        ``beta_miss + sum of its pairs' beta = 1``.
    n_exact_clusters : int
        Multi-track clusters enumerated exactly.
    n_fallback_clusters : int
        Clusters beyond the cap, solved by GNN (hard marginals).
    """

    beta: np.ndarray
    beta_miss: np.ndarray
    n_exact_clusters: int
    n_fallback_clusters: int


def _enumerate_cluster(
    tk: np.ndarray, dk: np.ndarray, log_a: np.ndarray, log_b: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact marginals of one cluster: (beta per pair, tracks, beta_miss per track)."""
    tracks, t_loc = np.unique(tk, return_inverse=True)
    k = tracks.size
    # options of each track: its pair indices (local) and -1 for a miss
    options = [np.append(np.flatnonzero(t_loc == i), -1) for i in range(k)]
    grids = np.meshgrid(*options, indexing="ij")
    ev = np.stack([g.reshape(-1) for g in grids], axis=1)  # (H, k) pair index or -1
    det = np.where(ev >= 0, dk[np.maximum(ev, 0)], -1 - np.arange(k))  # misses distinct
    valid = np.ones(ev.shape[0], dtype=bool)
    for a in range(k):
        for b in range(a + 1, k):
            valid &= det[:, a] != det[:, b]
    ev = ev[valid]
    logw = np.where(ev >= 0, log_a[np.maximum(ev, 0)], log_b).sum(axis=1)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    beta = np.zeros(tk.size)
    assigned = ev >= 0
    np.add.at(beta, ev[assigned], np.broadcast_to(w[:, None], ev.shape)[assigned])
    beta_miss = (w[:, None] * ~assigned).sum(axis=0)
    return beta, tracks, beta_miss


def jpda(
    track: np.ndarray,
    detection: np.ndarray,
    log_likelihood: np.ndarray,
    n_tracks: int,
    n_dets: int,
    detection_probability: float,
    clutter_density: float,
    *,
    gate_probability: float = 1.0,
    max_tracks: int = 8,
    max_detections: int = 10,
    max_hypotheses: int = 50_000,
) -> JPDAResult:
    """JPDA marginal association probabilities over gated clusters.

    Parameters
    ----------
    track, detection : ndarray of int, shape (K,)
        Gated pairs (no duplicates).
    log_likelihood : ndarray, shape (K,)
        ``log N(nu; 0, S)`` of each pair (:attr:`GateResult.log_likelihood`).
    n_tracks, n_dets : int
        Numbers of tracks and detections.
    detection_probability : float
        Pd in (0, 1].
    clutter_density : float
        Spatial density of false reports, > 0, per unit measurement volume.
    gate_probability : float
        Pg in (0, 1]; a miss has weight ``1 - Pd Pg``.
    max_tracks, max_detections, max_hypotheses : int
        Cap of exact enumeration (module notes); larger clusters fall back to GNN.

    Returns
    -------
    JPDAResult

    Raises
    ------
    InputError
        If a probability or the density is out of range.

    References
    ----------
    [FBS83], [BDH09], [BP99] ch. 7.
    """
    if not 0.0 < detection_probability <= 1.0:
        raise InputError(f"detection_probability: {detection_probability} must lie in (0, 1]")
    if not 0.0 < gate_probability <= 1.0:
        raise InputError(f"gate_probability: {gate_probability} must lie in (0, 1]")
    if not (math.isfinite(clutter_density) and clutter_density > 0.0):
        raise InputError(f"clutter_density: {clutter_density} must be finite and > 0")
    track = np.asarray(track, dtype=np.intp)
    detection = np.asarray(detection, dtype=np.intp)
    log_a = (
        math.log(detection_probability)
        - math.log(clutter_density)
        + np.asarray(log_likelihood, dtype=np.float64)
    )
    miss_w = 1.0 - detection_probability * gate_probability
    log_b = math.log(miss_w) if miss_w > 0.0 else -np.inf
    beta = np.zeros(track.size)
    beta_miss = np.ones(n_tracks)
    if track.size == 0:
        return JPDAResult(beta, beta_miss, 0, 0)
    labels = _components(track, detection, n_tracks, n_dets)
    # tracks per component: a component's tracks are the distinct tracks of its pairs
    first = np.zeros(n_tracks, dtype=bool)
    lab_of_track = np.full(n_tracks, -1)
    lab_of_track[track] = labels
    first[track] = True
    tracks_per_label = np.bincount(lab_of_track[first], minlength=labels.max() + 1)
    single = tracks_per_label[labels] == 1
    # PDA closed form for one-track clusters: beta_j = a_j / (b + sum a)
    if np.any(single):
        ts = track[single]
        la = log_a[single]
        peak = np.full(n_tracks, log_b)
        np.maximum.at(peak, ts, la)
        a = np.exp(la - peak[ts])
        den = np.exp(log_b - peak) if np.isfinite(log_b) else np.zeros(n_tracks)
        tot = den.copy()
        np.add.at(tot, ts, a)
        beta[single] = a / tot[ts]
        has = np.zeros(n_tracks, dtype=bool)
        has[ts] = True
        beta_miss[has] = (den / tot)[has]
    n_exact = n_fallback = 0
    multi = np.flatnonzero(~single)
    if multi.size:
        for idx in _split(labels[multi]):
            pid = multi[idx]
            tk, dk = track[pid], detection[pid]
            n_t = np.unique(tk).size
            n_d = np.unique(dk).size
            hyp = float(np.prod(np.bincount(np.unique(tk, return_inverse=True)[1]) + 1.0))
            if n_t <= max_tracks and n_d <= max_detections and hyp <= max_hypotheses:
                b, tr, bm = _enumerate_cluster(tk, dk, log_a[pid], log_b)
                beta[pid] = b
                beta_miss[tr] = bm
                n_exact += 1
            else:
                miss = np.full(n_tracks, -log_b if np.isfinite(log_b) else 1e300)
                t_a, d_a = _assign_component(tk, dk, -log_a[pid], miss)
                chosen = set(zip(t_a.tolist(), d_a.tolist(), strict=True))
                hard = np.array([(t, d) in chosen for t, d in zip(tk, dk, strict=True)])
                beta[pid] = hard.astype(float)
                beta_miss[np.unique(tk)] = 1.0
                beta_miss[t_a] = 0.0
                n_fallback += 1
    return JPDAResult(beta, beta_miss, n_exact, n_fallback)


def jpda_update_ekf(
    x: np.ndarray,
    P: np.ndarray,
    H: np.ndarray,
    R: np.ndarray,
    track: np.ndarray,
    innovation: np.ndarray,
    beta: np.ndarray,
    beta_miss: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(J)PDA EKF update of T tracks with their weighted innovations.

    With ``S = H P H^T + R`` and ``K = P H^T S^-1``::

        nu    = sum_j beta_j nu_j
        x+    = x + K nu
        P+    = beta_0 P + (1 - beta_0) P_c + K (sum_j beta_j nu_j nu_j^T - nu nu^T) K^T

    ``P_c`` the Joseph-form updated covariance; the last term is the spread of the
    innovations ([BDH09] eqs. 23-27). A track with ``beta_0 = 1`` is left unchanged.

    Parameters
    ----------
    x : ndarray, shape (T, n)
        Predicted states.
    P : ndarray, shape (T, n, n)
        Predicted covariances.
    H : ndarray, shape (T, m, n)
        Measurement Jacobians at the predicted states.
    R : ndarray, shape (T, m, m)
        Measurement covariance of each track's update (e.g. the beta-weighted mean of its
        detections' R; equal for all the reports of one sensor).
    track : ndarray of int, shape (K,)
        Track of each gated pair.
    innovation : ndarray, shape (K, m)
        Innovation of each pair, relative to its track's predicted measurement.
    beta : ndarray, shape (K,)
        Marginal association probabilities.
    beta_miss : ndarray, shape (T,)
        Probability of no detection from each track.

    Returns
    -------
    x_new : ndarray, shape (T, n)
    P_new : ndarray, shape (T, n, n)

    References
    ----------
    [BDH09], [FBS83].
    """
    n_tracks, n = x.shape
    m = H.shape[1]
    PHt = P @ np.swapaxes(H, -1, -2)
    S = _sym(H @ PHt + R)
    L = np.linalg.cholesky(S)
    Kt = np.linalg.solve(np.swapaxes(L, -1, -2), np.linalg.solve(L, np.swapaxes(PHt, -1, -2)))
    K = np.swapaxes(Kt, -1, -2)
    bnu = beta[:, None] * innovation
    nu = np.zeros((n_tracks, m))
    np.add.at(nu, track, bnu)
    spread = np.zeros((n_tracks, m, m))
    np.add.at(spread, track, bnu[:, :, None] * innovation[:, None, :])
    spread -= nu[:, :, None] * nu[:, None, :]
    x_new = x + (K @ nu[..., None])[..., 0]
    A = np.eye(n) - K @ H
    Pc = A @ P @ np.swapaxes(A, -1, -2) + K @ R @ Kt
    b0 = beta_miss[:, None, None]
    P_new = _sym(b0 * P + (1.0 - b0) * Pc + K @ spread @ Kt)
    return x_new, P_new
