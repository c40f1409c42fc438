"""Real-time tracking at one node: reports used in arrival order, late reports reprocessed.

:func:`run_tracker` sees every report at once. A real node does not: a report reaches it at
``t_report`` (its measurement time ``t`` plus the sensor's report latency), and the node
must decide on a picture before slower sensors have reported. :func:`run_tracker_realtime`
simulates that node. It runs the very tracker of :mod:`hyperdef.tracking.tracker` (same
configuration, same scans, same association and track management), fed in arrival order.

Epochs
    The node processes at the epochs ``T_k = k * update_interval_s`` (s from the scenario
    epoch), from the first epoch at or after the earliest ``t_report`` to the first at or
    after the latest. At ``T_k`` it takes every report with ``T_{k-1} < t_report <= T_k``;
    its picture at ``T_k`` uses only reports with ``t_report <= T_k``, never a later one.

Scans and sequence
    Scans are those of :func:`run_tracker` (one sensor, one measurement time, one type),
    in its order (``t``, then sensor, then type). A report is *out of sequence* when its
    scan sorts at or before the last scan the node has already processed (a report older
    than the newest processed measurement, or a straggler of a scan already processed).

Mode ``'reprocess'`` (buffered reprocessing, the default)
    The node keeps every report received and checkpoints of the tracker's state, one
    after the first scan at least ``update_interval_s`` (in measurement time) past the
    previous checkpoint (the tracks, the two-point waiting list, the id counter, the
    counts; the output rows are append-only and a checkpoint keeps only their number).
    When out-of-sequence reports arrive it goes back to the newest checkpoint taken before
    the earliest of their scans and runs again, in scan order, every scan received since,
    the late reports now in their place ([BSC04] section 3, the "reprocessing" / "buffered
    re-filtering" solution; exact, where one-step retrodiction, [BS02], approximates it for
    a single lag and no track management). The result is therefore *exactly* the picture
    that :func:`run_tracker` gives on the reports received so far: a late report improves
    the track as if it had arrived on time, and corrupts nothing (a Kalman update with a
    measurement older than the track state, the naive use, would apply a stale innovation
    to the current state).
    Cost: one reprocessing re-runs the scans between the checkpoint (at most about
    ``update_interval_s`` before the late measurement) and the newest processed scan, so
    it grows with the report latency, not with the length of the run
    (``counts['scans_processed']`` against ``counts['scans']`` measures it); checkpoints
    cost a copy of the live tracks per ``update_interval_s`` of measurement time, at most
    about ``buffer_s / update_interval_s`` of them kept.
    *Buffer*: checkpoints with a state time older than ``T - buffer_s`` are dropped, except
    the newest of them, so a late report measured at or after ``T - buffer_s`` is always
    reprocessed; one too old for every checkpoint kept is discarded and counted
    (``reports_beyond_buffer``). ``buffer_s=math.inf`` keeps everything (the picture then
    equals the batch tracker's at every epoch whatever the latencies); ``buffer_s=0``
    behaves like ``'drop_late'``.

Mode ``'drop_late'`` (the naive baseline)
    An out-of-sequence report is discarded and counted (``reports_dropped_late``): cheap,
    never corrupting, but the information of slow sensors is lost.

Output
    :class:`RealtimeResult`: ``table``, the picture the node held at each epoch (one row per
    live track per epoch, the Tracks columns, ``t`` the time of the state, which is the
    time of the last scan processed, and ``epoch_s``); ``history``, the Tracks table of the
    node's final run (with ``'reprocess'`` and nothing beyond the buffer, equal to
    :func:`run_tracker`'s table); and ``counts``.

Bad input
    As :func:`run_tracker`, plus: no ``t_report`` column, InputError; a NaN ``t_report``,
    the report never arrives and is counted (``reports_skipped['nan_report_time']``);
    ``update_interval_s`` not finite and > 0, ``buffer_s`` not >= 0 (NaN), an unknown
    ``mode``: InputError naming the argument.

References
----------
.. [BSC04] Y. Bar-Shalom, H. Chen, M. Mallick, "One-step solution for the multistep
   out-of-sequence-measurement problem in tracking", IEEE Trans. Aerospace and Electronic
   Systems 40(1), 27-37 (2004), doi:10.1109/TAES.2004.1292140 (section 1 surveys the
   reprocessing solution used here).
.. [BS02] Y. Bar-Shalom, "Update with out-of-sequence measurements in tracking: exact
   solution", IEEE Trans. Aerospace and Electronic Systems 38(3), 769-777 (2002),
   doi:10.1109/TAES.2002.1039398.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from hyperdef.core.markings import check_node
from hyperdef.errors import InputError
from hyperdef.tracking.tracker import TrackerConfig, _prepare, _Run

__all__ = ["MODES", "RealtimeResult", "run_tracker_realtime"]

#: Handling of out-of-sequence reports.
MODES = ("reprocess", "drop_late")


@dataclass(frozen=True, slots=True)
class RealtimeResult:
    """What :func:`run_tracker_realtime` returns.

    Attributes
    ----------
    table : pyarrow.Table
        The picture the node held at each epoch: the Tracks columns
        (:data:`hyperdef.tracking.tracker.TRACKS_SCHEMA`) of every live (tentative or
        confirmed) track, ``t`` the time of its state (s), and ``epoch_s`` (s), sorted by
        epoch then track id.
    history : pyarrow.Table
        The Tracks table of the node's final run (one row per track per scan processed).
    counts : dict
        ``reports`` (rows in), ``reports_skipped`` (dict reason -> count, as
        :func:`run_tracker`, plus ``nan_report_time``), ``reports_received`` (valid reports
        that arrived), ``reports_out_of_sequence``, ``reports_dropped_late``
        (``'drop_late'``), ``reports_beyond_buffer`` (``'reprocess'``), ``reprocessings``
        (restarts from a checkpoint), ``epochs``, ``scans`` (scans in the data),
        ``scans_processed`` (scan updates run, reprocessing included: the work), and the
        tracker counts of the final run (``reports_used``, ``tracks_created``, ...).
    """

    table: pa.Table
    history: pa.Table
    counts: dict = field(default_factory=dict)


@dataclass(slots=True)
class _Checkpoint:
    last_scan: int  # index of the last scan processed (-1: none)
    t_state: float  # time of the tracker state, s
    state: tuple  # (tracks, t_now, next_id, counts, pending), deep copies
    n_rows: int  # output rows written so far


def _snapshot(run: _Run, last_scan: int) -> _Checkpoint:
    state = (run.tracks, run.t_now, run.next_id, run.counts, run.pending)
    return _Checkpoint(last_scan, float(run.t_now), copy.deepcopy(state), len(run.rows))


def _restore(run: _Run, cp: _Checkpoint) -> None:
    tracks, t_now, next_id, counts, pending = copy.deepcopy(cp.state)
    run.tracks, run.t_now, run.next_id, run.counts, run.pending = (
        tracks,
        t_now,
        next_id,
        counts,
        pending,
    )
    del run.rows[cp.n_rows :]


def _check_arguments(update_interval_s, buffer_s, mode) -> tuple[float, float]:
    try:
        dt = float(update_interval_s)
    except (TypeError, ValueError):
        dt = math.nan
    if not (math.isfinite(dt) and dt > 0.0):
        raise InputError(f"update_interval_s: {update_interval_s!r} must be a finite number > 0")
    try:
        buf = float(buffer_s)
    except (TypeError, ValueError):
        buf = math.nan
    if not buf >= 0.0:
        raise InputError(f"buffer_s: {buffer_s!r} must be a number >= 0 (inf allowed)")
    if mode not in MODES:
        raise InputError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    return dt, buf


def run_tracker_realtime(
    detections: pa.Table,
    config: TrackerConfig = TrackerConfig(),  # noqa: B008 (frozen, immutable)
    *,
    node: str | None = None,
    update_interval_s: float = 1.0,
    buffer_s: float = 60.0,
    mode: str = "reprocess",
) -> RealtimeResult:
    """Track as a node that receives the reports in arrival order (module notes).

    Parameters
    ----------
    detections : pyarrow.Table
        Detections (DESIGN.md): the columns :func:`run_tracker` needs and ``t_report``
        (arrival time at the node, s from epoch).
    config : TrackerConfig
        Tracker settings.
    node : str, optional
        The node's nation (ISO 3166 trigraph), as in :func:`run_tracker`.
    update_interval_s : float
        Time between processing epochs, s, > 0.
    buffer_s : float
        How far back, in measurement time before the epoch, a late report is still
        reprocessed for certain, s, >= 0 (``math.inf``: always).
    mode : str
        ``'reprocess'`` (buffered reprocessing) or ``'drop_late'``.

    Returns
    -------
    RealtimeResult
        The picture held at each epoch, the final run's Tracks table, the counts.

    Raises
    ------
    InputError
        As :func:`run_tracker`; for a missing ``t_report`` column; for an argument out of
        range, naming it.

    References
    ----------
    [BSC04], [BS02].
    """
    if not isinstance(config, TrackerConfig):
        raise InputError(f"config: expected a TrackerConfig, got {type(config).__name__}")
    if not isinstance(detections, pa.Table):
        raise InputError(f"detections: expected a pyarrow.Table, got {type(detections).__name__}")
    dt, buf = _check_arguments(update_interval_s, buffer_s, mode)
    if "t_report" not in detections.column_names:
        raise InputError("detections: missing column t_report (arrival time at the node)")
    skipped: dict[str, int] = {}
    inp, out_of_order = _prepare(detections, skipped)
    if node is None:
        nodes = sorted(set(detections.column("node").drop_null().to_pylist()))
        if len(nodes) != 1:
            raise InputError(
                f"node: the detections come from nodes {nodes}; pass node= (the tracker's nation)"
            )
        node = nodes[0]
    check_node(node, "node")

    n = detections.num_rows
    t_report = np.asarray(detections.column("t_report").to_numpy(zero_copy_only=False), float)
    # scan index of every valid row (rows skipped by _prepare have none)
    scan_of = np.full(n, -1, dtype=np.int64)
    for s, (start, stop) in enumerate(inp.scans):
        scan_of[inp.order[start:stop]] = s
    no_arrival = (scan_of >= 0) & ~np.isfinite(t_report)
    if np.any(no_arrival):
        skipped["nan_report_time"] = int(no_arrival.sum())
    arriving = np.flatnonzero((scan_of >= 0) & np.isfinite(t_report))
    # epoch index of each arrival: the first k with k * dt >= t_report
    k_arr = np.ceil(t_report[arriving] / dt)
    k_arr += k_arr * dt < t_report[arriving]
    k_arr = k_arr.astype(np.int64)

    run = _Run(config, node, inp)
    received = np.zeros(n, dtype=bool)  # arrived and to be used
    last_scan = -1
    checkpoints = [_snapshot(run, -1)]
    counts = {
        "reports_received": 0,
        "reports_out_of_sequence": 0,
        "reports_dropped_late": 0,
        "reports_beyond_buffer": 0,
        "reprocessings": 0,
        "epochs": 0,
        "scans_processed": 0,
    }
    pictures: list[tuple] = []  # emitted rows of the pictures
    picture_epochs: list[np.ndarray] = []

    def process(first: int, last: int) -> None:
        """Run the scans first..last (indices) with the reports received of each."""
        for s in range(first, last + 1):
            start, stop = inp.scans[s]
            rows = inp.order[start:stop]
            rows = rows[received[rows]]
            if rows.size:
                run.scan(inp, rows)
                counts["scans_processed"] += 1
                if run.t_now >= checkpoints[-1].t_state + dt:
                    checkpoints.append(_snapshot(run, s))

    if arriving.size:
        order = np.argsort(k_arr, kind="stable")
        arriving, k_arr = arriving[order], k_arr[order]
        bounds = np.flatnonzero(np.diff(k_arr)) + 1
        groups = dict(
            zip(
                k_arr[np.r_[0, bounds]].tolist(),
                np.split(arriving, bounds),
                strict=True,
            )
        )
        epochs = range(int(k_arr[0]), int(k_arr[-1]) + 1)
    else:
        groups, epochs = {}, range(0)

    for k in epochs:
        epoch_s = k * dt
        new = groups.get(k)
        if new is not None:
            counts["reports_received"] += new.size
            late = scan_of[new] <= last_scan
            counts["reports_out_of_sequence"] += int(late.sum())
            if mode == "drop_late":
                counts["reports_dropped_late"] += int(late.sum())
                new = new[~late]
                received[new] = True
                if new.size:
                    s_new = np.unique(scan_of[new])
                    for s in s_new.tolist():  # all after last_scan
                        process(s, s)
                    last_scan = max(last_scan, int(s_new[-1]))
            else:
                # drop the checkpoints the buffer no longer needs (keep the newest old one)
                old = [i for i, cp in enumerate(checkpoints) if cp.t_state < epoch_s - buf]
                if len(old) > 1:
                    del checkpoints[: old[-1]]
                if np.any(late):
                    base = checkpoints[0].last_scan
                    beyond = scan_of[new] <= base
                    counts["reports_beyond_buffer"] += int(beyond.sum())
                    new = new[~beyond]
                    late = scan_of[new] <= last_scan
                received[new] = True
                if new.size:
                    top = max(last_scan, int(scan_of[new].max()))
                    if np.any(late):
                        s_min = int(scan_of[new[late]].min())
                        i = max(j for j, cp in enumerate(checkpoints) if cp.last_scan < s_min)
                        del checkpoints[i + 1 :]
                        cp = checkpoints[i]
                        _restore(run, cp)
                        counts["reprocessings"] += 1
                        process(cp.last_scan + 1, top)
                    else:
                        process(last_scan + 1, top)
                    last_scan = top
        # the picture held at this epoch
        counts["epochs"] += 1
        tr = run.tracks
        if tr.n:
            x6, P6 = run._combined()
            pictures.append(
                (
                    np.full(tr.n, run.t_now),
                    tr.ids.copy(),
                    tr.status.astype(np.int8),
                    x6.copy(),
                    P6.reshape(-1, 36).copy(),
                    tr.mu.copy(),
                    tr.mask.copy(),
                    tr.n_updates.copy(),
                    tr.truth.copy(),
                )
            )
            picture_epochs.append(np.full(tr.n, epoch_s))

    history = run.table()
    run.rows = pictures
    table = run.table()
    table = table.append_column(
        pa.field("epoch_s", pa.float64(), metadata={"unit": "s"}),
        pa.array(np.concatenate(picture_epochs) if picture_epochs else np.zeros(0)),
    )
    out_counts = {
        "reports": n,
        "reports_skipped": skipped,
        "out_of_order_rows": out_of_order,
        "scans": len(inp.scans),
        **counts,
        **run.counts,
    }
    return RealtimeResult(table, history, out_counts)
