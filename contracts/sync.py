"""History sync: the payloads of the `sync_todoist_history` activity."""

from uuid import UUID

from pydantic import AwareDatetime, BaseModel


class SyncHistoryInput(BaseModel):
    """Whose history to sync, and from when.

    Without `since` the sync resumes from the stored cursor (with a small overlap), or walks the
    whole history from the day the person joined the provider.
    """

    user_id: UUID
    since: AwareDatetime | None = None


class SyncHistoryResult(BaseModel):
    """How many completion events were new, and the newest completion time now stored."""

    new_completions: int = 0
    cursor: AwareDatetime | None = None
