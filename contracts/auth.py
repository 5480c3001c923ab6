"""Login payloads."""

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class DevLoginCreate(BaseModel):
    """A one-time dev login token, as printed by `oo dev`."""

    token: str = Field(min_length=16, max_length=128)


class SessionRead(BaseModel):
    user_id: UUID


class AdminTokenCreate(BaseModel):
    """The admin token (OO_ADMIN_TOKEN), exchanged for an admin session."""

    token: str = Field(min_length=1, max_length=512)


class AdminSessionRead(BaseModel):
    """An admin session: the codec endpoints and automation, never a person's data."""

    role: Literal["admin"] = "admin"
