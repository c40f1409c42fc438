"""What every sensor kind shares: who reports, under which marking, and when it looks.

Each sensor (radar, space infrared, airborne ISR) carries a :class:`Reporting` that
names it, the coalition node that operates it and the nations its reports may be
released to, and the delay from a measurement to its report reaching the node. Its
scan instants come from :func:`look_times`, a grid ``phase + n * period`` that is the
same whatever span is asked for, so two calls over overlapping spans agree.

Every sensor class also offers the same members, so coverage and simulation code
can call any of them alike:

- ``kind`` (class attribute): ``"radar"``, ``"space_ir"``, ``"airborne"``;
- ``position_velocity_ecef(t_s)``: sensor ECEF position (m) and velocity (m/s), (K, 3) each;
- ``detection_probability(truth)``: (B, K) probability of detecting each object at each
  time of a :class:`~hyperdef.sensors.truth.TruthSamples`;
- ``observe(trajectory, rng, t_start_s=None, t_end_s=None)``: a Detections table.

References
----------
.. [1] ISO 3166-1:2020, alpha-3 country codes (the node trigraphs).
.. [2] ODNI, Intelligence Community Authorized Classification and Control Markings
   Register and Manual, "REL TO" dissemination control (marking order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hyperdef.core.markings import check_node, format_marking
from hyperdef.errors import InputError

__all__ = ["Reporting", "look_times"]

#: relative tolerance on the scan grid, so that an instant equal to a span end up to
#: rounding is kept
_GRID_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Reporting:
    """Identity, releasability and report delay of one sensor.

    Attributes
    ----------
    sensor_id : str
        Name of the sensor in the Detections table (non-empty).
    node : str
        ISO 3166 trigraph of the operating nation (:data:`~hyperdef.core.markings.NODES`).
    releasable_to : tuple of str
        Nations beyond ``node`` that may receive the reports.
    report_latency_s : float
        Delay from the measurement time ``t`` to ``t_report``, s, >= 0.

    References
    ----------
    .. [1] ODNI, Intelligence Community Authorized Classification and Control Markings
       Register and Manual, "REL TO" (the marking convention of ``marking``).
    """

    sensor_id: str
    node: str
    releasable_to: tuple[str, ...] = ()
    report_latency_s: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.sensor_id, str) or not self.sensor_id.strip():
            raise InputError(f"sensor_id: {self.sensor_id!r} must be a non-empty string")
        check_node(self.node, "node")
        if isinstance(self.releasable_to, str):
            raise InputError(
                f"releasable_to: {self.releasable_to!r} must be a tuple of trigraphs, "
                "not one string"
            )
        object.__setattr__(self, "releasable_to", tuple(self.releasable_to))
        for i, nation in enumerate(self.releasable_to):
            check_node(nation, f"releasable_to[{i}]")
        latency = self.report_latency_s
        try:
            ok = math.isfinite(float(latency)) and float(latency) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"report_latency_s: {latency!r} must be a finite number >= 0")
        object.__setattr__(self, "report_latency_s", float(latency))

    @property
    def marking(self) -> str:
        """Releasability marking of every report: ``REL TO USA, JPN`` style."""
        return format_marking({self.node, *self.releasable_to})


def look_times(
    t_start_s: float, t_end_s: float, period_s: float, phase_s: float = 0.0
) -> np.ndarray:
    """Scan instants ``phase_s + n * period_s`` (n integer) that lie in [t_start_s, t_end_s].

    Parameters
    ----------
    t_start_s, t_end_s : float
        Span, s from the scenario epoch; ``t_end_s >= t_start_s``.
    period_s : float
        Revisit interval or frame period, s, > 0.
    phase_s : float, optional
        Time of one scan instant, s; shifts the whole grid.

    Returns
    -------
    ndarray, shape (K,)
        Increasing instants, s; empty when no grid point falls in the span.

    Raises
    ------
    InputError
        If ``period_s <= 0``, a value is not finite, or the span is reversed.
    """
    values = {"t_start_s": t_start_s, "t_end_s": t_end_s, "period_s": period_s, "phase_s": phase_s}
    for name, value in values.items():
        if not np.isfinite(value):
            raise InputError(f"{name}: {value!r} is not finite")
    if period_s <= 0:
        raise InputError(f"period_s: {period_s!r} must be > 0")
    if t_end_s < t_start_s:
        raise InputError(f"t_end_s: {t_end_s!r} is before t_start_s {t_start_s!r}")
    first = math.ceil((t_start_s - phase_s) / period_s - _GRID_TOLERANCE)
    last = math.floor((t_end_s - phase_s) / period_s + _GRID_TOLERANCE)
    return phase_s + period_s * np.arange(first, last + 1, dtype=float)
