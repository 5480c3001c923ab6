"""Liveness and readiness."""

from typing import Literal

from pydantic import BaseModel

Status = Literal["ok", "down"]


class HealthRead(BaseModel):
    status: Status = "ok"


class ReadinessRead(BaseModel):
    status: Status
    database: Status
    temporal: Status
