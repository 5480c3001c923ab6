"""Provider token lifecycle: the refresh workflow's input, messages and activity payloads."""

from datetime import datetime, timedelta
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
    """What the workflow may know of a token: never the token itself."""

    status: IntegrationStatus
    expires_at: datetime | None = None


class RefreshNowRequest(BaseModel):
    """An update: make sure the access token is valid until at least `valid_until`."""

    valid_until: datetime


class TokenRefreshResult(BaseModel):
    status: IntegrationStatus
    expires_at: datetime | None = None
