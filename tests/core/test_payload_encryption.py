"""D1: a canary carried by a workflow is absent from its raw (codec-less) history."""

import uuid

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from tests.histories.canary import CanaryWorkflow, echo_canary, fail_with_canary


async def test_inputs_results_and_failures_are_encrypted_in_history(
    dev_client: Client, task_queue: str
) -> None:
    canary = f"canary-{uuid.uuid4()}"
    async with Worker(
        dev_client,
        task_queue=task_queue,
        workflows=[CanaryWorkflow],
        activities=[echo_canary, fail_with_canary],
    ):
        handle = await dev_client.start_workflow(
            CanaryWorkflow.run, canary, id=f"canary-{uuid.uuid4()}", task_queue=task_queue
        )
        assert await handle.result() == canary  # the codec client reads it back
    # A client without the codec sees only ciphertext: input, result, both failure messages.
    plain = await Client.connect(
        dev_client.service_client.config.target_host, data_converter=pydantic_data_converter
    )
    history = await plain.get_workflow_handle(handle.id).fetch_history()
    raw = b"".join(event.SerializeToString() for event in history.events)
    assert canary.encode() not in raw
    assert b"failure holding" not in raw and b"failed holding" not in raw
    assert b"binary/encrypted" in raw
    assert b"Encoded failure" in raw  # messages and stack traces are encoded attributes
