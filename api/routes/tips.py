"""The current tip: from the database, or generated on a miss; a new one on request;
reactions to a tip and what it was made from."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, status
from temporalio.client import WorkflowFailureError

from api.deps import CurrentUser, DbDep, StateDep
from api.state import AppState
from contracts.problems import Problem
from contracts.tips import (
    GenerateTipInput,
    ReactionCreate,
    ReactionRead,
    TipOutcome,
    TipReason,
    TipWhy,
)
from store import feedback, tips
from store.models import User
from workflows.client import generate_tip

router = APIRouter(prefix="/api", tags=["tips"])
# How long an answer without a tip is given again to GET /api/tip (POST /api/tip/next asks anew).
NOTHING_KEPT = timedelta(minutes=5)


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
    except WorkflowFailureError:  # the run failed, timed out or was terminated
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "no tip could be prepared just now",
            headers={"Retry-After": "5"},
        ) from None


@router.get("/tip", response_model=TipOutcome, responses={401: {"model": Problem}})
async def get_tip(user: CurrentUser, state: StateDep) -> TipOutcome:
    """The stored tip if it is still current; otherwise decide one now and wait for it.

    A live session with a current tip is answered from one database read, before routing
    (api/fast_tip.py); this route answers every case.
    """
    now = datetime.now(UTC)
    async with state.sessions() as db:
        stored = await tips.current_tip(db, user_id=user.id, now=now)
        kept = None
        if stored is None:
            # A recent "nothing now" (or quiet, or budget) still stands: do not decide again.
            kept = await tips.kept_answer(db, user_id=user.id, now=now, within=NOTHING_KEPT)
    if stored is not None:
        return TipOutcome(status="tip", tip=stored)
    return kept or await _generate(state, user, "miss")


@router.post("/tip/next", response_model=TipOutcome)
async def next_tip(user: CurrentUser, state: StateDep) -> TipOutcome:
    """Ask for a new tip now; concurrent requests join one generation."""
    return await _generate(state, user, "next")


NO_SUCH_TIP = "no such tip"


@router.post(
    "/tips/{tip_id}/reaction",
    response_model=ReactionRead,
    responses={404: {"description": "no such tip of the caller"}},
)
async def react(
    tip_id: uuid.UUID, body: ReactionCreate, user: CurrentUser, db: DbDep
) -> ReactionRead:
    """Record a reaction; done, not now and not for me dismiss the tip. Idempotent."""
    found = await feedback.record_reaction(db, user_id=user.id, tip_id=tip_id, kind=body.kind)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_TIP)
    return found


@router.get(
    "/tips/{tip_id}/why",
    response_model=TipWhy,
    responses={404: {"description": "no such tip of the caller"}},
)
async def why(tip_id: uuid.UUID, user: CurrentUser, db: DbDep) -> TipWhy:
    """The contributing agents' snippets as they were when the tip was made."""
    found = await tips.tip_why(db, user_id=user.id, tip_id=tip_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_SUCH_TIP)
    return found
