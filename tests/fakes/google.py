"""Google's token and revoke endpoints (PROVIDERS.md) on loopback, for refresh and revoke tests.

    async with fake_google() as google:
        rt = google.grant()                        # a stored refresh token, as after consent
        google.fail_token("invalid_grant")         # next refresh -> 400 {"error": "invalid_grant"}
        google.fail_with(503, path="/revoke", times=2)
        google.rotate_refresh_tokens = True        # the next refreshes return a new refresh token
        google.slow(0.2, path="/token", times=None)  # make concurrent refreshes overlap
        ... POST google.token_url / google.revoke_url ...
        google.refresh_calls == 1

`POST /token` with grant_type=refresh_token answers `access_token`, `expires_in` 3599 and
usually no `refresh_token`; `POST /revoke` with `token=...` answers 200. It is the fake OpenID
provider with Google's defaults, so a login flow against it works too.
"""

from typing import Any

from tests.fakes.loopback import configure
from tests.fakes.oidc import FakeOIDC, Identity


class FakeGoogle(FakeOIDC):
    """Google's OAuth endpoints: access tokens for an hour, refresh tokens kept on refresh."""

    name = "fake-google"
    token_prefix = "ya29.fake-"

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "oo-test.apps.googleusercontent.com"
        self.client_secret = "GOCSPX-fake-secret"
        self.identity = Identity(subject="109876543210987654321", email="person@gmail.com")
        self.expires_in = 3599
        self.rotate_refresh_tokens = False


def fake_google(**behaviour: Any) -> FakeGoogle:
    """A fake Google OAuth server to enter with `with` or `async with`; keywords set attributes."""
    return configure(FakeGoogle(), behaviour)
