"""Provider token lifecycle: the refresh workflow's input, messages and activity payloads."""

from datetime import timedelta
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

Provider = Literal["todoist", "google"]
IntegrationStatus = Literal["active", "reconnect_required", "revoked", "missing"]


class TokenRefreshInput(BaseModel):
    """Input of TokenRefreshWorkflow; a continued run carries its iteration count."""

    user_id: UUID
    provider: Provider
    # How long before expiry to refresh, and how often to check tokens that never expire.
    refresh_margin: timedelta = timedelta(minutes=5)
    validity_check_every: timedelta = timedelta(hours=24)
    iterations_per_run: int = 50


class TokenRef(BaseModel):
    user_id: UUID
    provider: Provider


class TokenState(BaseModel):
    """What the workflow may know of a token: never the token itself.

    Validity is relative (measured when the activity read it), so the workflow anchors it to
    its own clock: worker clock skew and test-server time skipping cannot confuse it.
    """

    status: IntegrationStatus
    expires_in: timedelta | None = None  # None: the token does not expire


class RefreshNowRequest(BaseModel):
    """An update: make sure the access token stays valid for at least `valid_for`."""

    valid_for: timedelta = timedelta(minutes=10)


class TokenRefreshResult(BaseModel):
    status: IntegrationStatus
    # When disconnected: whether the provider confirmed the revocation (RFC 7009).
    revoked_at_provider: bool | None = None
