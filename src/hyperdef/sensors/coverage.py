"""Coverage of one threat by a set of sensors: when each first sees it, and for how long.

For each sensor and one object of a trajectory:

first detection
    The first true report (``truth_id`` the object, not a false alarm) in an actual
    :meth:`observe` run over the flight with the given random generator: a draw, not an
    expectation, so it moves with the seed. Its slant range is from the reporting
    platform (for a constellation, the detecting satellite; for an aircraft, its
    navigated position) to the true target, and the target altitude is the truth's.
coverage
    Time in track-quality coverage: the sensor's looks (its revisit or frame grid,
    :func:`~hyperdef.sensors.base.look_times`) where ``detection_probability >= 0.5``
    (:data:`TRACK_PD`), each counted for one look period.
warning time
    Impact (the object's last sample) minus the first detection.

Times in the report are from launch (the object's first sample), s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperdef.errors import InputError
from hyperdef.sensors.base import look_times
from hyperdef.sensors.truth import truth_at
from hyperdef.threats.trajectory import PHASE_CODE, Trajectory

__all__ = ["TRACK_PD", "coverage_report", "look_grid"]

#: detection probability per look taken as track-quality coverage
TRACK_PD = 0.5


def look_grid(sensor) -> tuple[float, float]:
    """(period_s, phase_s) of a sensor's looks (an aircraft: its faster sensor's)."""
    if sensor.kind == "radar":
        return sensor.revisit_s, sensor.scan_phase_s
    if sensor.kind == "space_ir":
        return sensor.payload.frame_period_s, sensor.payload.frame_phase_s
    if sensor.kind == "airborne":
        parts = [s for s in (sensor.radar, sensor.eoir) if s is not None]
        best = min(parts, key=lambda s: s.period_s)
        return best.period_s, best.phase_s
    raise InputError(f"sensor kind: {sensor.kind!r} unknown")


def _intervals(times: np.ndarray, covered: np.ndarray, period_s: float) -> list[list[float]]:
    """Runs of covered looks as [start, end] pairs, s (each look lasts one period)."""
    if not covered.any():
        return []
    edges = np.diff(np.concatenate([[0], covered.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [
        [float(times[a]), float(times[b] + period_s)] for a, b in zip(starts, ends, strict=True)
    ]


def coverage_report(
    sensors: list,
    trajectory: Trajectory,
    rng: np.random.Generator,
    *,
    index: int = 0,
    track_pd: float = TRACK_PD,
    reports: list | None = None,
) -> list[dict[str, Any]]:
    """Per-sensor first detection, coverage and warning time of object ``index``.

    Parameters
    ----------
    sensors : list
        Sensor objects (``kind``, ``reporting``, ``detection_probability``, ``observe``).
    trajectory : Trajectory
        The threat(s); only object ``index`` is reported.
    rng : numpy.random.Generator
        Source of the observe runs' draws (sensors in list order).
    index : int
        Object of ``trajectory``.
    track_pd : float
        Detection probability per look counted as coverage, in (0, 1].
    reports : list, optional
        When given, each sensor's Detections table of the run (false alarms included)
        is appended to it, so the caller can write the reports out.

    Returns
    -------
    list of dict
        One per sensor, in order: ``sensor_id``, ``kind``, ``node``,
        ``first_detection_s`` (from launch; None if never), ``first_detection_range_km``,
        ``first_detection_alt_km``, ``first_detection_phase``, ``coverage_s``,
        ``first_coverage_s`` (first look with Pd >= track_pd, from launch),
        ``warning_time_s``, ``intervals_s`` (covered spans from launch) and
        ``detections`` (true reports in the run).
    """
    if not 0 <= index < trajectory.n_objects:
        raise InputError(f"index: {index} outside [0, {trajectory.n_objects - 1}]")
    if not 0.0 < track_pd <= 1.0:
        raise InputError(f"track_pd: {track_pd!r} outside (0, 1]")
    rows = trajectory.rows(index)
    t_launch = float(trajectory.t[rows][0])
    t_impact = float(trajectory.t[rows][-1])
    one = _select(trajectory, index)
    kind = one.kind
    phase_names = {code: name for name, code in PHASE_CODE.items()}
    report = []
    for sensor in sensors:
        period, phase = look_grid(sensor)
        times = look_times(t_launch, t_impact, period, phase)
        truth = truth_at(one, times)
        pd = sensor.detection_probability(truth, kind=kind)[0] if times.size else np.zeros(0)
        covered = pd >= track_pd
        table = sensor.observe(one, rng, t_launch, t_impact)
        if reports is not None:
            reports.append(table)
        true = (
            table.filter(~np.asarray(table.column("false_alarm"), dtype=bool))
            if table.num_rows
            else table
        )
        entry: dict[str, Any] = {
            "sensor_id": sensor.reporting.sensor_id,
            "kind": sensor.kind,
            "node": sensor.reporting.node,
            "first_detection_s": None,
            "first_detection_range_km": None,
            "first_detection_alt_km": None,
            "first_detection_phase": None,
            "coverage_s": round(float(covered.sum() * period), 3),
            "first_coverage_s": (
                round(float(times[np.argmax(covered)] - t_launch), 3) if covered.any() else None
            ),
            "warning_time_s": None,
            "intervals_s": [
                [round(a - t_launch, 3), round(b - t_launch, 3)]
                for a, b in _intervals(times, covered, period)
            ],
            "detections": int(true.num_rows),
        }
        if true.num_rows:
            t = np.asarray(true.column("t"), dtype=float)
            j = int(np.argmin(t))
            t_first = float(t[j])
            sensor_r = np.array(
                [true.column(c)[j].as_py() for c in ("sensor_x", "sensor_y", "sensor_z")]
            )
            at = truth_at(one, np.array([t_first]))
            slant = float(np.linalg.norm(at.r_ecef_m[0, 0] - sensor_r))
            entry.update(
                {
                    "first_detection_s": round(t_first - t_launch, 3),
                    "first_detection_range_km": round(slant / 1e3, 3),
                    "first_detection_alt_km": round(float(at.alt_m[0, 0]) / 1e3, 3),
                    "first_detection_phase": phase_names.get(int(at.phase[0, 0])),
                    "warning_time_s": round(t_impact - t_first, 3),
                }
            )
        report.append(entry)
    return report


def _select(trajectory: Trajectory, index: int) -> Trajectory:
    """Object ``index`` alone, as a one-object trajectory."""
    if trajectory.n_objects == 1:
        return trajectory
    import dataclasses

    rows = trajectory.rows(index)
    per_row = {}
    per_object = {}
    n_rows = trajectory.t.size
    for f in dataclasses.fields(trajectory):
        value = getattr(trajectory, f.name)
        if f.name == "offsets":
            continue
        if (
            isinstance(value, np.ndarray)
            and value.shape[:1] == (trajectory.n_objects,)
            and f.name in ("kind", "launch_lla", "aim_lla", "status")
        ):
            per_object[f.name] = value[index : index + 1]
        elif isinstance(value, np.ndarray) and value.shape[:1] == (n_rows,):
            per_row[f.name] = value[rows]
    size = rows.stop - rows.start
    return dataclasses.replace(trajectory, offsets=np.array([0, size]), **per_row, **per_object)

