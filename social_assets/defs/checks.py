"""Asset checks (issue #4). Filled in by the automation work."""

CHECKS: list = []
