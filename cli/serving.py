"""Serving the API inside a process that owns its signals (`oo dev`, benchmarks)."""

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn


class SupervisedServer(uvicorn.Server):
    """uvicorn without its own signal handling: whoever runs it owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def start_serving(server: uvicorn.Server) -> asyncio.Task[None]:
    """Serve in the background; return once listening (raise if it could not start)."""
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
        await asyncio.sleep(0.05)
    if serving.done():
        serving.result()
        raise RuntimeError(f"the API could not listen on port {server.config.port}")
    return serving
