"""Schema fuzzing of every operation over real loopback HTTP (RELIABILITY_SECURITY F1).

The app is served by uvicorn with a real Temporal dev server and worker behind it; the fuzzing
runs in a thread with a signed-in session (and the admin token, so admin routes are reached).
Destructive operations (sign-out, account deletion) get a fresh user for every example.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api import create_app
from api.deps import COOKIE_NAME
from api.openapi import DOCUMENT
from cli.serving import SupervisedServer, start_serving
from core.settings import Settings
from store import sessions as session_store
from tests.api.conftest import ADMIN_TOKEN, with_providers
from tests.factories import free_tcp_port, persona_user
from tests.fakes.oidc import FakeOIDC
from tests.fakes.todoist import FakeTodoist
from worker import build_deps, build_worker

T = TypeVar("T")
EXAMPLES = 15
# A fresh user for each example of these: they end the session or the account.
DESTRUCTIVE = {("POST", "/auth/logout"), ("DELETE", "/api/account")}


@dataclass
class Fuzzed:
    calls: int = 0
    statuses: dict[str, set[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    # Operations whose every input is valid (nothing negative to generate).
    no_invalid: set[str] = field(default_factory=set)


async def _session_cookie(sessions: async_sessionmaker[AsyncSession]) -> str:
    """A signed-in session of a new consenting user with history."""
    user_id = await persona_user(sessions)
    async with sessions.begin() as db:
        return await session_store.create_session(
            db, user_id=user_id, now=datetime.now(UTC), absolute=timedelta(days=1)
        )


@pytest.fixture
async def served(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    dev_client: Client,
    task_queue: str,
    idp: FakeOIDC,
    todoist: FakeTodoist,
) -> AsyncIterator[str]:
    port = free_tcp_port()
    base = f"http://127.0.0.1:{port}"
    app_settings = with_providers(
        settings.model_copy(update={"public_url": base, "task_queue": task_queue}), idp, todoist
    )
    deps = build_deps(app_settings)
    server = SupervisedServer(
        uvicorn.Config(
            create_app(app_settings, temporal_client=dev_client),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    async with build_worker(dev_client, deps, task_queue=task_queue):
        serving = await start_serving(server)
        try:
            yield base
        finally:
            server.should_exit = True
            await serving


def is_destructive(case: schemathesis.Case) -> bool:
    return (case.method.upper(), case.path) in DESTRUCTIVE


def _fuzz(
    base: str,
    cookie: str,
    fresh_cookie: Callable[[], str],
    mode: GenerationMode,
    result: Fuzzed,
) -> None:
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
    for item in schema.get_all_operations():
        operation = item.ok()
        if mode is GenerationMode.NEGATIVE and not _takes_input(operation.definition.raw):
            continue  # nothing to make invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            with requests.Session() as http:
                sid = fresh_cookie() if is_destructive(case) else cookie
                http.cookies.set(COOKIE_NAME, sid)
                http.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                label = f"{case.method} {case.path}"
                try:
                    response = case.call_and_validate(
                        base_url=base,
                        session=http,
                        timeout=30,
                        checks=[not_a_server_error, response_schema_conformance],
                    )
                except Exception as exc:  # a check failed: collect it, go on with the rest
                    result.failures.append(f"{label}: {str(exc).splitlines()[0][:300]}")
                    raise
                result.calls += 1
                result.statuses.setdefault(label, set()).add(response.status_code)

        failures = len(result.failures)
        try:
            run()
        except Unsatisfiable:
            result.no_invalid.add(f"{operation.method.upper()} {operation.path}")
        except Exception:
            if len(result.failures) == failures:
                raise  # not a check failure: a broken test


def _on_loop(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
async def test_every_operation_answers_without_5xx_and_matches_the_schema(
    served: str,
    sessions: async_sessionmaker[AsyncSession],
    mode: GenerationMode,
) -> None:
    loop = asyncio.get_running_loop()
    cookie = await _session_cookie(sessions)
    result = Fuzzed()
    await asyncio.to_thread(
        _fuzz, served, cookie, lambda: _on_loop(loop, _session_cookie(sessions)), mode, result
    )
    print(f"\nschemathesis ({mode.value}): {result.calls} calls over {len(result.statuses)} ops")
    for label, codes in sorted(result.statuses.items()):
        print(f"  {label}: {sorted(codes)}")
    assert not result.failures, "\n".join(result.failures)
    paths = json.loads(DOCUMENT.read_text())["paths"]
    # Every operation; only those with inputs have invalid ones.
    operations = {
        f"{method.upper()} {path}"
        for path, ops in paths.items()
        for method, spec in ops.items()
        if mode is GenerationMode.POSITIVE or _takes_input(spec)
    }
    print(f"  no invalid input to generate: {sorted(result.no_invalid)}")
    assert operations <= set(result.statuses) | result.no_invalid, "operations never called"


def _takes_input(spec: dict[str, Any]) -> bool:
    return bool(spec.get("parameters") or spec.get("requestBody"))
