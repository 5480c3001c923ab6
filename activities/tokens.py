"""Provider token activities: state, refresh, validity check, revocation. Tokens never leave.

Refresh and revocation go through authlib's OAuth 2 client (RFC 6749 refresh, RFC 7009
revocation). Errors are translated once, here: `invalid_grant` and 401 are final (the
integration becomes `reconnect_required`), 429 waits for Retry-After, 5xx and timeouts retry.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.deps import OAuthClientConfig
from activities.todoist import TodoistClient
from contracts.errors import (
    INTEGRATION_NOT_CONNECTED,
    PROVIDER_BAD_REQUEST,
    PROVIDER_RATE_LIMITED,
    PROVIDER_UNAUTHORIZED,
    PROVIDER_UNAVAILABLE,
    TOKEN_INVALID_GRANT,
)
from contracts.temporal import (
    CHECK_TOKEN,
    FORGET_TOKEN,
    LOAD_TOKEN_STATE,
    REFRESH_TOKEN,
    REVOKE_TOKEN,
)
from contracts.tokens import TokenRef, TokenState
from core.vault import TokenVault
from store import integrations

TIMEOUT_S = 15.0
MAX_RETRY_AFTER = timedelta(minutes=15)


def _retry_after(response: httpx.Response | None) -> timedelta | None:
    if response is None:
        return None
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return min(timedelta(seconds=max(seconds, 0)), MAX_RETRY_AFTER)


def _http_error(what: str, response: httpx.Response) -> ApplicationError:
    """One translation of a provider HTTP status (never quoting the request or a token)."""
    status = response.status_code
    if status == 429:
        return ApplicationError(
            f"{what}: rate limited",
            type=PROVIDER_RATE_LIMITED,
            next_retry_delay=_retry_after(response),
        )
    if status == 401:
        return ApplicationError(f"{what}: 401", type=PROVIDER_UNAUTHORIZED, non_retryable=True)
    if status >= 500:
        return ApplicationError(f"{what}: {status}", type=PROVIDER_UNAVAILABLE)
    return ApplicationError(f"{what}: {status}", type=PROVIDER_BAD_REQUEST, non_retryable=True)


class TokenActivities:
    """The token workflow's side effects, for every provider."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        vault: TokenVault,
        *,
        clients: dict[str, OAuthClientConfig],
        todoist_api_base: str,
        http: Callable[[], httpx.AsyncClient] | None = None,
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._clients = clients
        self._todoist_api_base = todoist_api_base
        self._http = http or (lambda: httpx.AsyncClient(trust_env=False, timeout=TIMEOUT_S))

    def _oauth(self, provider: str) -> AsyncOAuth2Client:
        config = self._clients[provider]
        return AsyncOAuth2Client(
            client_id=config.client_id,
            client_secret=config.client_secret.get_secret_value() if config.client_secret else None,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
            revocation_endpoint_auth_method=config.revoke_auth,
            trust_env=False,
            timeout=TIMEOUT_S,
        )

    async def _reconnect_required(self, ref: TokenRef, error_type: str) -> ApplicationError:
        async with self._sessions.begin() as db:
            await integrations.set_status(
                db, user_id=ref.user_id, provider=ref.provider, status="reconnect_required"
            )
        activity.logger.warning("%s token refused: reconnect required", ref.provider)
        return ApplicationError(
            f"{ref.provider} refused the token", type=error_type, non_retryable=True
        )

    async def _tokens(self, ref: TokenRef) -> Any:
        async with self._sessions() as db:
            tokens = await integrations.load_tokens(
                db, user_id=ref.user_id, provider=ref.provider, vault=self._vault
            )
        if tokens is None:
            raise ApplicationError(
                f"no {ref.provider} integration", type=INTEGRATION_NOT_CONNECTED, non_retryable=True
            )
        return tokens

    @activity.defn(name=LOAD_TOKEN_STATE)
    async def load_token_state(self, ref: TokenRef) -> TokenState:
        """The integration's status and expiry (never the token)."""
        async with self._sessions() as db:
            tokens = await integrations.load_tokens(
                db, user_id=ref.user_id, provider=ref.provider, vault=self._vault
            )
        if tokens is None:
            return TokenState(status="missing")
        left = None if tokens.expires_at is None else tokens.expires_at - datetime.now(UTC)
        return TokenState(status=tokens.status, expires_in=left)

    @activity.defn(name=REFRESH_TOKEN)
    async def refresh_token(self, ref: TokenRef) -> TokenState:
        """Use the refresh token; store the new access token (and a rotated refresh token)."""
        tokens = await self._tokens(ref)
        config = self._clients[ref.provider]
        if tokens.refresh_token is None or config.token_url is None:
            raise await self._reconnect_required(ref, TOKEN_INVALID_GRANT)
        async with self._oauth(ref.provider) as client:
            try:
                fresh = await client.refresh_token(
                    config.token_url, refresh_token=tokens.refresh_token.get_secret_value()
                )
            except OAuthError as exc:
                if exc.error == "invalid_grant":
                    raise await self._reconnect_required(ref, TOKEN_INVALID_GRANT) from None
                raise ApplicationError(
                    f"{ref.provider} refresh failed: {exc.error}",
                    type=PROVIDER_BAD_REQUEST,
                    non_retryable=True,
                ) from None
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == 401:
                    raise await self._reconnect_required(ref, PROVIDER_UNAUTHORIZED) from None
                raise _http_error(f"{ref.provider} refresh", exc.response) from None
            except httpx.TransportError as exc:
                raise ApplicationError(
                    f"{ref.provider} unreachable ({type(exc).__name__})", type=PROVIDER_UNAVAILABLE
                ) from None
        expires_in = timedelta(seconds=int(fresh.get("expires_in", 3600)))
        async with self._sessions.begin() as db:
            # A rotated refresh token is stored in the same transaction as the access token.
            await integrations.save_tokens(
                db,
                user_id=ref.user_id,
                provider=ref.provider,
                vault=self._vault,
                access_token=fresh["access_token"],
                refresh_token=fresh.get("refresh_token"),
                expires_at=datetime.now(UTC) + expires_in,
                scopes=tokens.scopes,
            )
        return TokenState(status="active", expires_in=expires_in)

    @activity.defn(name=CHECK_TOKEN)
    async def check_token(self, ref: TokenRef) -> TokenState:
        """A token that never expires is still accepted by its provider (Todoist: /user)."""
        tokens = await self._tokens(ref)
        async with self._http() as http:
            try:
                await TodoistClient(http, api_base=self._todoist_api_base).user(
                    tokens.access_token.get_secret_value()
                )
            except ApplicationError as err:
                if err.type == PROVIDER_UNAUTHORIZED:
                    raise await self._reconnect_required(ref, PROVIDER_UNAUTHORIZED) from None
                raise
        return TokenState(status="active", expires_in=None)

    @activity.defn(name=REVOKE_TOKEN)
    async def revoke_token(self, ref: TokenRef) -> TokenState:
        """Revoke at the provider (RFC 7009); 200 means revoked, 5xx and 429 are retried."""
        async with self._sessions() as db:
            tokens = await integrations.load_tokens(
                db, user_id=ref.user_id, provider=ref.provider, vault=self._vault
            )
        config = self._clients.get(ref.provider)
        if tokens is None or config is None or config.revoke_url is None:
            return TokenState(status="revoked")
        secret = tokens.refresh_token or tokens.access_token
        hint = "refresh_token" if tokens.refresh_token else "access_token"
        async with self._oauth(ref.provider) as client:
            try:
                response = await client.revoke_token(
                    config.revoke_url, token=secret.get_secret_value(), token_type_hint=hint
                )
            except httpx.TransportError as exc:
                raise ApplicationError(
                    f"{ref.provider} unreachable ({type(exc).__name__})", type=PROVIDER_UNAVAILABLE
                ) from None
        if response.status_code != 200:
            raise _http_error(f"{ref.provider} revocation", response)
        return TokenState(status="revoked")

    @activity.defn(name=FORGET_TOKEN)
    async def forget_token(self, ref: TokenRef) -> TokenState:
        """Delete the stored tokens, whether the provider confirmed the revocation or not."""
        async with self._sessions.begin() as db:
            await integrations.delete_integration(db, user_id=ref.user_id, provider=ref.provider)
        return TokenState(status="revoked")
