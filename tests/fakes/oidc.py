"""A minimal OpenID provider on loopback, for login and token tests without the internet.

    async with fake_oidc() as idp:                  # or `with fake_oidc() as idp:`
        idp.login_as("sub-2", "same@example.com")   # who the next logins are (sticky)
        idp.deny()                                  # next authorize -> error=access_denied
        idp.fail_token("invalid_grant")             # next token call -> 400 invalid_grant
        idp.fail_with(503, path="/revoke")          # next revocation -> 503
        oauth.register("oidc", server_metadata_url=idp.discovery_url,
                       client_id=idp.client_id, client_secret=idp.client_secret, ...)

Discovery at `/.well-known/openid-configuration` (the issuer is the base URL); `/authorize`
auto-approves and redirects back with code and state, storing the PKCE S256 challenge and the
nonce; `/token` serves the authorization_code grant (verifier checked, RS256 ID token signed with
the key at `/jwks`) and the refresh_token grant (no new refresh token unless
`rotate_refresh_tokens`); `/userinfo` answers for a live access token; `/revoke` (RFC 7009)
answers 200. OAuth errors are `{"error": ..., "error_description": ...}`.
"""

import functools
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.fakes.loopback import (
    Fault,
    LoopbackServer,
    basic_auth,
    bearer,
    configure,
    form_of,
    s256,
)
from tests.fakes.loopback import redirect_with as redirect

Json = dict[str, Any]
KEY_ID = "fake-oidc-1"


@functools.cache
def signing_key() -> RSAKey:
    """One RSA key per test process (generation costs tens of milliseconds)."""
    params = {"kid": KEY_ID, "use": "sig", "alg": "RS256"}
    return RSAKey.generate_key(2048, parameters=params, private=True)


@dataclass(frozen=True)
class Identity:
    """Who logs in: the provider's subject and the claims it asserts."""

    subject: str
    email: str
    name: str = "Fake Person"
    email_verified: bool = True

    def claims(self) -> Json:
        return {
            "sub": self.subject,
            "email": self.email,
            "email_verified": self.email_verified,
            "name": self.name,
        }


@dataclass(frozen=True)
class _Pending:
    identity: Identity
    redirect_uri: str
    scope: str
    nonce: str | None
    challenge: str | None


def oauth_error(status: int, error: str, description: str = "", headers: Any = None) -> Response:
    body = {"error": error, "error_description": description or error}
    return JSONResponse(body, status_code=status, headers=headers)


