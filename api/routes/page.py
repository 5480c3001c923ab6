"""The tip page, its service worker and web app manifest (its assets are mounted at /static)."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

import web

WEB_DIR = Path(web.__file__).parent
# Always revalidated: a new page or service worker reaches people on their next visit.
REVALIDATE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", headers=REVALIDATE)


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    """Served from the root, so that its scope is the whole site."""
    return FileResponse(WEB_DIR / "sw.js", media_type="text/javascript", headers=REVALIDATE)


@router.get("/manifest.webmanifest")
async def manifest() -> FileResponse:
    return FileResponse(
        WEB_DIR / "manifest.webmanifest",
        media_type="application/manifest+json",
        headers=REVALIDATE,
    )
