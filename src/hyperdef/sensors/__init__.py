"""Sensors: ship and ground radars, the space infrared layer and airborne ISR.

Each sensor looks at threat truth (:func:`~hyperdef.sensors.truth.truth_at`) and
produces a Detections table (:mod:`hyperdef.sensors.detections`).
"""
