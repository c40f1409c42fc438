"""Side-by-side key numbers of several runs: the value of joint analysis in figures.

Run the same raid with the nodes sharing (``scenarios/regional_raid.yaml``) and without
(``scenarios/regional_raid_national.yaml``), then compare the two runs' ``summary.json``:
one row per (run, picture) with the picture's warning time, track completeness and
accuracy, and the run's shots, kills and leakers.

Definitions (from :func:`hyperdef.simulation.run_scenario`'s summary)
    warning time
        Flight time a threat has left when the picture first holds a firm (confirmed)
        track on it, s; the mean is over the threats the picture ever tracked firmly.
    track completeness
        Fraction of a threat's flight a confirmed track of the picture follows it
        (:func:`hyperdef.tracking.metrics.summary`); the mean is over every threat,
        a threat never tracked counting 0.
    firm tracks
        Threats the picture ever tracked firmly, of all threats.
    common RMSE
        Position RMSE of each picture over the *same* stretches of flight: where every
        compared picture holds a confirmed track on the threat (its confirmed rows joined
        into intervals as for completeness). Each picture's own RMSE is over whatever it
        tracked, so a picture that follows the threats further, into the harder boost or
        terminal dive, can show a larger own RMSE while being more accurate where both see
        them. Defined only for runs of the same raid (same threats, same truth); None
        otherwise or where the pictures share no stretch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hyperdef.errors import InputError

__all__ = ["common_rmse", "compare_runs", "compare_summaries", "load_summaries"]


def load_summaries(folders: list[str | Path]) -> dict[str, dict[str, Any]]:
    """``summary.json`` of each run folder, keyed by the folder's name (made unique)."""
    if len(folders) < 1:
        raise InputError("runs: give at least one run folder")
    out: dict[str, dict[str, Any]] = {}
    for folder in folders:
        path = Path(folder) / "summary.json"
        if not path.is_file():
            raise InputError(f"runs: {str(folder)!r} holds no summary.json (a folder written "
                             "by hyperdef run)")
        try:
            summary = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"runs: {str(path)!r} is not valid JSON ({exc.msg})") from None
        label, k = Path(folder).name or str(folder), 2
        while label in out:
            label, k = f"{Path(folder).name}#{k}", k + 1
        out[label] = summary
    return out


def _mean(values: list) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def compare_summaries(summaries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per (run, picture): the module's key numbers.

    Parameters
    ----------
    summaries : mapping of str to dict
        Run label -> the run's summary (``summary.json``).

    Returns
    -------
    list of dict
        Keys ``run``, ``scenario``, ``picture``, ``threats``, ``firm_tracks``,
        ``warning_mean_s``, ``completeness_mean``, ``rmse_pos_m``, ``shots``, ``kills``,
        ``leakers`` (run-level numbers repeat on each of the run's pictures).
    """
    rows = []
    for label, s in summaries.items():
        try:
            threats = list(s["threats"])
            pictures = list(s.get("tracking", {}))
            base = {"run": label, "scenario": s["scenario"], "threats": len(threats),
                    "shots": s["shots"], "kills": s["kills"], "leakers": s["leakers"]}
        except (KeyError, TypeError) as exc:
            raise InputError(f"runs: {label!r} summary lacks {exc} (written by an older "
                             "hyperdef? run it again)") from None
        for picture in pictures:
            firm = [t.get("time_to_firm_track_s", {}).get(picture) for t in threats]
            warning = [t.get("warning_time_s", {}).get(picture) for t in threats]
            complete = [t.get("track_completeness", {}).get(picture) for t in threats]
            rows.append({
                **base, "picture": picture,
                "firm_tracks": sum(v is not None for v in firm),
                "warning_mean_s": _mean(warning),
                "completeness_mean": _mean([0.0 if v is None else v for v in complete]),
                "rmse_pos_m": s["tracking"][picture].get("rmse_pos_m"),
            })
    return rows


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection of two sorted lists of disjoint closed intervals, shape (k, 2)."""
    lo = np.maximum(a[:, None, 0], b[None, :, 0])
    hi = np.minimum(a[:, None, 1], b[None, :, 1])
    keep = hi > lo
    pairs = np.column_stack([lo[keep], hi[keep]])
    return pairs[np.argsort(pairs[:, 0])] if pairs.size else np.zeros((0, 2))


def common_rmse(truth, pictures: Mapping[str, Any]) -> dict[str, float | None]:
    """Position RMSE of each picture over the stretches every picture tracks (module notes).

    Parameters
    ----------
    truth : hyperdef.threats.trajectory.Trajectory
        The raid's truth (the same for every picture).
    pictures : mapping of str to pyarrow.Table
        Tracks table of each picture.

    Returns
    -------
    dict
        Picture -> RMSE, m (None where the pictures share no tracked stretch).
    """
    from hyperdef.tracking.metrics import assign_truth, held_intervals

    assigned = {name: assign_truth(table, truth) for name, table in pictures.items()}
    common = None
    for a in assigned.values():
        held = held_intervals(a, truth.n_objects)
        common = held if common is None else [_intersect(c, h) for c, h in zip(common, held,
                                                                              strict=True)]
    out: dict[str, float | None] = {}
    for name, a in assigned.items():
        hit = np.flatnonzero(a.object_index >= 0)
        inside = np.zeros(hit.size, dtype=bool)
        for i, spans in enumerate(common or []):
            rows = a.object_index[hit] == i
            ti = a.t[hit]
            for lo, hi in spans:
                inside |= rows & (ti >= lo) & (ti <= hi)
        err = a.error[hit[inside], :3]
        out[name] = float(np.sqrt(np.mean(np.sum(err * err, axis=1)))) if err.size else None
    return out


def compare_runs(folders: list[str | Path]) -> list[dict[str, Any]]:
    """:func:`compare_summaries` of run folders, with ``rmse_common_m`` on each row.

    The common RMSE is computed over every picture of every run when the runs flew the
    same raid (equal truth); otherwise it is None on every row.
    """
    from hyperdef.simulation import RunResult

    summaries = load_summaries(folders)
    results = dict(zip(summaries, (RunResult.load(f) for f in folders), strict=True))
    rows = compare_summaries(summaries)
    truths = [r.truth for r in results.values()]
    first = truths[0]
    same = all(t.n_objects == first.n_objects and t.t.shape == first.t.shape
               and np.array_equal(t.r_ecef_m, first.r_ecef_m) for t in truths)
    rmse: dict[tuple[str, str], float | None] = {}
    if same:
        pictures = {f"{label}\0{name}": table for label, r in results.items()
                    for name, table in r.pictures.items()}
        for key, value in common_rmse(first, pictures).items():
            label, name = key.split("\0")
            rmse[(label, name)] = value
    for row in rows:
        row["rmse_common_m"] = rmse.get((row["run"], row["picture"]))
    return rows
