"""The page in real headless Chromium against the real stack on loopback: the Temporal dev
server, a worker in the test's process, the API under uvicorn in a thread of its own, SQLite."""

import asyncio
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from agents import all_agents
from api import create_app
from cli.seed import seed_demo_user
from cli.serving import SupervisedServer, start_serving
from core.crypto import new_key_spec
from core.settings import Settings
from store import agent_outputs, history, sessions, users
from tests.factories import stored_tip
from worker import build_deps, build_worker

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
# Generous: other test suites share this machine's cores.
WAIT_MS = 20_000
TIP_TEXT = "Your best hour is coming: keep the one task that matters for it."
# Agents whose snippets the stored tip is made from (they read completions only).
WHY_AGENTS = ("time-of-day", "momentum")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium (never a downloaded one); CI requires it, elsewhere its absence skips."""
    if not CHROMIUM.exists():
        if os.environ.get("OO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"OO_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: these tests are about the page; the store is tested on both databases."""
    return f"sqlite+aiosqlite:///{tmp_path / 'oo.db'}"


@dataclass
class Stack:
    """The running app: its address and database."""

    base: str
    sessions: async_sessionmaker[AsyncSession]
    foreign: list[str] = field(default_factory=list)

    async def login_link(self, user_id: uuid.UUID) -> str:
        """A one-time sign-in link, as `oo dev` prints it."""
        async with self.sessions.begin() as db:
            token = await sessions.create_login_token(
                db, user_id=user_id, now=datetime.now(UTC), ttl=timedelta(minutes=5)
            )
        return f"{self.base}/#login={token}"

    async def demo_user_with_tip(self, text: str = TIP_TEXT) -> uuid.UUID:
        """The demo user (60 days of history), its agents' snippets and a stored tip from them."""
        now = datetime.now(UTC)
        async with self.sessions.begin() as db:
            user_id = await seed_demo_user(db, now=now)
            user = await users.get_user(db, user_id=user_id)
            assert user is not None
            past = await history.load_history(db, user=user)
            said = []
            for agent_id in WHY_AGENTS:
                agent = all_agents()[agent_id]
                snippet = agent.compute(past, {}, now)
                if snippet is None:
                    continue
                said.append(agent_id)
                await agent_outputs.upsert_output(
                    db,
                    user_id=user_id,
                    agent_id=agent_id,
                    agent_version=agent.manifest.version,
                    snippet=snippet,
                    computed_at=now,
                    expires_at=snippet.expires_at,
                )
        assert said, "the demo persona should give the agents something to say"
        await stored_tip(
            self.sessions, user_id, text, at=now, agent_ids=tuple(said), ttl=timedelta(hours=3)
        )
        return user_id

    async def new_user(self, *, tz: str) -> uuid.UUID:
        """A user with no history and no integration."""
        async with self.sessions.begin() as db:
            return (await users.create_user(db, display_name=None, tz=tz)).id


class ApiThread:
    """The API under uvicorn in a thread with its own event loop, as in its own process: the
    test's loop (browser driver, worker) never delays a response, and the app connects to
    Temporal itself, from settings, like a deployed API."""

    def __init__(self, settings: Settings) -> None:
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.api_port, log_level="warning"
        )
        self.server = SupervisedServer(config)
        self._listening = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        try:
            serving = await start_serving(self.server)
        finally:
            self._listening.set()
        await serving

    async def __aenter__(self) -> "ApiThread":
        self._thread.start()
        await asyncio.to_thread(self._listening.wait, WAIT_MS / 1000)
        assert self.server.started, "the API did not start"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self._thread.join, WAIT_MS / 1000)


@pytest.fixture
async def stack(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    task_queue: str,
    free_port: int,
) -> AsyncIterator[Stack]:
    base = f"http://127.0.0.1:{free_port}"
    app_settings = settings.model_copy(
        update={
            "public_url": base,
            "api_port": free_port,
            "task_queue": task_queue,
            "temporal_address": dev_client.service_client.config.target_host,
            "master_keys": SecretStr(new_key_spec("browser-master")),
            "hash_salt": SecretStr("salt-for-browser-tests"),
        }
    )
    # The worker as every entry point builds it, on this test's database and task queue.
    deps = replace(build_deps(app_settings), sessions=sessions, temporal=dev_client)
    async with build_worker(dev_client, deps, task_queue=task_queue), ApiThread(app_settings):
        yield (running := Stack(base=base, sessions=sessions))
    # Whatever a test did, its pages never asked another origin for anything.
    assert running.foreign == [], running.foreign


async def open_context(browser: Browser, stack: Stack, **options: Any) -> BrowserContext:
    """A fresh profile (no cookies, no service worker) that records requests to other origins."""
    options.setdefault("viewport", {"width": 1280, "height": 800})
    ctx = await browser.new_context(base_url=stack.base, **options)
    ctx.set_default_timeout(WAIT_MS)
    own = (stack.base + "/", "data:", "blob:")
    ctx.on("request", lambda r: r.url.startswith(own) or stack.foreign.append(r.url))
    return ctx


@pytest.fixture
async def context(browser: Browser, stack: Stack) -> AsyncIterator[BrowserContext]:
    ctx = await open_context(browser, stack)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def until(page: Page, expression: str) -> None:
    """Wait until a JavaScript expression is truthy in the page.

    `page.wait_for_function` polls through `eval`, which the page's Content-Security-Policy
    forbids (as it should); evaluating from outside is not subject to it.
    """
    deadline = time.monotonic() + WAIT_MS / 1000
    while not await page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false: {expression}"
        await asyncio.sleep(0.05)


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
