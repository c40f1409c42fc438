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
from hyperdef.sensors.detections import concat_detections
from hyperdef.threats import fly
from hyperdef.threats.trajectory import Trajectory, concat_trajectories


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


def _fly_threats(scenario: Scenario, rng: np.random.Generator) -> Trajectory:
    parts = []
    for threat in scenario.threats:  # one batched flight per entry (a handful of entries)
        t_launch = threat.launch_time_s + threat.interval_s * np.arange(threat.count)
        parts.append(fly(threat.kind, np.radians(threat.from_), np.radians(threat.to),
                         maneuver=threat.maneuver, t_launch_s=t_launch, rng=rng,
                         mass_kg=threat.mass_kg, guidance=threat.guidance or None))
    return concat_trajectories(parts)


def node_reports(detections: pa.Table, node: str, links: tuple = ()) -> pa.Table:
    """The reports a node tracks: its own sensors', plus those its links pass it.

    A link (:class:`hyperdef.scenario.Link`) that shares ``detections`` passes the
    sender's own sensors' reports that their marking releases to the receiver, arriving
    ``latency_s`` later (``t_report`` shifted). Nothing else reaches the node's tracker
    (links sharing ``tracks`` are fused after tracking, :func:`node_picture`).
    """
    from hyperdef.tracking.nodes import released_to

    nodes = np.asarray(detections.column("node").to_pylist(), dtype=object)
    parts = [detections.filter(pa.array(nodes == node))]
    for sender, receiver, share, latency, _interval in links:
        if receiver != node or share != "detections":
            continue
        theirs = released_to(detections.filter(pa.array(nodes == sender)), node)
        if theirs.num_rows:
            shifted = pc.add(theirs.column("t_report"), float(latency))
            theirs = theirs.set_column(theirs.schema.get_field_index("t_report"), "t_report",
                                       shifted)
        parts.append(theirs)
    return concat_detections(parts)


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
    """
    from hyperdef.engagement.fire_control import run_fire_control
    from hyperdef.tracking.metrics import summary as track_summary
    from hyperdef.tracking.nodes import released_to
    from hyperdef.tracking.tracker import run_tracker

    root = int(scenario.seed if seed is None else seed)
    if root < 0:
        raise InputError(f"seed: {root} must be >= 0")
    streams = np.random.SeedSequence(root).spawn(2 + len(scenario.sensors))
    threat_rng = np.random.default_rng(streams[0])
    engage_rng = np.random.default_rng(streams[1])
    timings: dict[str, float] = {}

    def stage(name: str) -> float:
        if progress is not None:
            progress(name)
        return time.perf_counter()

    start = stage("threats")
    truth = _fly_threats(scenario, threat_rng)
    timings["threats_s"] = time.perf_counter() - start

    start = stage("sensors")
    reports = [sensor.observe(truth, np.random.default_rng(stream))
               for sensor, stream in zip(scenario.sensors, streams[2:], strict=True)]
    detections = concat_detections(reports)
    timings["sensors_s"] = time.perf_counter() - start

    start = stage("tracking")
    pictures = {}
    own = {}
    for node in scenario.nodes:  # one tracker per nation (a few)
        own[node] = run_tracker(node_reports(detections, node, scenario.links),
                                scenario.trackers[node], node=node).table
    for node in scenario.nodes:
        pictures[node] = node_picture(own, node, scenario.links)
    if scenario.fusion is not None:  # central fusion of every report released to the node
        fusing_node, config = scenario.fusion
        fused = run_tracker(released_to(detections, fusing_node), config, node=fusing_node)
        pictures["fused"] = fused.table
    # one table of every picture; the extra ``picture`` column tells them apart (the fused
    # picture's rows carry the fusing node, like that node's own picture)
    tracks = pa.concat_tables([
        table.append_column("picture", pa.array([name] * table.num_rows, pa.string()))
        for name, table in pictures.items()]) if pictures else pa.table({})
    timings["tracking_s"] = time.perf_counter() - start

    start = stage("engagement")
    engagement_tables = []
    windows = {}
    sources = list(dict.fromkeys(source for _, source in scenario.batteries))
    for source in sources:  # one weapon-target assignment per picture fired on
        batteries = [b for b, s in scenario.batteries if s == source]
        result = run_fire_control(pictures[source], batteries, truth, rng=engage_rng)
        engagement_tables.append(result.engagements)
        windows.update(result.windows)
    if engagement_tables:
        engagements = pa.concat_tables(engagement_tables)
        shot = np.asarray(engagements.column("shot_id").to_numpy()) >= 0
        ids = np.cumsum(shot) * shot - (~shot)
        engagements = engagements.set_column(0, "shot_id", pa.array(ids, pa.int64()))
    else:
        from hyperdef.engagement.fire_control import ENGAGEMENTS_SCHEMA

        engagements = ENGAGEMENTS_SCHEMA.empty_table()
    timings["engagement_s"] = time.perf_counter() - start

    summary = _summary(scenario, root, truth, detections, pictures, engagements, timings,
                       track_summary)
    return RunResult(truth, detections, tracks, engagements, summary, timings,
                     pictures=pictures, windows=windows)


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
