"""The current tip: from the database, or generated on a miss."""

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status

from api.deps import CurrentUser, StateDep
from contracts.tips import GenerateTipInput, TipRead
from store import tips
from workflows.client import generate_tip

router = APIRouter(prefix="/api", tags=["tips"])


@router.get("/tip", response_model=TipRead)
async def get_tip(user: CurrentUser, state: StateDep) -> TipRead:
    """The stored tip if it is still current; otherwise generate one and wait for it."""
    async with state.sessions() as db:
        stored = await tips.current_tip(db, user_id=user.id, now=datetime.now(UTC))
    if stored is not None:
        return stored
    client = await state.temporal()
    try:
        return await asyncio.wait_for(
            generate_tip(
                client,
                GenerateTipInput(user_id=user.id, reason="miss"),
                task_queue=state.settings.task_queue,
            ),
            state.settings.tip_wait_seconds,
        )
    except TimeoutError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "your tip is still being prepared",
            headers={"Retry-After": "2"},
        ) from None
