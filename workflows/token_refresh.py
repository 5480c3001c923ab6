"""TokenRefreshWorkflow: one provider token's life for one user."""

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.errors import PROVIDER_UNAUTHORIZED, TOKEN_INVALID_GRANT
    from contracts.temporal import (
        CHECK_TOKEN,
        FORGET_TOKEN,
        LOAD_TOKEN_STATE,
        REFRESH_TOKEN,
        REVOKE_TOKEN,
    )
    from contracts.tokens import (
        RefreshNowRequest,
        TokenRef,
        TokenRefreshInput,
        TokenRefreshResult,
        TokenState,
    )
    from workflows.calls import database_activity

# Token endpoints: retried with backoff for a few minutes (5xx, 429), never for invalid_grant
# or a 401, which the activities raise as non-retryable errors.
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=8,
)
PROVIDER_START_TO_CLOSE = timedelta(seconds=20)
PROVIDER_SCHEDULE_TO_CLOSE = timedelta(minutes=10)
REJECTED = (TOKEN_INVALID_GRANT, PROVIDER_UNAUTHORIZED)


def _rejected(err: ActivityError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and cause.type in REJECTED


@workflow.defn
class TokenRefreshWorkflow:
    """Keep one user's provider token usable, or say that it cannot be.

    Input `TokenRefreshInput`, result `TokenRefreshResult` (when disconnected). Expiring tokens
    (Google) are refreshed `refresh_margin` before `expires_at` (`refresh_token`); tokens that
    never expire (Todoist) are checked every `validity_check_every` (`check_token`). A refresh
    is single-flight: concurrent `refresh_now` updates share one token-endpoint call. On
    `invalid_grant` or a 401 the integration is `reconnect_required` and the workflow waits for
    the `reconnected` signal; `disconnect` revokes the token at the provider (`revoke_token`)
    and ends. Continues as new every `iterations_per_run` iterations.
    Started with id `token-refresh-{user_id}-{provider}`.
    """

    @workflow.init
    def __init__(self, inp: TokenRefreshInput) -> None:
        self._ref = TokenRef(user_id=inp.user_id, provider=inp.provider)
        self._state = TokenState(status="active")
        self._expires_at: datetime | None = None  # on the workflow's clock
        self._reconnected = False
        self._disconnect = False
        self._loaded = False  # messages may arrive before the first state load
        # Held across a refresh: concurrent callers wait, then find the token fresh.
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, inp: TokenRefreshInput) -> TokenRefreshResult:
        ref = self._ref
        self._set(await database_activity(LOAD_TOKEN_STATE, ref, TokenState))
        self._loaded = True
        for _ in range(inp.iterations_per_run):
            if self._disconnect:
                return await self._revoke(ref)
            if self._state.status == "reconnect_required":
                await workflow.wait_condition(lambda: self._reconnected or self._disconnect)
                self._reconnected = False
                if not self._disconnect:
                    self._set(await database_activity(LOAD_TOKEN_STATE, ref, TokenState))
                continue
            if self._state.status != "active":
                return TokenRefreshResult(status=self._state.status)
            await self._wait_for_next_check(inp)
            if not self._disconnect and self._state.status == "active":
                await self._maintain(ref, inp)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(inp)

    def _set(self, state: TokenState) -> None:
        self._state = state
        expires_in = state.expires_in
        self._expires_at = None if expires_in is None else workflow.now() + expires_in

    async def _wait_for_next_check(self, inp: TokenRefreshInput) -> None:
        """Sleep until the token needs attention, waking early on a message."""
        if self._expires_at is None:
            delay = inp.validity_check_every
        else:
            due = self._expires_at - inp.refresh_margin
            delay = max(timedelta(0), due - workflow.now())
        # A timeout is the normal way out: the token needs attention now.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._disconnect or self._state.status != "active",
                timeout=delay,
            )

    async def _maintain(self, ref: TokenRef, inp: TokenRefreshInput) -> None:
        name = CHECK_TOKEN if self._expires_at is None else REFRESH_TOKEN
        await self._ensure(name, valid_for=None)

    async def _ensure(self, name: str, *, valid_for: timedelta | None) -> None:
        """Refresh or check under the lock, unless the token is already valid long enough."""
        async with self._lock:
            expires = self._expires_at
            if self._state.status != "active":
                return
            if valid_for is not None and (expires is None or expires >= workflow.now() + valid_for):
                return
            try:
                self._set(
                    await workflow.execute_activity(
                        name,
                        self._ref,
                        result_type=TokenState,
                        start_to_close_timeout=PROVIDER_START_TO_CLOSE,
                        schedule_to_close_timeout=PROVIDER_SCHEDULE_TO_CLOSE,
                        retry_policy=PROVIDER_RETRY,
                    )
                )
            except ActivityError as err:
                if not _rejected(err):
                    raise
                # The activity has already marked the integration reconnect_required.
                self._set(TokenState(status="reconnect_required"))

    async def _revoke(self, ref: TokenRef) -> TokenRefreshResult:
        """Revoke at the provider (retried), then forget the tokens whatever the outcome."""
        async with self._lock:
            confirmed = True
            try:
                await workflow.execute_activity(
                    REVOKE_TOKEN,
                    ref,
                    result_type=TokenState,
                    start_to_close_timeout=PROVIDER_START_TO_CLOSE,
                    schedule_to_close_timeout=PROVIDER_SCHEDULE_TO_CLOSE,
                    retry_policy=PROVIDER_RETRY,
                )
            except ActivityError as err:
                workflow.logger.warning("revocation not confirmed: %s", type(err.cause).__name__)
                confirmed = False
            await database_activity(FORGET_TOKEN, ref, TokenState)
            self._set(TokenState(status="revoked"))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return TokenRefreshResult(status="revoked", revoked_at_provider=confirmed)

    @workflow.update
    async def refresh_now(self, req: RefreshNowRequest) -> TokenState:
        """Make the access token valid for at least `valid_for`; shares an in-flight refresh."""
        await workflow.wait_condition(lambda: self._loaded)
        await self._ensure(REFRESH_TOKEN, valid_for=req.valid_for)
        return self._state

    @refresh_now.validator
    def _validate_refresh_now(self, req: RefreshNowRequest) -> None:
        if self._state.status == "revoked":
            raise ValueError("this integration is disconnected")

    @workflow.signal
    def reconnected(self) -> None:
        """New tokens were stored after the user reconnected."""
        self._reconnected = True

    @workflow.signal
    def disconnect(self) -> None:
        """Revoke the token at the provider and end."""
        self._disconnect = True

    @workflow.query
    def state(self) -> TokenState:
        return self._state
