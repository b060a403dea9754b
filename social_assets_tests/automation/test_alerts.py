"""The run-failure sensor: a structured log line for every failed run, and a POST to the webhook
when one is configured (a real HTTP server on a loopback port here)."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dagster import build_run_status_sensor_context, job, op

from social_assets.defs.automation import post_alert, run_failure_alert
from social_assets_tests.automation.conftest import run_job


@pytest.fixture
def webhook():
    """A tiny HTTP server that records what is POSTed to it; `status` is what it answers."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        status = 204

        def do_POST(self):  # noqa: N802 - stdlib name
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append({"path": self.path, "type": self.headers["content-type"], "json": json.loads(body)})
            self.send_response(Handler.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T0KEN-abc123", received, Handler
    server.shutdown()
    server.server_close()


def alert_for(instance, result):
    context = build_run_status_sensor_context(
        sensor_name="run_failure_alert",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()
    run_failure_alert(context)


def alert_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "social_assets.alerts"]


def test_a_failed_run_is_logged_and_posted_to_the_webhook(warehouse, instance, webhook, monkeypatch, caplog):
    url, received, _ = webhook
    monkeypatch.setenv("SOCIAL_ALERT_WEBHOOK_URL", url)
    config = {"ops": {"collect": {"config": {"sources": ["r/not_configured"]}}}}
    result = run_job(instance, "collect_platform_day", "2026-11-19|reddit", config, success=False)

    with caplog.at_level(logging.ERROR, logger="social_assets.alerts"):
        alert_for(instance, result)

    (line,) = alert_lines(caplog)
    assert line["event"] == "dagster_run_failed"
    assert (line["job"], line["run_id"], line["partition"]) == ("collect_platform_day", result.run_id, "2026-11-19|reddit")
    (step,) = line["failed_steps"]
    assert step["step"] == "collect.fetch" and "['r/not_configured'] not in the sources file" in step["error"]
    assert "collect_platform_day" in line["message"]
    (post,) = received
    assert post["path"] == "/hooks/T0KEN-abc123" and post["type"] == "application/json"
    assert post["json"] == line
    # No run config, no webhook address in what is sent.
    assert "T0KEN" not in json.dumps(line) and "ops" not in line


def test_secrets_in_an_error_never_reach_the_alert_and_no_webhook_means_log_only(instance, monkeypatch, caplog, webhook):
    _, received, _ = webhook
    monkeypatch.delenv("SOCIAL_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaSyFAKE-secret-key-0123")

    @op
    def call_api():
        raise RuntimeError("request to /youtube/v3/videos?key=AIzaSyFAKE-secret-key-0123 refused")

    @job
    def leaky():
        call_api()

    result = leaky.execute_in_process(instance=instance, raise_on_error=False)
    with caplog.at_level(logging.ERROR, logger="social_assets.alerts"):
        alert_for(instance, result)

    (line,) = alert_lines(caplog)
    assert line["failed_steps"][0]["error"].endswith("request to /youtube/v3/videos?key=[redacted] refused")
    assert "AIzaSyFAKE" not in json.dumps(line)
    assert received == []


def test_a_webhook_that_fails_does_not_fail_the_sensor(instance, monkeypatch, caplog, webhook):
    url, received, handler = webhook
    handler.status = 500
    monkeypatch.setenv("SOCIAL_ALERT_WEBHOOK_URL", url)

    @op
    def broken():
        raise RuntimeError("boom")

    @job
    def failing():
        broken()

    result = failing.execute_in_process(instance=instance, raise_on_error=False)
    with caplog.at_level(logging.ERROR, logger="social_assets.alerts"):
        alert_for(instance, result)  # does not raise
    assert len(received) == 1 and len(alert_lines(caplog)) == 1

    assert post_alert(url, {"event": "test"}) == "webhook answered 500"

    nowhere = "http://127.0.0.1:9/nothing-listens-here"
    monkeypatch.setenv("SOCIAL_ALERT_WEBHOOK_URL", nowhere)
    with caplog.at_level(logging.ERROR, logger="social_assets.alerts"):
        alert_for(instance, result)
    assert len(alert_lines(caplog)) == 2
    assert post_alert(nowhere, {"event": "test"}) == "webhook not reached (ConnectError)"
