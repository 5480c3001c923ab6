"""The current tip: from the database, or generated on a miss; a new one on request."""

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status

from api.deps import CurrentUser, StateDep
from api.state import AppState
from contracts.tips import GenerateTipInput, TipOutcome, TipReason
from store import tips
from store.models import User
from workflows.client import generate_tip

router = APIRouter(prefix="/api", tags=["tips"])


async def _generate(state: AppState, user: User, reason: TipReason) -> TipOutcome:
    """Start or join the user's tip generation and wait for it, within the API's patience."""
    client = await state.temporal()
    try:
        return await asyncio.wait_for(
            generate_tip(
                client,
                GenerateTipInput(user_id=user.id, reason=reason),
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


@router.get("/tip", response_model=TipOutcome)
async def get_tip(user: CurrentUser, state: StateDep) -> TipOutcome:
    """The stored tip if it is still current; otherwise decide one now and wait for it."""
    async with state.sessions() as db:
        stored = await tips.current_tip(db, user_id=user.id, now=datetime.now(UTC))
    if stored is not None:
        return TipOutcome(status="tip", tip=stored)
    return await _generate(state, user, "miss")


@router.post("/tip/next", response_model=TipOutcome)
async def next_tip(user: CurrentUser, state: StateDep) -> TipOutcome:
    """Ask for a new tip now; concurrent requests join one generation."""
    return await _generate(state, user, "next")
