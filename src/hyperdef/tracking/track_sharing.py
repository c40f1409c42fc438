"""A node's picture when partners share tracks instead of reports.

Over a track-sharing link (a Link 16-style network) a nation receives a partner's tracks,
not the sensor reports behind them, and some time after the partner formed them. The
receiving node keeps its own tracker on its own reports and combines, at each instant
of a regular picture grid, its own latest tracks with the latest partner tracks that
have *arrived* (formed at least ``latency_s`` earlier), all predicted to that instant,
by track-to-track association and covariance intersection
(:func:`hyperdef.tracking.fusion.fuse_tracks`, [JU97]): the partner's estimates share
process noise with the node's own and their correlation is unknown, which is what CI is
consistent under.

What is shared is each partner's *own* picture (from its own tracker), never a picture
that already holds the receiver's tracks: re-sharing fused tracks would count the same
information twice ([CH86], the "rumour propagation" of decentralised fusion).

Track numbers
    A fused track keeps the receiver's own track number when it contains one of the
    receiver's tracks; a track known only from a partner is numbered
    ``REMOTE_ID_BASE * (k + 1) + partner_track_id`` (k the partner's place in the
    ``received`` mapping), so the same partner track keeps the same number from instant
    to instant and never collides with an own one. A remote track that the node's own
    tracker later picks up takes the own number from then on (a track-number change on
    correlation, as when reporting responsibility moves).

Statuses
    Partners share only confirmed tracks; the node's own tentative tracks stay in its
    picture with their status.

References
----------
.. [JU97] S. J. Julier, J. K. Uhlmann, "A non-divergent estimation algorithm in the
   presence of unknown correlations", Proc. American Control Conference 1997, vol. 4,
   pp. 2369-2373, doi:10.1109/ACC.1997.609105.
.. [CH86] C.-Y. Chong, S. Mori, K.-C. Chang, "Distributed multitarget multisensor tracking",
   in Y. Bar-Shalom (ed.), Multitarget-Multisensor Tracking: Advanced Applications,
   Artech House, 1990, ch. 8 (the double counting of information in decentralised fusion).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hyperdef.core.markings import check_node
from hyperdef.errors import InputError
from hyperdef.tracking.fusion import fuse_tracks
from hyperdef.tracking.tracker import TRACKS_SCHEMA

__all__ = ["REMOTE_ID_BASE", "shared_track_picture"]

#: track numbers of partner-only tracks start at multiples of this (module notes)
REMOTE_ID_BASE = 1_000_000


def _by_time(table: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """The table sorted by ``t`` and its times, for slicing windows by searchsorted."""
    table = table.sort_by("t") if table.num_rows else table
    return table, np.asarray(table.column("t").to_numpy(zero_copy_only=False), float)


def _stale_after(t: np.ndarray, interval_s: float, max_age_s: float) -> float:
    """Age after which a table's latest scan no longer stands for a live track, s: two of
    its median scan intervals (at least ``interval_s``), at most ``max_age_s``."""
    scans = np.unique(t)
    spacing = float(np.median(np.diff(scans))) if scans.size > 1 else interval_s
    return min(max_age_s, 2.0 * max(spacing, interval_s))


def _window(table: pa.Table, t: np.ndarray, t_end: float, max_age_s: float) -> pa.Table | None:
    """Rows with ``t_end - max_age_s <= t <= t_end``, or None when there are none."""
    lo = int(np.searchsorted(t, t_end - max_age_s, side="left"))
    hi = int(np.searchsorted(t, t_end, side="right"))
    return table.slice(lo, hi - lo) if hi > lo else None


def _stable_ids(sources: list[list[str]], node: str, partners: list[str]) -> np.ndarray:
    """Track number of each fused track (module notes)."""
    place = {p: k for k, p in enumerate(partners)}
    ids = np.empty(len(sources), np.int64)
    for i, entries in enumerate(sources):
        own = [int(s.split(":")[1]) for s in entries if s.split(":")[0] == node]
        if own:
            ids[i] = min(own)
        else:
            key, number = entries[0].split(":")
            ids[i] = REMOTE_ID_BASE * (place[key] + 1) + int(number)
    return ids


def shared_track_picture(
    own: pa.Table,
    received: Mapping[str, tuple[pa.Table, float]],
    node: str,
    *,
    interval_s: float = 1.0,
    max_age_s: float = 5.0,
    method: str = "ci",
) -> pa.Table:
    """Picture of ``node`` from its own tracks and the tracks its partners share.

    Parameters
    ----------
    own : pyarrow.Table
        The node's own Tracks table (:data:`~hyperdef.tracking.tracker.TRACKS_SCHEMA`).
    received : mapping of str to (pyarrow.Table, float)
        Per partner (ISO 3166 trigraph): the partner's own Tracks table, already reduced
        to the rows released to ``node``, and the link latency in s (>= 0).
    node : str
        The receiving nation.
    interval_s : float
        Step of the picture grid, s (> 0).
    max_age_s : float
        Longest a table's latest scan may stand for live tracks, s (> 0): a table whose
        latest scan before an instant is older than two of its median scan intervals (at
        least ``interval_s``, at most ``max_age_s``) contributes no tracks there (its
        tracks have ended or been dropped).
    method : {'ci', 'naive'}
        Pair fusion rule of :func:`~hyperdef.tracking.fusion.fuse_tracks`.

    Returns
    -------
    pyarrow.Table
        Tracks table (:data:`~hyperdef.tracking.tracker.TRACKS_SCHEMA`), one row per track
        per grid instant, ``node`` the receiver, markings the intersection of the fused
        sources', ``model_probs`` empty.

    Raises
    ------
    InputError
        An unknown node, a non-positive ``interval_s`` or ``max_age_s``, a negative or
        non-finite latency, an unknown ``method``.
    """
    check_node(node, "node")
    for name, value in (("interval_s", interval_s), ("max_age_s", max_age_s)):
        if not (math.isfinite(value) and value > 0.0):
            raise InputError(f"{name}: {value} must be a positive number of seconds")
    partners = list(received)
    sources: dict[str, tuple[pa.Table, np.ndarray, float]] = {}
    own_sorted, own_t = _by_time(own)
    for partner, (table, latency_s) in received.items():
        check_node(partner, f"received key {partner!r}")
        if partner == node:
            raise InputError(f"received: {node} cannot receive its own tracks over a link")
        if not (math.isfinite(latency_s) and latency_s >= 0.0):
            raise InputError(f"received[{partner!r}] latency: {latency_s} must be >= 0 s")
        confirmed = table.filter(pc.equal(table.column("status"), "confirmed"))
        sources[partner] = (*_by_time(confirmed), float(latency_s))
    own_age = _stale_after(own_t, interval_s, max_age_s)
    ages = {p: _stale_after(t, interval_s, max_age_s) for p, (_, t, _) in sources.items()}

    starts = [own_t[:1]] + [t[:1] + lat for _, t, lat in sources.values()]
    ends = [own_t[-1:]] + [t[-1:] + lat for _, t, lat in sources.values()]
    first, last = np.concatenate(starts), np.concatenate(ends)
    if first.size == 0:
        return TRACKS_SCHEMA.empty_table()
    max_gap_s = max_age_s + max((lat for *_, lat in sources.values()), default=0.0) + 1e-6
    grid = np.arange(float(first.min()), float(last.max()) + 1e-9, interval_s)

    parts = []
    for t_s in grid:
        tables = {}
        mine = _window(own_sorted, own_t, t_s, own_age)
        if mine is not None:
            tables[node] = mine
        for partner, (table, t, latency) in sources.items():
            theirs = _window(table, t, t_s - latency, ages[partner])
            if theirs is not None:
                tables[partner] = theirs
        if not tables:
            continue
        fused = fuse_tracks(tables, float(t_s), method, max_gap_s=max_gap_s,
                            statuses=("tentative", "confirmed"))
        if fused.num_rows == 0:
            continue
        ids = _stable_ids(fused.column("sources").to_pylist(), node, partners)
        fused = fused.drop_columns(["sources"]).replace_schema_metadata(TRACKS_SCHEMA.metadata)
        fused = fused.set_column(1, "track_id", pa.array(ids, pa.int64()))
        fused = fused.set_column(2, "node", pa.array([node] * fused.num_rows, pa.string()))
        parts.append(fused.cast(TRACKS_SCHEMA))
    return pa.concat_tables(parts) if parts else TRACKS_SCHEMA.empty_table()
