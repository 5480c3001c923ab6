"""The authlib client registry ("oidc" login, "todoist" integration) and the callback checks.

authlib keeps each pending authorization (state, PKCE verifier, nonce, redirect_uri) in
`request.session`, which Starlette's SessionMiddleware stores in a short-lived signed cookie
(`oo_oauth`): it is not the user's session (those are server-side, see store/sessions.py).
State is keyed by provider name, so a state minted for one provider is unknown at another's
callback (mix-up defence) and is refused before any token request.
"""

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import Request, Response
from joserfc.errors import JoseError

from api.errors import FlowError
from api.state import StateLedger
from core.settings import Settings

OIDC = "oidc"
TODOIST = "todoist"
# Todoist joins scopes with commas; data:read is enough to read tasks.
TODOIST_SCOPES = ("data:read",)
STATE_COOKIE = "oo_oauth"
SECURE_STATE_COOKIE = "__Host-oo_oauth"
# A pending authorization lives this long: time enough to consent at the provider.
STATE_MAX_AGE_S = 600
HTTP_TIMEOUT_S = 10.0
NEXT_KEY = "oo_next"
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")

log = logging.getLogger(__name__)


def build_oauth(settings: Settings) -> Any:
    """The registry; a provider without a client id is not registered (its routes say so)."""
    _quiet_authlib()
    oauth = OAuth()
    if settings.oidc_client_id:
        oauth.register(
            OIDC,
            client_id=settings.oidc_client_id,
            client_secret=_secret(settings.oidc_client_secret),
            server_metadata_url=settings.oidc_discovery_url,
            client_kwargs={
                "scope": settings.oidc_scopes,
                "code_challenge_method": "S256",
                "timeout": HTTP_TIMEOUT_S,
            },
        )
    if settings.todoist_client_id:
        oauth.register(
            TODOIST,
            client_id=settings.todoist_client_id,
            client_secret=_secret(settings.todoist_client_secret),
            authorize_url=settings.todoist_authorize_url,
            access_token_url=settings.todoist_token_url,
            client_kwargs={
                "scope": ",".join(TODOIST_SCOPES),
                "code_challenge_method": "S256",
                # Todoist takes the client credentials in the form body; authlib defaults to Basic.
                "token_endpoint_auth_method": "client_secret_post",
                "timeout": HTTP_TIMEOUT_S,
            },
        )
    return oauth


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


def _quiet_authlib() -> None:
    """authlib logs the PKCE verifier at DEBUG: its logger stays at INFO or above."""
    logger = logging.getLogger("authlib")
    if logger.level == logging.NOTSET or logger.level < logging.INFO:
        logger.setLevel(logging.INFO)


def state_cookie_secret(settings: Settings) -> str:
    """The signing key of the state cookie, derived from the server's hash salt.

    Without a salt (tests, a first start) a random key per process: pending sign-ins do not
    survive a restart, which costs one retry.
    """
    salt = settings.hash_salt.get_secret_value()
    if not salt:
        return secrets.token_hex(32)
    return hmac.new(salt.encode(), b"oo/oauth-state-cookie", hashlib.sha256).hexdigest()


def state_cookie_name(settings: Settings) -> str:
    return SECURE_STATE_COOKIE if settings.secure_cookies else STATE_COOKIE


def callback_url(settings: Settings, path: str) -> str:
    """The configured public URL plus path: never derived from Host or X-Forwarded-Host."""
    return f"{settings.public_url}{path}"


def safe_next(value: str | None) -> str:
    """A same-origin relative path to go to after sign-in; anything else is `/`."""
    if not value or len(value) > 2000 or not value.startswith("/"):
        return "/"
    # Browsers read a backslash as a slash and drop tabs and newlines: `/\\evil`, `/\t/evil`.
    if "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if value.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return value


@dataclass(frozen=True)
class FlowTexts:
    """What the person reads when a provider's authorization flow stops."""

    what: str  # "Sign-in", "Connecting Todoist"
    denied_title: str
    denied_detail: str

    def expired(self) -> FlowError:
        return FlowError(
            400,
            f"{self.what} expired",
            f"{self.what} was started in another tab, more than ten minutes ago, or already "
            "finished. Start again from the beginning.",
        )

    def failed(self, reason: str) -> FlowError:
        return FlowError(400, f"{self.what} failed", f"{reason} Please try again.")

    def unreachable(self) -> FlowError:
        return FlowError(
            502, f"{self.what} failed", "The provider could not be reached. Try again shortly."
        )

    def provider_error(self, error: str) -> FlowError:
        if error == "access_denied":
            return FlowError(400, self.denied_title, self.denied_detail)
        code = error if _ERROR_CODE.fullmatch(error) else "an error"
        return self.failed(f"The provider answered {code}.")


def client_for(oauth: Any, name: str, *, what: str) -> Any:
    """The registered client, or 503 when the provider is not configured."""
    client = oauth.create_client(name) if oauth is not None else None
    if client is None:
        detail = f"{what} is not configured on this server."
        raise FlowError(503, f"{what} is not available", detail)
    return client


async def start(request: Request, client: Any, *, redirect_uri: str, texts: FlowTexts) -> Response:
    """Redirect to the provider with a fresh state, PKCE S256 (and a nonce for OpenID)."""
    try:
        response: Response = await client.authorize_redirect(request, redirect_uri)
    except (httpx.HTTPError, ValueError, KeyError) as exc:  # discovery unreachable or malformed
        log.warning("%s: authorization request failed: %s", client.name, type(exc).__name__)
        raise texts.unreachable() from None
    return response


async def finish(
    request: Request, client: Any, *, ledger: StateLedger, texts: FlowTexts
) -> dict[str, Any]:
    """The token of a callback, after the provider error and state checks.

    A provider error is answered first (Todoist sends it without a state); a missing, unknown,
    other provider's or replayed state is refused before any request to the token endpoint.
    """
    error = request.query_params.get("error")
    if error is not None:
        raise texts.provider_error(error)
    state = request.query_params.get("state")
    if not state or not request.query_params.get("code"):
        raise texts.expired()
    if await client.framework.get_state_data(request.session, state) is None:
        raise texts.expired()
    if not ledger.claim(client.name, state):
        raise texts.expired()
    try:
        token: dict[str, Any] = await client.authorize_access_token(request)
    except OAuthError as exc:
        log.info("%s: authorization refused: %s", client.name, exc.error)
        raise texts.failed("The provider did not confirm it.") from None
    except (JoseError, AuthlibBaseError) as exc:
        log.warning("%s: ID token rejected: %s", client.name, type(exc).__name__)
        raise texts.failed("The provider's answer could not be verified.") from None
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("%s: token request failed: %s", client.name, type(exc).__name__)
        raise texts.unreachable() from None
    if not token.get("access_token"):
        raise texts.failed("The provider sent no access token.")
    return token
