"""Provider integrations as the HTTP API shows them."""

from typing import Literal

from pydantic import BaseModel

from contracts.tokens import IntegrationStatus, Provider

# Where connecting sends the person back: `/?todoist=<outcome>`. `connected_sync_pending`:
# the token is stored but the workflow engine was unreachable, so the first sync waits.
ConnectOutcome = Literal["connected", "connected_sync_pending"]


class IntegrationRead(BaseModel):
    provider: Provider
    status: IntegrationStatus
