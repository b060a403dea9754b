"""The in-process executor sleeps while a step waits for a pool slot, instead of spinning.

Every run of this project executes in one process (`in_process_executor`), and the steps that
write the warehouse claim a slot of the `duckdb` pool. While a claim is refused, Dagster's loop
asks `ActiveExecution.sleep_interval()` how long to sleep until it checks the claim again.
In Dagster 1.13, `InstanceConcurrencyContext.interval_to_next_pending_claim_check` answers
`min(0, time to the next check)`, never more than zero, so the loop never sleeps: a run waiting
for the pool keeps a core busy until the slot is free (measured: 100% of a core for the whole
wait), and `runs.watch_pool_wait`, which stops a run only while it sleeps between checks, may
not find it sleeping for minutes. (Dagster's pull request 20367 set out to fix this.)

`apply()` replaces that method with one answering the time until the earliest check of a
pending claim is due (zero when one is due now). Dagster itself still decides when to check
and how its waits grow; only the sleep between checks comes back. It replaces nothing when the
installed Dagster already answers a positive wait.
"""

from __future__ import annotations

import time

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext


def seconds_to_next_claim_check(context: InstanceConcurrencyContext) -> float:
    due = [context._pending_timeouts[step] for step in context._pending_claims if step in context._pending_timeouts]
    return max(0.0, min(due) - time.time()) if due else 0.0


def _dagster_never_sleeps() -> bool:
    """Whether the installed Dagster answers no wait for a claim whose next check is a minute away."""
    probe = InstanceConcurrencyContext.__new__(InstanceConcurrencyContext)
    probe._pending_claims, probe._pending_timeouts = {"probe"}, {"probe": time.time() + 60}
    try:
        return InstanceConcurrencyContext.interval_to_next_pending_claim_check(probe) <= 0
    except Exception:  # a changed implementation: leave it alone
        return False


def apply() -> None:
    # Applied already, the probe finds a positive wait: applying again changes nothing.
    if _dagster_never_sleeps():
        InstanceConcurrencyContext.interval_to_next_pending_claim_check = seconds_to_next_claim_check
