"""`oo keys`: the master keys that wrap each user's token data key."""

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.crypto import KeyConfigError, KeyRing, new_key_spec
from core.vault import TokenVault, VaultError
from store.integrations import RotationReport, rotate_master_key

app = typer.Typer(help="Master keys of the token vault.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)

SETTING = "OO_MASTER_KEYS"


class KeysError(Exception):
    """The master keys cannot be used as configured."""


def master_ring() -> KeyRing:
    """The configured master key ring, or KeysError with what to fix."""
    from core.settings import get_settings

    secret = getattr(get_settings(), "master_keys", None)
    if secret is None:
        raise KeysError("this build has no master_keys setting")
    spec = secret.get_secret_value().strip()
    if not spec:
        raise KeysError(f"{SETTING} is empty: create a key with `oo keys new`")
    try:
        return KeyRing.parse(spec)
    except KeyConfigError as exc:
        raise KeysError(f"{SETTING} is malformed: {exc}") from None


async def run_rotation(database_url: str, ring: KeyRing, *, batch_size: int) -> RotationReport:
    """Rotate with a progress bar on the console."""
    from store.db import create_engine, create_sessionmaker

    engine = create_engine(database_url)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task(f"re-wrapping under {ring.current}", total=None)
            return await rotate_master_key(
                create_sessionmaker(engine),
                vault=TokenVault(ring),
                batch_size=batch_size,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    finally:
        await engine.dispose()


@app.command("new")
def new(
    kid: Annotated[str | None, typer.Option(help="Key id (default: m<UTC date and time>).")] = None,
) -> None:
    """Print a fresh "kid:base64" entry; put it first in OO_MASTER_KEYS, then rotate."""
    typer.echo(new_key_spec(kid or f"m{datetime.now(UTC):%Y%m%d%H%M%S}"))


@app.command("rotate")
def rotate(
    batch_size: Annotated[int, typer.Option(min=1, help="Data keys per transaction.")] = 100,
) -> None:
    """Re-wrap every user's data key under the first master key; safe to stop and re-run."""
    from core.settings import get_settings

    try:
        ring = master_ring()
        report = asyncio.run(run_rotation(get_settings().database_url, ring, batch_size=batch_size))
    except (KeysError, VaultError) as exc:
        console.print(f"[red]key rotation stopped:[/] {exc}")
        console.print("Keys already re-wrapped stay so; fix the cause and run `oo keys rotate`.")
        raise typer.Exit(1) from None
    console.print(
        f"{report.rewrapped} data keys re-wrapped in {report.batches} batches; "
        f"every data key is now under master key {report.master_key_id}."
    )
    others = sorted(set(ring.keys) - {ring.current})
    if others:
        console.print(
            "Once every process runs with this ring, run `oo keys rotate` again (it should "
            f"re-wrap 0) before removing {', '.join(others)} from {SETTING}."
        )
