"""Sensors: ship and ground radars, the space infrared layer and airborne ISR.

Each sensor looks at threat truth (:func:`~hyperdef.sensors.truth.truth_at`) and
produces a Detections table (:mod:`hyperdef.sensors.detections`).
"""

from hyperdef.sensors.config import load_sensors
from hyperdef.sensors.coverage import coverage_report

__all__ = ["coverage_report", "load_sensors"]
