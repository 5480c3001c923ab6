"""Liveness and readiness."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.service import RPCError

from api.deps import StateDep
from api.state import TemporalUnavailableError
from contracts.health import HealthRead, ReadinessRead, Status

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 2.0


@router.get("/healthz", response_model=HealthRead)
async def healthz() -> HealthRead:
    return HealthRead()


async def _database(state: StateDep) -> Status:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return "down"
    return "ok"


async def _temporal(state: StateDep) -> Status:
    try:
        client = await state.temporal()
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            serving = await client.service_client.check_health()
    except (TemporalUnavailableError, TimeoutError, RuntimeError, RPCError):
        # Never connected, or lost since: the connected client raises RPCError.
        return "down"
    return "ok" if serving else "down"


@router.get("/readyz", response_model=ReadinessRead, responses={503: {"model": ReadinessRead}})
async def readyz(state: StateDep) -> JSONResponse:
    """Ready when both the database and Temporal answer; the body says which is down."""
    database, temporal = await asyncio.gather(_database(state), _temporal(state))
    status: Status = "ok" if database == temporal == "ok" else "down"
    body = ReadinessRead(status=status, database=database, temporal=temporal)
    return JSONResponse(body.model_dump(), status_code=200 if status == "ok" else 503)
