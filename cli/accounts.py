"""`oo delete-account` and `oo recompute`: one user's deletion and agent recompute."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from sqlalchemy import func, select

from contracts.deletion import DELETION_STEPS, AccountDeletionResult
from core.settings import Settings, get_settings
from store.db import create_engine, create_sessionmaker

console = Console(highlight=False, stderr=False)
POLL_S = 0.2


class CliError(Exception):
    """A failure told to the person in one line."""


async def _resolve(settings: Settings, who: str) -> uuid.UUID:
    """The user id named by a user id or an identity's email."""
    from store.models import Identity, User

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            try:
                user_id = uuid.UUID(who)
            except ValueError:
                stmt = select(Identity.user_id).where(func.lower(Identity.email) == who.lower())
                found = set((await db.scalars(stmt)).all())
                if len(found) != 1:
                    # Never list the matching accounts: say how many, nothing personal.
                    raise CliError(
                        "no user has that email"
                        if not found
                        else f"{len(found)} users have that email; give the user id instead"
                    ) from None
                return found.pop()
            if await db.get(User, user_id) is None:
                raise CliError("no such user")
            return user_id
    finally:
        await engine.dispose()


async def _finished_deletion(settings: Settings, user_id: uuid.UUID) -> uuid.UUID | None:
    from store import erasure

    salt = settings.hash_salt.get_secret_value().encode()
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as db:
            audit = await erasure.audit_of(db, subject=erasure.subject_hash(salt, user_id))
            return None if audit is None or audit.completed_at is None else audit.id
    finally:
        await engine.dispose()


async def _delete(settings: Settings, user_id: uuid.UUID) -> AccountDeletionResult | uuid.UUID:
    """Start (or join) the deletion and show its steps until it ends."""
    from contracts.temporal import account_deletion_workflow_id
    from core.temporal import connect
    from workflows.account_deletion import AccountDeletionWorkflow
    from workflows.client import start_account_deletion

    if (done := await _finished_deletion(settings, user_id)) is not None:
        return done
    client = await connect(settings)
    await start_account_deletion(
        client, user_id=user_id, requested_at=datetime.now(UTC), task_queue=settings.task_queue
    )
    handle = client.get_workflow_handle_for(
        AccountDeletionWorkflow.run, account_deletion_workflow_id(user_id)
    )
    result = asyncio.ensure_future(handle.result())
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn(f"{{task.completed}}/{len(DELETION_STEPS)}"),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("deleting", total=len(DELETION_STEPS))
        while not result.done():
            status = await handle.query(AccountDeletionWorkflow.status)
            latest = status.steps_done[-1] if status.steps_done else "starting"
            progress.update(task, completed=len(status.steps_done), description=latest)
            await asyncio.wait([result], timeout=POLL_S)
    return await result


def delete_account(
    who: Annotated[str, typer.Argument(help="The user's id or the email of one of their logins.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a user and everything oO holds about them."""
    settings = get_settings()
    try:
        user_id = asyncio.run(_resolve(settings, who))
        if not yes:
            typer.confirm(
                f"Delete user {user_id} and all their data? This cannot be undone", abort=True
            )
        outcome = asyncio.run(_delete(settings, user_id))
    except typer.Abort:
        raise
    except Exception as exc:  # one clear line, never a stack trace
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.secho(f"could not delete the account: {reason}", err=True, fg="red")
        raise typer.Exit(1) from None
    if isinstance(outcome, uuid.UUID):
        console.print(f"already deleted (deletion {outcome})")
        return
    for step, result in outcome.steps.items():
        shown = (
            result
            if isinstance(result, str)
            else ", ".join(f"{k}: {v}" for k, v in result.items()) or "none"
        )
        console.print(f"{step:>17}  {shown}")
    console.print(f"deleted (deletion {outcome.deletion_id})")


def _per_provider(outcomes: dict[str, str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in outcomes.items()) or "none"


def recompute(
    user_id: Annotated[uuid.UUID, typer.Argument(help="The user's id.")],
    agent: Annotated[
        list[str] | None, typer.Option("--agent", help="An agent id (repeatable; default: all).")
    ] = None,
) -> None:
    """Sync a user's history and recompute their agents now; prints the computed agents."""
    from contracts.compute import RecomputeInput
    from core.temporal import connect
    from workflows.client import start_recompute

    async def run() -> list[str]:
        settings = get_settings()
        client = await connect(settings)
        inp = RecomputeInput(user_id=user_id, agent_ids=agent or None)
        return (await start_recompute(client, inp, task_queue=settings.task_queue)).agent_ids

    try:
        computed = asyncio.run(run())
    except Exception as exc:  # one clear line, never a stack trace
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        typer.secho(f"could not recompute: {reason}", err=True, fg="red")
        raise typer.Exit(1) from None
    console.print("\n".join(computed) if computed else "no agent computed")
