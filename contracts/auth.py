"""Login payloads."""

from uuid import UUID

from pydantic import BaseModel, Field


class DevLoginCreate(BaseModel):
    """A one-time dev login token, as printed by `oo dev`."""

    token: str = Field(min_length=16, max_length=128)


class SessionRead(BaseModel):
    user_id: UUID
