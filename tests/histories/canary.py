"""A workflow that carries a canary through its input, an activity and a failure (D1 tests)."""

import contextlib
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ActivityError, ApplicationError


@activity.defn(name="echo_canary")
async def echo_canary(text: str) -> str:
    """Return the text, after failing once with it in the failure message."""
    if activity.info().attempt == 1:
        raise ApplicationError(f"first attempt failed holding {text}")
    return text


@activity.defn(name="fail_with_canary")
async def fail_with_canary(text: str) -> str:
    raise ApplicationError(f"final failure holding {text}", non_retryable=True)


@workflow.defn
class CanaryWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        echoed: str = await workflow.execute_activity(
            "echo_canary", text, result_type=str, start_to_close_timeout=timedelta(seconds=10)
        )
        with contextlib.suppress(ActivityError):
            await workflow.execute_activity(
                "fail_with_canary",
                text,
                result_type=str,
                start_to_close_timeout=timedelta(seconds=10),
            )
        return echoed
