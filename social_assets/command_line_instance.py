"""The Dagster instance `social-assets run` executes its runs with: several at once in one
process, a platform each, in threads.

It is the Dagster home's instance (storage, pools, settings) with two differences that make
runs in threads of one process safe:

- runs do not copy the process's stdout and stderr into compute log files: each run's capture
  swaps the process's file descriptors 1 and 2 for its own file, and runs ending out of order
  would leave the terminal writing into another run's log. Every run's events stay in the
  event log;
- starting a run does not reconfigure Python logging. Dagster calls `logging.config.dictConfig`
  at every run start (for `python_logs` handlers, even when none are configured), which closes
  every handler of the process while holding the logging lock: with another run logging at that
  moment, the two threads deadlock (seen: the command hung). Configured handlers still apply.

It also lets the command line act when a run's fetch step is done (`after_fetch`): runs of
several platforms fetch at once, then take turns at the warehouse in this process, so their
pooled steps never queue in Dagster, whose executor checks a waiting claim again only after a
growing interval (up to 15 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from dagster import DagsterEventType, DagsterInstance
from dagster._core.instance.ref import InstanceRef

NO_COMPUTE_LOG_CAPTURE = {"module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager"}


FETCH_STEP = "collect.fetch"


class CommandLineInstance(DagsterInstance):
    @property
    def after_fetch(self) -> dict[str, Callable[[], None]]:
        """run id -> called in the run's own thread once its fetch step succeeded, before its
        next step starts; it may block (the run waits for its turn at the warehouse)."""
        return self.__dict__.setdefault("_after_fetch", {})

    def handle_new_event(self, event, **kwargs) -> None:
        super().handle_new_event(event, **kwargs)
        dagster_event = event.dagster_event
        if (
            dagster_event is not None
            and dagster_event.event_type == DagsterEventType.STEP_SUCCESS
            and dagster_event.step_key == FETCH_STEP
            and event.run_id in self.after_fetch
        ):
            self.after_fetch.pop(event.run_id)()

    @classmethod
    def config_schema(cls) -> dict:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> dict:
        return InstanceRef.config_defaults(base_dir)

    def get_yaml_python_handlers(self):
        if not self.get_python_log_dagster_handler_config():
            return []  # nothing to configure: leave the process's logging alone
        return super().get_yaml_python_handlers()


def command_line_instance(home: Path) -> DagsterInstance:
    return DagsterInstance.from_ref(
        InstanceRef.from_dir(
            str(home),
            overrides={
                "compute_logs": NO_COMPUTE_LOG_CAPTURE,
                "instance_class": {"module": __name__, "class": CommandLineInstance.__name__},
            },
        )
    )
