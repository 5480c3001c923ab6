"""How workflows call activities: named timeouts and retry policies, defined once."""

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

R = TypeVar("R", bound=BaseModel)

# Database work: quick retries, bounded so that a dead database fails the caller within minutes.
DATABASE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=6,
)
DATABASE_START_TO_CLOSE = timedelta(seconds=10)
# The overall bound also keeps the time-skipping test server's clock sane (TEMPORAL.md).
DATABASE_SCHEDULE_TO_CLOSE = timedelta(seconds=90)

# A sweep batch computes many users: it heartbeats per user, so a dead worker is noticed in
# seconds and the batch is retried elsewhere (its upserts are idempotent).
BATCH_START_TO_CLOSE = timedelta(minutes=5)
BATCH_SCHEDULE_TO_CLOSE = timedelta(minutes=30)
BATCH_HEARTBEAT = timedelta(seconds=20)


async def database_activity(name: str, arg: BaseModel, result_type: type[R]) -> R:
    """Run a short database-bound activity with its timeouts and retry policy."""
    result: R = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=DATABASE_START_TO_CLOSE,
        schedule_to_close_timeout=DATABASE_SCHEDULE_TO_CLOSE,
        retry_policy=DATABASE_RETRY,
    )
    return result


async def batch_activity(name: str, arg: BaseModel, result_type: type[R]) -> R:
    """Run a long, heartbeating batch activity."""
    result: R = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=BATCH_START_TO_CLOSE,
        schedule_to_close_timeout=BATCH_SCHEDULE_TO_CLOSE,
        heartbeat_timeout=BATCH_HEARTBEAT,
        retry_policy=DATABASE_RETRY,
    )
    return result
