"""The tip page and its static assets."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

import web

WEB_DIR = Path(web.__file__).parent

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})
