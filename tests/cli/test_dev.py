"""`oo dev` as a user runs it: a subprocess on free ports, a tip over HTTP, Ctrl-C."""

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from temporalio.client import Client

from core.settings import Settings
from core.temporal import data_converter
from tests.factories import free_tcp_port

LOGIN = re.compile(r"(http://127\.0\.0\.1:\d+)/#login=([A-Za-z0-9_-]+)")
ADMIN = re.compile(r"open once \(admin\): http://127\.0\.0\.1:\d+/#login=([A-Za-z0-9_-]+)")
START_TIMEOUT_S = 90


def processes_mentioning(marker: str) -> list[int]:
    """Live processes whose command line names the marker (the test's data dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


@asynccontextmanager
async def oo_dev(
    data_dir: Path, ports: dict[str, int]
) -> AsyncIterator[tuple[str, str, list[str]]]:
    """Run `oo dev`; yield (base url, login token, captured output); SIGINT on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OO_")}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "oo"),
        "dev",
        "--data-dir",
        str(data_dir),
        "--port",
        str(ports["api"]),
        "--temporal-port",
        str(ports["temporal"]),
        "--ui-port",
        str(ports["ui"]),
        cwd=data_dir.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    lines: list[str] = []

    async def read_until_login() -> tuple[str, str]:
        assert proc.stdout is not None
        while line := (await proc.stdout.readline()).decode():
            lines.append(line)
            if match := LOGIN.search(line):
                return match.group(1), match.group(2)
        raise AssertionError("oo dev ended before printing a login link:\n" + "".join(lines))

    async def drain() -> None:
        assert proc.stdout is not None
        while line := (await proc.stdout.readline()).decode():
            lines.append(line)

    try:
        base, token = await asyncio.wait_for(read_until_login(), START_TIMEOUT_S)
        drainer = asyncio.create_task(drain())
        yield base, token, lines
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 60) == 0, "".join(lines)
        await drainer
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def get_tip(base: str, token: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30) as http:
        login = await http.post("/api/auth/dev-login", json={"token": token})
        assert login.status_code == 200, login.text
        tip = await http.get("/api/tip")
        assert tip.status_code == 200, tip.text
        assert (await http.get("/", headers={"accept": "text/html"})).status_code == 200
        outcome = tip.json()
        assert outcome["status"] in {"tip", "nothing"}, outcome
        return {"user_id": login.json()["user_id"], **(outcome["tip"] or {"id": None})}


async def listed_in_temporal(address: str, data_dir: Path, workflow_id: str) -> bool:
    keys = dict(line.split("=", 1) for line in (data_dir / "secrets.env").read_text().splitlines())
    settings = Settings(payload_keys=keys["OO_PAYLOAD_KEYS"])  # type: ignore[arg-type]
    client = await Client.connect(address, data_converter=data_converter(settings))
    for _ in range(50):  # visibility is eventually consistent
        async for wf in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
            return wf.search_attributes.get("OoUserId") == [workflow_id.removeprefix("tip-")]
        await asyncio.sleep(0.2)
    return False


async def test_oo_dev_serves_a_tip_and_stops_every_child_on_sigint(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    ports = {"api": free_tcp_port(), "temporal": free_tcp_port(), "ui": free_tcp_port()}

    async with oo_dev(data_dir, ports) as (base, token, lines):
        first = await get_tip(base, token)
        assert first["id"] is None or first["generator"] == "composer"
        assert await listed_in_temporal(
            f"127.0.0.1:{ports['temporal']}", data_dir, f"tip-{first['user_id']}"
        )
        async with httpx.AsyncClient(trust_env=False) as http:
            ui = await http.get(f"http://127.0.0.1:{ports['ui']}/")
        assert ui.status_code == 200
        # The printed admin link signs in a session the codec endpoint accepts.
        await asyncio.sleep(0.3)  # the admin line follows the login line
        [admin_token] = ADMIN.findall("".join(lines))
        async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
            await http.post("/api/auth/dev-login", json={"token": admin_token})
            plain = {"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "IngiCg=="}
            encoded = await http.post("/codec/encode", json={"payloads": [plain]})
        assert encoded.status_code == 200, encoded.text
        assert processes_mentioning(str(data_dir))  # the temporal child is running
    assert processes_mentioning(str(data_dir)) == []
    assert (data_dir / "secrets.env").stat().st_mode & 0o077 == 0

    # A second run reuses the data: the same demo user, the same stored tip.
    secrets_before = (data_dir / "secrets.env").read_text()
    async with oo_dev(data_dir, ports) as (base, token, _):
        second = await get_tip(base, token)
    assert second["user_id"] == first["user_id"]
    assert second["id"] == first["id"]
    assert (data_dir / "secrets.env").read_text() == secrets_before
    assert processes_mentioning(str(data_dir)) == []