class FakeOIDC(LoopbackServer):
    """The provider's state and behaviour; mutate it between requests."""

    name = "fake-oidc"
    token_prefix = "at-"

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "oo-test-client"
        self.client_secret = "oo-test-secret"
        self.identity = Identity(subject="sub-1", email="person@example.com")
        self.expires_in = 3599
        self.issue_refresh_token = True
        self.rotate_refresh_tokens = False
        self.id_token_ttl_s = 3600
        self.access_tokens: dict[str, Identity] = {}
        self.refresh_tokens: dict[str, Identity] = {}
        self.revoked: list[str] = []
        self._codes: dict[str, _Pending] = {}
        self._denials = 0

    # --- addresses -------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.url

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.url}/revoke"

    @property
    def userinfo_url(self) -> str:
        return f"{self.url}/userinfo"

    # --- knobs -----------------------------------------------------------------------------------

    def login_as(
        self, subject: str, email: str, *, name: str = "Fake Person", email_verified: bool = True
    ) -> Identity:
        """Who the following logins are, until changed."""
        self.identity = Identity(subject, email, name, email_verified)
        return self.identity

    def deny(self, *, times: int = 1) -> None:
        """The next authorizations redirect back with `error=access_denied` (and the state)."""
        self._denials += times

    def fail_token(self, error: str = "invalid_grant", *, times: int | None = 1) -> None:
        """The next token-endpoint calls answer 400 with this OAuth error."""
        self.fail_with(400, error=error, times=times, path="/token")

    def grant(self, identity: Identity | None = None, *, refresh_token: str | None = None) -> str:
        """A live refresh token, as if the person had consented earlier; returns it."""
        token = refresh_token or f"rt-{secrets.token_urlsafe(24)}"
        self.refresh_tokens[token] = identity or self.identity
        return token

    def forget(self, token: str) -> None:
        """The provider drops a token (the person revoked access elsewhere)."""
        self.access_tokens.pop(token, None)
        self.refresh_tokens.pop(token, None)

    @property
    def token_calls(self) -> int:
        return len(self.calls_to("/token"))

    @property
    def refresh_calls(self) -> int:
        calls = self.calls_to("/token")
        return sum(1 for c in calls if (c.body or {}).get("grant_type") == "refresh_token")

    def _error(self, fault: Fault) -> Response:
        status = fault.status or 500
        headers = None if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        default = "invalid_request" if status < 500 else "temporarily_unavailable"
        return oauth_error(status, fault.error or default, headers=headers)

    # --- the app ---------------------------------------------------------------------------------

    def _app(self) -> FastAPI:
        app = FastAPI()
        app.add_api_route("/.well-known/openid-configuration", self._discovery, methods=["GET"])
        app.add_api_route("/jwks", self._jwks, methods=["GET"])
        app.add_api_route("/authorize", self._authorize, methods=["GET"])
        app.add_api_route("/token", self._token, methods=["POST"])
        app.add_api_route("/userinfo", self._userinfo, methods=["GET", "POST"])
        app.add_api_route("/revoke", self._revoke, methods=["POST"])
        return app

    async def _discovery(self) -> Json:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorize_url,
            "token_endpoint": self.token_url,
            "userinfo_endpoint": self.userinfo_url,
            "jwks_uri": f"{self.url}/jwks",
            "revocation_endpoint": self.revoke_url,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "email", "name"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
        }

    async def _jwks(self) -> Json:
        return {"keys": [signing_key().as_dict(private=False)]}

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        uri = q.get("redirect_uri")
        if q.get("client_id") != self.client_id or not uri:
            return oauth_error(400, "invalid_request", "unknown client or no redirect_uri")
        state = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            return redirect(uri, {"error": "unsupported_response_type", **state})
        challenge = q.get("code_challenge")
        if challenge and q.get("code_challenge_method") != "S256":
            return redirect(uri, {"error": "invalid_request", **state})
        if self._denials:
            self._denials -= 1
            return redirect(uri, {"error": "access_denied", **state})
        code = secrets.token_urlsafe(24)
        scope = q.get("scope", "")
        self._codes[code] = _Pending(self.identity, uri, scope, q.get("nonce"), challenge)
        return redirect(uri, {"code": code, **state})

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        pair = basic_auth(request) or (form.get("client_id"), form.get("client_secret"))
        return pair == (self.client_id, self.client_secret)

    async def _token(self, request: Request) -> Response:
        form = form_of(await request.body())
        if not self._client_ok(request, form):
            return oauth_error(401, "invalid_client")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._code_grant(form)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        return oauth_error(400, "unsupported_grant_type")

    def _code_grant(self, form: dict[str, str]) -> Response:
        pending = self._codes.pop(form.get("code", ""), None)
        if pending is None or form.get("redirect_uri") != pending.redirect_uri:
            return oauth_error(400, "invalid_grant", "unknown, used or mismatched code")
        if pending.challenge and s256(form.get("code_verifier", "")) != pending.challenge:
            return oauth_error(400, "invalid_grant", "PKCE verification failed")
        body = self._access(pending.identity, pending.scope)
        if "openid" in pending.scope.split():
            body["id_token"] = self.id_token(pending.identity, nonce=pending.nonce)
        if self.issue_refresh_token:
            body["refresh_token"] = self.grant(pending.identity)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        old = form.get("refresh_token", "")
        identity = self.refresh_tokens.get(old)
        if identity is None:
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        body = self._access(identity, form.get("scope", "openid email profile"))
        if self.rotate_refresh_tokens:
            self.refresh_tokens.pop(old)
            body["refresh_token"] = self.grant(identity)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def _access(self, identity: Identity, scope: str) -> Json:
        token = f"{self.token_prefix}{secrets.token_urlsafe(24)}"
        self.access_tokens[token] = identity
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": scope,
        }

    def id_token(self, identity: Identity, *, nonce: str | None = None) -> str:
        """An RS256 ID token for this client, signed with the key published at /jwks."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + self.id_token_ttl_s,
            "auth_time": now,
            **identity.claims(),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"alg": "RS256", "kid": KEY_ID, "typ": "JWT"}
        return jwt.encode(header, claims, signing_key())

    async def _userinfo(self, request: Request) -> Response:
        identity = self.access_tokens.get(bearer(request) or "")
        if identity is None:
            return oauth_error(401, "invalid_token", headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse(identity.claims())

    async def _revoke(self, request: Request) -> Response:
        form = form_of(await request.body())
        token = form.get("token") or request.query_params.get("token", "")
        if not token:
            return oauth_error(400, "invalid_request", "no token")
        if token in self.access_tokens or token in self.refresh_tokens:
            self.revoked.append(token)
        self.forget(token)
        return Response(status_code=200)


def fake_oidc(**behaviour: Any) -> FakeOIDC:
    """A fake OpenID provider to enter with `with` or `async with`; keywords set attributes."""
    return configure(FakeOIDC(), behaviour)
