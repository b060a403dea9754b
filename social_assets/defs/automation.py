"""Schedules and sensors (issue #4). Filled in by the automation work."""

SCHEDULES: list = []
SENSORS: list = []
