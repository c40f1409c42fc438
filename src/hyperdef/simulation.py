"""One run of the kill chain: threats, sensors, national trackers, fire control.

:func:`run_scenario` flies the scenario's threats, lets every sensor observe them, has
each node track the reports released to it, lets every battery fire on the picture of its
``track_source`` node (engage-on-remote when the marking allows), and returns the tables of
the output contract (DESIGN.md) with a summary. :func:`write_run` writes them to a folder.
Random streams come from the scenario seed through ``SeedSequence.spawn``: one for the
threats, one per sensor, one for the engagements, so a run is reproducible.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hyperdef.core.frames import great_circle_distance_m
from hyperdef.errors import InputError
from hyperdef.scenario import Scenario
from hyperdef.threats import draw_isp_scale, fly
from hyperdef.threats.trajectory import Trajectory, concat_trajectories, select_objects

#: column that keeps the draws of a lockstep tracker pass apart
DRAW_COLUMN = "draw"
#: Bytes a batch holds per sensor report while it is tracked and engaged, rounded up
#: (measured: 27 MB per ``single_hgv`` run of 7,000 reports, 115 MB per
#: ``regional_raid`` run of 28,000; a 128-run ``single_hgv`` group of 891,000 reports
#: peaked at 3.1 GB resident).
REPORT_BYTES = 4096
#: Sensor reports tracked together by :func:`draw_summaries` by default, about 4 GB:
#: 128 ``single_hgv`` runs are one group, ``regional_raid`` runs go 35 at a time. A
#: campaign's workers take less where the machine's memory per core is smaller
#: (:func:`hyperdef.montecarlo.group_reports`).
MAX_GROUP_REPORTS = 1_000_000


@dataclass
class RunResult:
    """Tables and summary of one run."""

    truth: Trajectory
    detections: pa.Table
    tracks: pa.Table
    engagements: pa.Table
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    pictures: dict[str, pa.Table] = field(default_factory=dict)
    windows: dict = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: str | Path) -> RunResult:
        """Read back the files :func:`write_run` wrote (launch windows are not kept).

        Raises
        ------
        InputError
            Naming the missing file.
        """
        from hyperdef.sensors.detections import read_detections
        from hyperdef.threats.trajectory import trajectory_from_table
        from hyperdef.tracking.tracker import read_tracks

        folder = Path(run_dir)
        for name in ("truth.parquet", "detections.parquet", "tracks.parquet",
                     "engagements.parquet", "summary.json"):
            if not (folder / name).is_file():
                raise InputError(f"run_dir: {str(folder / name)!r} is missing")
        tracks = read_tracks(folder / "tracks.parquet")
        key = "picture" if "picture" in tracks.column_names else "node"
        pictures = {n: tracks.filter(pc.equal(tracks.column(key), n)).drop_columns(
                        [c for c in ("picture",) if c in tracks.column_names])
                    for n in dict.fromkeys(tracks.column(key).to_pylist())}
        summary = json.loads((folder / "summary.json").read_text())
        return cls(truth=trajectory_from_table(pq.read_table(folder / "truth.parquet")),
                   detections=read_detections(folder / "detections.parquet"),
                   tracks=tracks, engagements=pq.read_table(folder / "engagements.parquet"),
                   summary=summary, timings=summary.get("timings_s", {}), pictures=pictures)


def _fly_threats(scenarios: Sequence[Scenario], rngs: Sequence[np.random.Generator]
                 ) -> list[Trajectory]:
    """Every draw's threats, flown in one batch per kind of vehicle.

    Draw ``d`` draws its booster dispersions from ``rngs[d]`` entry by entry, as it would
    flown alone; the entries of all draws that share a vehicle (kind, payload mass and
    guidance settings) fly in one :func:`hyperdef.threats.fly` batch, whose vehicles do
    not depend on each other, so each draw's truth is the same whatever it is flown with.
    """
    requests = []  # (group key, draw, entry, launch times, isp factors)
    for d, (scenario, rng) in enumerate(zip(scenarios, rngs, strict=True)):
        for e, threat in enumerate(scenario.threats):  # a handful of entries
            t_launch = threat.launch_time_s + threat.interval_s * np.arange(threat.count)
            key = (threat.kind, threat.mass_kg, tuple(sorted((threat.guidance or {}).items())))
            requests.append((key, d, e, t_launch, draw_isp_scale(rng, threat.count)))
    flown: dict[tuple[int, int], Trajectory] = {}
    for key in dict.fromkeys(r[0] for r in requests):  # one batched flight per vehicle
        group = [r for r in requests if r[0] == key]
        entries = [scenarios[d].threats[e] for _, d, e, _, _ in group]
        counts = [entry.count for entry in entries]
        truth = fly(key[0],
                    np.radians(np.repeat([entry.from_ for entry in entries], counts, axis=0)),
                    np.radians(np.repeat([entry.to for entry in entries], counts, axis=0)),
                    maneuver=np.repeat([entry.maneuver for entry in entries], counts),
                    t_launch_s=np.concatenate([r[3] for r in group]),
                    isp_scale=np.concatenate([r[4] for r in group]),
                    mass_kg=key[1], guidance=dict(key[2]) or None)
        first = np.concatenate(([0], np.cumsum(counts)))
        for (_, d, e, _, _), lo, hi in zip(group, first[:-1], first[1:], strict=True):
            flown[(d, e)] = select_objects(truth, slice(int(lo), int(hi)))
    return [concat_trajectories([flown[(d, e)] for e in range(len(scenario.threats))])
            for d, scenario in enumerate(scenarios)]


def node_reports(detections: pa.Table, node: str, links: tuple = ()) -> pa.Table:
    """The reports a node tracks: its own sensors', plus those its links pass it.

    A link (:class:`hyperdef.scenario.Link`) that shares ``detections`` passes the
    sender's own sensors' reports that their marking releases to the receiver, arriving
    ``latency_s`` later (``t_report`` shifted). Nothing else reaches the node's tracker
    (links sharing ``tracks`` are fused after tracking, :func:`node_picture`).

    Returns
    -------
    pyarrow.Table
        A Detections table (:data:`hyperdef.sensors.detections.SCHEMA`): the node's own
        reports, then each link's, sorted by measurement time (stable), as
        :func:`~hyperdef.sensors.detections.concat_detections` joins them; the rows are
        taken from ``detections`` once.

    Raises
    ------
    InputError
        As :func:`hyperdef.tracking.nodes.released_to` for a sender's reports (a bad
        receiving node, or a null or unparsable marking, naming the row among them).
    """
    from hyperdef.core.markings import check_node
    from hyperdef.sensors.detections import COLUMNS, SCHEMA
    from hyperdef.tracking.nodes import release_sets

    nodes = detections.column("node")

    def rows_of(name: str) -> np.ndarray:
        return np.flatnonzero(pc.fill_null(pc.equal(nodes, name), False).to_numpy(
            zero_copy_only=False))

    parts, shifts = [rows_of(node)], [None]
    markings = detections.select([c for c in ("marking",) if c in detections.column_names])
    for sender, receiver, share, latency, _interval in links:
        if receiver != node or share != "detections":
            continue
        sent = rows_of(sender)
        check_node(node, "node")
        sets, codes = release_sets(markings.take(pa.array(sent)))  # names its row in sent
        allowed = np.fromiter((node in s for s in sets), dtype=bool, count=len(sets))
        parts.append(sent[allowed[codes]] if codes.size else sent[:0])
        shifts.append(float(latency))
    rows = np.concatenate(parts)
    t = pc.cast(detections.column("t"), pa.float64()).to_numpy(zero_copy_only=False)
    order = np.argsort(t[rows], kind="stable")
    table = detections.take(pa.array(rows[order])).select(COLUMNS).cast(SCHEMA)
    if len(parts) > 1:
        # the latency of the link each row came by (the node's own rows keep theirs)
        linked = np.repeat([shift is not None for shift in shifts], [p.size for p in parts])
        latency_s = np.repeat([shift or 0.0 for shift in shifts], [p.size for p in parts])
        t_report = table.column("t_report")
        shifted = pc.if_else(pa.array(linked[order]),
                             pc.add(t_report, pa.array(latency_s[order])), t_report)
        i = table.schema.get_field_index("t_report")
        table = table.set_column(i, table.schema.field(i), shifted)
    return table


def node_picture(own: dict[str, pa.Table], node: str, links: tuple = ()) -> pa.Table:
    """A node's picture: its own tracks, fused with the tracks its links share with it.

    ``own`` holds each node's own tracker output. Links that share ``tracks`` into
    ``node`` pass the sender's own tracks released to it, ``latency_s`` late, and the
    picture is their track-to-track fusion with the node's own, every ``interval_s``
    (:func:`hyperdef.tracking.track_sharing.shared_track_picture`). Without such links
    the picture is the node's own tracks.
    """
    from hyperdef.tracking.nodes import released_to
    from hyperdef.tracking.track_sharing import shared_track_picture

    incoming = [link for link in links if link.receiver == node and link.share == "tracks"]
    if not incoming:
        return own[node]
    received = {link.sender: (released_to(own[link.sender], node), link.latency_s)
                for link in incoming}
    interval = min(link.interval_s for link in incoming)
    return shared_track_picture(own[node], received, node, interval_s=interval)


def run_scenario(scenario: Scenario, *, seed: int | None = None,
                 progress=None) -> RunResult:
    """Run the kill chain once.

    Parameters
    ----------
    scenario : Scenario
    seed : int, optional
        Overrides the scenario's seed.
    progress : callable, optional
        Called as ``progress(stage: str)`` when a stage starts.

    Returns
    -------
    RunResult
        The same as run ``d`` of :func:`run_draws` with this scenario and seed, whatever
        the other draws flown with it.
    """
    root = int(scenario.seed if seed is None else seed)
    return run_draws([scenario], [root], progress=progress)[0]


def run_draws(scenarios: Sequence[Scenario], seeds: Sequence[int], *,
              progress=None) -> list[RunResult]:
    """Run the kill chain for several draws in lockstep, each as if it ran alone.

    A campaign's runs differ only in their random streams (and drawn values), so their
    stages run together: the threats of every draw in one batched flight per vehicle, one
    tracker pass per node over the reports of every draw (kept apart by a ``draw``
    partition: no report of one draw ever reaches another's tracks), and the shots of
    every draw in one batched fly-out per decision round. Each draw keeps the streams
    its seed gives (``SeedSequence(seed).spawn``: threats, engagements, one per sensor),
    and every batched stage gives each draw exactly what it gives that draw alone, so
    result ``d`` equals ``run_scenario(scenarios[d], seed=seeds[d])``.

    Parameters
    ----------
    scenarios : sequence of Scenario
        One per draw (a campaign's draws of one scenario; they may differ in values).
    seeds : sequence of int
        The seed of each draw, >= 0.
    progress : callable, optional
        Called as ``progress(stage: str)`` when a stage starts.

    Returns
    -------
    list of RunResult
        One per draw, in order. Stage timings are the batch's, divided among its draws.

    Raises
    ------
    InputError
        A negative seed, or as many scenarios as seeds not given.
    """
    return _run_lockstep(scenarios, seeds, progress, tables=True, max_reports=None)


def draw_summaries(scenarios: Sequence[Scenario], seeds: Sequence[int], *,
                   max_reports: int = MAX_GROUP_REPORTS) -> list[dict[str, Any]]:
    """The summaries of :func:`run_draws`, in bounded memory (a campaign's worker side).

    The threats and sensors of all draws run together; then the draws are tracked and
    engaged in consecutive groups of at most ``max_reports`` sensor reports (a draw with
    more is a group of its own), and each group's tables are let go once its draws are
    summarized. The Tracks tables are built without their ``P`` column, which no summary
    reads (except for nodes whose tracks a link shares: track-to-track fusion needs
    them). Summary ``d`` equals ``run_draws(scenarios, seeds)[d].summary`` but for the
    stage timings (a group's tracking and engagement are shared by its draws).

    Parameters
    ----------
    scenarios, seeds
        As :func:`run_draws`.
    max_reports : int, default :data:`MAX_GROUP_REPORTS`
        Reports tracked together, >= 1. A batch's memory is about 4 KB per report.

    Returns
    -------
    list of dict
        One ``summary.json`` object per draw, in order.

    Raises
    ------
    InputError
        As :func:`run_draws`, or ``max_reports`` below 1.
    """
    if isinstance(max_reports, bool) or not isinstance(max_reports, int | np.integer) \
            or max_reports < 1:
        raise InputError(f"max_reports: expected an integer >= 1, got {max_reports!r}")
    return _run_lockstep(scenarios, seeds, None, tables=False, max_reports=int(max_reports))


def _run_lockstep(scenarios, seeds, progress, *, tables: bool, max_reports: int | None):
    """:func:`run_draws` (``tables``) or :func:`draw_summaries` (summaries only, tracked
    and engaged in groups of at most ``max_reports`` reports)."""
    from hyperdef.sensors.detections import concat_detections
    from hyperdef.tracking.metrics import summary as track_summary

    scenarios, seeds = list(scenarios), [int(s) for s in seeds]
    if len(scenarios) != len(seeds) or not seeds:
        raise InputError(f"seeds: expected one per scenario ({len(scenarios)}), "
                         f"got {len(seeds)}")
    for root in seeds:
        if root < 0:
            raise InputError(f"seed: {root} must be >= 0")
    n = len(seeds)
    streams = [np.random.SeedSequence(root).spawn(2 + len(sc.sensors))
               for sc, root in zip(scenarios, seeds, strict=True)]

    def stage(name: str) -> float:
        if progress is not None:
            progress(name)
        return time.perf_counter()

    start = stage("threats")
    truths = _fly_threats(scenarios, [np.random.default_rng(s[0]) for s in streams])
    shared = {"threats_s": (time.perf_counter() - start) / n}

    start = stage("sensors")
    detections = [concat_detections([
        sensor.observe(truth, np.random.default_rng(stream))
        for sensor, stream in zip(sc.sensors, st[2:], strict=True)])
        for sc, st, truth in zip(scenarios, streams, truths, strict=True)]
    shared["sensors_s"] = (time.perf_counter() - start) / n

    results: list = []
    for group in _report_groups([d.num_rows for d in detections], max_reports):
        g_scenarios = [scenarios[d] for d in group]
        start = stage("tracking")
        pictures = _track_draws(g_scenarios, [detections[d] for d in group],
                                covariances=tables)
        tracking_s = time.perf_counter() - start

        start = stage("engagement")
        engagements, windows = _engage_draws(
            g_scenarios, pictures, [truths[d] for d in group],
            [np.random.default_rng(streams[d][1]) for d in group])
        share = {**shared, "tracking_s": tracking_s / len(group),
                 "engagement_s": (time.perf_counter() - start) / len(group)}

        for k, d in enumerate(group):
            summary = _summary(scenarios[d], seeds[d], truths[d], detections[d], pictures[k],
                               engagements[k], share, track_summary)
            if not tables:
                results.append(summary)
                continue
            tracks = pa.concat_tables([
                table.append_column("picture",
                                    pa.repeat(pa.scalar(name, pa.string()), table.num_rows))
                for name, table in pictures[k].items()]) if pictures[k] else pa.table({})
            results.append(RunResult(truths[d], detections[d], tracks, engagements[k],
                                     summary, dict(share), pictures=pictures[k],
                                     windows=windows[k]))
        del pictures, engagements, windows  # a group's tables go before the next is built
    return results


def _report_groups(reports: Sequence[int], max_reports: int | None) -> list[list[int]]:
    """Consecutive draws in groups of at most ``max_reports`` reports in all (a draw with
    more on its own); all in one group without a limit."""
    if max_reports is None:
        return [list(range(len(reports)))]
    groups: list[list[int]] = []
    total = 0
    for d, count in enumerate(reports):  # a few dozen draws
        if groups and total + count <= max_reports:
            groups[-1].append(d)
            total += count
        else:
            groups.append([d])
            total = count
    return groups


def _groups(keys: Sequence[Any]) -> list[list[int]]:
    """Indices of equal keys, grouped in order of first appearance (keys compared by ==)."""
    groups: list[tuple[Any, list[int]]] = []
    for i, key in enumerate(keys):  # a few distinct keys per campaign
        for known, members in groups:
            if known == key:
                members.append(i)
                break
        else:
            groups.append((key, [i]))
    return [members for _, members in groups]


def _track_partitioned(inputs: list[pa.Table], configs: list, node: str,
                       covariances: bool = True, rows: str = "all") -> list[pa.Table]:
    """``run_tracker(inputs[d], configs[d], node=node, covariances=covariances,
    rows=rows)`` of every draw; draws with the same tracker settings share one
    partitioned pass."""
    from hyperdef.tracking.tracker import run_tracker

    out: list[pa.Table | None] = [None] * len(inputs)
    for members in _groups(configs):
        if len(members) == 1:
            d = members[0]
            out[d] = run_tracker(inputs[d], configs[d], node=node, covariances=covariances,
                                 rows=rows).table
            continue
        joined = pa.concat_tables([
            inputs[d].append_column(DRAW_COLUMN, pa.array(np.full(inputs[d].num_rows, k),
                                                          pa.int64()))
            for k, d in enumerate(members)], promote_options="permissive")
        table = run_tracker(joined, configs[members[0]], node=node, partition=DRAW_COLUMN,
                            covariances=covariances, rows=rows).table
        part = table.column(DRAW_COLUMN).to_numpy()
        bounds = np.searchsorted(part, np.arange(len(members) + 1))
        body = table.drop_columns([DRAW_COLUMN])
        for k, d in enumerate(members):
            out[d] = body.slice(int(bounds[k]), int(bounds[k + 1] - bounds[k]))
    return out


def _track_draws(scenarios: list[Scenario], detections: list[pa.Table],
                 covariances: bool = True) -> list[dict[str, pa.Table]]:
    """Every draw's pictures: each node's own tracks (fused with the tracks its links
    share), and the central fusion's picture when the scenario has one. Without
    ``covariances`` (summaries only) only the nodes whose tracks a link shares write
    their ``P``, and the tables of nodes outside track links keep only the rows that
    summaries and fire control read (``run_tracker(..., rows='summary')``)."""
    from hyperdef.tracking.nodes import released_to

    n = len(scenarios)
    own: list[dict[str, pa.Table]] = [{} for _ in range(n)]
    nodes = list(dict.fromkeys(node for sc in scenarios for node in sc.nodes))
    for node in nodes:  # one tracker pass per nation (a few)
        draws = [d for d in range(n) if node in scenarios[d].nodes]
        shared = any(link.sender == node and link.share == "tracks"
                     for d in draws for link in scenarios[d].links)
        fused = shared or any(link.receiver == node and link.share == "tracks"
                              for d in draws for link in scenarios[d].links)
        tables = _track_partitioned(
            [node_reports(detections[d], node, scenarios[d].links) for d in draws],
            [scenarios[d].trackers[node] for d in draws], node, covariances or shared,
            "all" if covariances or fused else "summary")
        for d, table in zip(draws, tables, strict=True):
            own[d][node] = table
    pictures = [{node: node_picture(own[d], node, scenarios[d].links)
                 for node in scenarios[d].nodes} for d in range(n)]
    fusing = [d for d in range(n) if scenarios[d].fusion is not None]
    for fusing_node in dict.fromkeys(scenarios[d].fusion[0] for d in fusing):
        draws = [d for d in fusing if scenarios[d].fusion[0] == fusing_node]
        tables = _track_partitioned([released_to(detections[d], fusing_node) for d in draws],
                                    [scenarios[d].fusion[1] for d in draws], fusing_node,
                                    covariances, "all" if covariances else "summary")
        for d, table in zip(draws, tables, strict=True):
            pictures[d]["fused"] = table
    return pictures


def _engage_draws(scenarios: list[Scenario], pictures: list[dict[str, pa.Table]],
                  truths: list[Trajectory], rngs: list[np.random.Generator]
                  ) -> tuple[list[pa.Table], list[dict]]:
    """Every draw's engagements: one weapon-target assignment per picture fired on, the
    shots of all draws with the same batteries on that picture flown together."""
    from hyperdef.engagement.fire_control import ENGAGEMENTS_SCHEMA, run_fire_control_draws

    n = len(scenarios)
    tables: list[list[pa.Table]] = [[] for _ in range(n)]
    windows: list[dict] = [{} for _ in range(n)]
    # the pictures a draw fires on, in its own order (its engagement stream is used in it)
    orders = [list(dict.fromkeys(source for _, source in sc.batteries)) for sc in scenarios]
    for k in range(max(map(len, orders), default=0)):  # a few pictures
        draws = [d for d in range(n) if k < len(orders[d])]
        keys = [(orders[d][k], [b for b, s in scenarios[d].batteries if s == orders[d][k]])
                for d in draws]
        for members in _groups(keys):
            source, batteries = keys[members[0]]
            members = [draws[m] for m in members]
            results = run_fire_control_draws(
                [pictures[d][source] for d in members], batteries,
                [truths[d] for d in members], rngs=[rngs[d] for d in members])
            for d, result in zip(members, results, strict=True):
                tables[d].append(result.engagements)
                windows[d].update(result.windows)
    out = []
    for parts in tables:
        if not parts:
            out.append(ENGAGEMENTS_SCHEMA.empty_table())
            continue
        engagements = pa.concat_tables(parts)
        shot = np.asarray(engagements.column("shot_id").to_numpy()) >= 0
        ids = np.cumsum(shot) * shot - (~shot)
        out.append(engagements.set_column(0, "shot_id", pa.array(ids, pa.int64())))
    return out, windows


def _summary(scenario, seed, truth, detections, pictures, engagements, timings,
             track_summary) -> dict[str, Any]:
    """The ``summary.json`` object (DESIGN.md)."""
    t = detections.column("t").to_numpy()
    tid = detections.column("truth_id").to_numpy()
    sensor_xyz = np.column_stack([detections.column(c).to_numpy()
                                  for c in ("sensor_x", "sensor_y", "sensor_z")])
    threats = []
    kills = {}
    for row in engagements.to_pylist():
        if row["truth_id"] is not None and row["truth_id"] >= 0 and row["status"] != "refused":
            kills[row["truth_id"]] = kills.get(row["truth_id"], False) or bool(row["kill"])
    per_node = {node: track_summary(table, truth) for node, table in pictures.items()}
    for i in range(truth.n_objects):
        rows = truth.rows(i)
        seen = np.flatnonzero(tid == i)
        first = None
        if seen.size:
            j = seen[np.argmin(t[seen])]
            r_t = truth.state_at(np.array([i]), t[j])[0][0]
            first = {"t_s": round(float(t[j] - truth.t[rows][0]), 3),
                     "range_km": round(float(np.linalg.norm(r_t - sensor_xyz[j])) / 1e3, 3),
                     "sensor_id": detections.column("sensor_id")[int(j)].as_py()}
        firm = {node: (s["time_to_confirm_s"][i] if s["time_to_confirm_s"] else None)
                for node, s in per_node.items()}
        flight = float(truth.flight_time_s[i])
        warning = {node: (None if v is None else round(flight - v, 3))
                   for node, v in firm.items()}
        complete = {node: (None if s["track_completeness"][i] is None
                           else round(s["track_completeness"][i], 4))
                    for node, s in per_node.items()}
        threats.append({
            "object_id": i, "kind": str(truth.kind[i]),
            "launch_s": round(float(truth.t[rows][0]), 3),
            "flight_time_s": round(float(truth.flight_time_s[i]), 3),
            "range_km": round(float(great_circle_distance_m(
                truth.launch_lla[i, 0], truth.launch_lla[i, 1], truth.impact_lla[i, 0],
                truth.impact_lla[i, 1])) / 1e3, 1),
            "first_detection": first,
            "time_to_firm_track_s": firm,
            "warning_time_s": warning,
            "track_completeness": complete,
            "engaged": i in kills,
            "killed": bool(kills.get(i, False)),
        })
    fired = engagements.filter(pc.greater_equal(engagements.column("shot_id"), 0))
    return {
        "scenario": scenario.name,
        "seed": seed,
        "threats": threats,
        "shots": int(fired.num_rows),
        "kills": int(sum(kills.values())),
        "leakers": int(truth.n_objects - sum(kills.values())),
        "refused_shots": int(engagements.num_rows - fired.num_rows),
        "tracking": {node: {"ospa_mean_m": s["ospa_mean_m"], "rmse_pos_m": s["rmse_pos_m"],
                            "rmse_vel_m_s": s["rmse_vel_m_s"], "breaks": s["breaks"]}
                     for node, s in per_node.items()},
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def write_run(result: RunResult, out_dir: str | Path,
              scenario: Scenario | None = None) -> dict[str, str]:
    """Write the output contract's files into ``out_dir`` (created), each atomically.

    ``scenario`` (the one run) adds sensor and battery sites and battle spaces to the report.
    """
    from hyperdef.engagement.fire_control import write_engagements
    from hyperdef.report import atomic_output
    from hyperdef.sensors.detections import write_detections
    from hyperdef.tracking.tracker import write_tracks

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.parquet" for name in ("truth", "detections", "tracks",
                                                       "engagements")}
    with atomic_output(paths["truth"]) as tmp:
        pq.write_table(result.truth.to_table(), tmp)
    write_detections(result.detections, paths["detections"])
    write_tracks(result.tracks, paths["tracks"])
    write_engagements(result.engagements, paths["engagements"])
    summary_path = out / "summary.json"
    with atomic_output(summary_path) as tmp:
        tmp.write_text(json.dumps(result.summary, indent=2))
    from hyperdef.report.html import write_report

    write_report(result, scenario, out / "report.html")
    return {**{k: str(v) for k, v in paths.items()}, "summary": str(summary_path),
            "report": str(out / "report.html")}
