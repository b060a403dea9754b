"""The project's Dagster UI (`make dev`, i.e. `social-assets dev`: `dagster dev`'s webserver,
daemon and code server) started for a test on a free port with a temporary DAGSTER_HOME, and
driven through its GraphQL API as the browser does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from social_assets.settings import PROJECT_ROOT

LOCATION = "social_assets"
REPOSITORY = "__repository__"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DagsterUI:
    def __init__(self, home: Path, env: dict[str, str], log: Path):
        self.home, self.env, self.log = home, env, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.http = httpx.Client(timeout=60)

    def __enter__(self) -> "DagsterUI":
        self.home.mkdir(parents=True, exist_ok=True)
        # `make dev`'s command: it writes DAGSTER_HOME/dagster.yaml and starts `dagster dev`.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "social_assets.cli", "dev", "--port", str(self.port)],
            cwd=PROJECT_ROOT,
            env={**self.env, "DAGSTER_HOME": str(self.home)},
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the webserver, daemon and code server end together
        )
        try:
            self._wait_until_loaded(timeout=240)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.http.close()
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def _wait_until_loaded(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"dagster dev exited: {self.log.read_text()[-3000:]}"
            try:
                data = self.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name "
                                    "locationOrLoadError { __typename } } } } }")
            except httpx.TransportError:
                time.sleep(1)
                continue
            entries = data["workspaceOrError"]["locationEntries"]
            states = {e["name"]: (e["locationOrLoadError"] or {}).get("__typename") for e in entries}
            if states.get(LOCATION) == "RepositoryLocation":
                wait_until_printed = time.monotonic() + 10
                while f"Dagster UI ready: {self.url}" not in self.log.read_text():
                    assert time.monotonic() < wait_until_printed, "the UI's URL was not printed"
                    time.sleep(0.5)
                return
            assert states.get(LOCATION) != "PythonError", f"the code location failed to load: {self.log.read_text()[-3000:]}"
            time.sleep(1)
        raise TimeoutError(f"the UI did not load {LOCATION} in {timeout} s")

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = self.http.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}})
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    # -- what the UI's buttons do --------------------------------------------------------------

    def launch_partition_run(self, job: str, partition: str, dimensions: dict[str, str]) -> str:
        tags = [{"key": "dagster/partition", "value": partition}] + [
            {"key": f"dagster/partition/{name}", "value": value} for name, value in dimensions.items()
        ]
        data = self.graphql(
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
                 ... on RunConfigValidationInvalid { errors { message } } } }""",
            {"params": {
                "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY, "jobName": job},
                "runConfigData": {},
                "executionMetadata": {"tags": tags},
            }},
        )["launchRun"]
        assert data["__typename"] == "LaunchRunSuccess", data
        return data["run"]["runId"]

    def launch_backfill(self, job: str, partitions: list[str]) -> str:
        data = self.graphql(
            """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
                 __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
            {"params": {
                "selector": {
                    "partitionSetName": f"{job}_partition_set",
                    "repositorySelector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY},
                },
                "partitionNames": partitions,
            }},
        )["launchPartitionBackfill"]
        assert data["__typename"] == "LaunchBackfillSuccess", data
        return data["backfillId"]

    def run(self, run_id: str) -> dict:
        return self.graphql(
            """query($id: ID!) { runOrError(runId: $id) { ... on Run { runId status jobName startTime endTime
                 creationTime tags { key value } } } }""",
            {"id": run_id},
        )["runOrError"]

    def wait_for_run(self, run_id: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(run_id)
            if run["status"] in FINISHED:
                return run
            time.sleep(0.25)
        raise TimeoutError(f"run {run_id} not finished in {timeout} s")

    def runs(self) -> list[dict]:
        return self.graphql(
            """{ runsOrError(limit: 200) { ... on Runs { results { runId status jobName creationTime startTime
                 endTime assetSelection { path } tags { key value } } } } }"""
        )["runsOrError"]["results"]

    def backfill_status(self, backfill_id: str) -> str:
        return self.graphql(
            """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }""",
            {"id": backfill_id},
        )["partitionBackfillOrError"]["status"]

    def check_statuses(self) -> dict[str, tuple[bool, str | None]]:
        """Every asset check: (blocking, status of its latest execution), as the asset pages show them."""
        nodes = self.graphql(
            """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks {
                 name blocking executionForLatestMaterialization { status } } } } } }"""
        )["assetNodes"]
        statuses = {}
        for node in nodes:
            for check in (node["assetChecksOrError"] or {}).get("checks", []):
                latest = check["executionForLatestMaterialization"]
                statuses[f"{'/'.join(node['assetKey']['path'])}:{check['name']}"] = (
                    check["blocking"], latest["status"] if latest else None)
        return statuses

    def turn_off(self, names: set[str]) -> None:
        """Turn schedules and sensors off, as their toggles in the UI do."""
        repository = self.graphql(
            """query($selector: RepositorySelector!) { repositoryOrError(repositorySelector: $selector) {
                 ... on Repository { schedules { name scheduleState { id } } sensors { name sensorState { id } } } } }""",
            {"selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}},
        )["repositoryOrError"]
        found = set()
        for schedule in repository["schedules"]:
            if schedule["name"] in names:
                self.graphql("mutation($id: String!) { stopRunningSchedule(id: $id) { __typename } }",
                             {"id": schedule["scheduleState"]["id"]})
                found.add(schedule["name"])
        for sensor in repository["sensors"]:
            if sensor["name"] in names:
                self.graphql("mutation($id: String!) { stopSensor(id: $id) { __typename } }",
                             {"id": sensor["sensorState"]["id"]})
                found.add(sensor["name"])
        assert found == names, names - found
