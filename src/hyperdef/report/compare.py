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
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hyperdef.errors import InputError

__all__ = ["compare_summaries", "load_summaries"]


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
