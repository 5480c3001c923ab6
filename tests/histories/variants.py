"""Changed versions of GenerateTipWorkflow, to show what replay catches and what it allows."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.tips import GenerateTipInput, TipOutcome
    from workflows.tip_generation import GenerateTipWorkflow


@workflow.defn(name="GenerateTipWorkflow")
class UnpatchedChange:
    """A new command before the first activity, deployed without a patch."""

    @workflow.run
    async def run(self, inp: GenerateTipInput) -> TipOutcome:
        await workflow.sleep(timedelta(seconds=1))
        return await GenerateTipWorkflow().run(inp)


@workflow.defn(name="GenerateTipWorkflow")
class PatchedChange:
    """The same change behind workflow.patched: old histories take the old path."""

    @workflow.run
    async def run(self, inp: GenerateTipInput) -> TipOutcome:
        if workflow.patched("pause-before-tip"):
            await workflow.sleep(timedelta(seconds=1))
        return await GenerateTipWorkflow().run(inp)
