from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncConnection

from store import migrate
from store.db import create_engine
from store.models import Base


async def test_upgrading_an_empty_database_creates_the_schema_of_the_models(
    database_url: str,
) -> None:
    await migrate.upgrade(database_url)
    await migrate.upgrade(database_url)  # a second run is a no-op
    engine = create_engine(database_url)

    def diff(sync_conn: AsyncConnection) -> tuple[set[str], list[object]]:
        tables = set(inspect(sync_conn).get_table_names())
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return tables, compare_metadata(ctx, Base.metadata)

    async with engine.connect() as conn:
        tables, changes = await conn.run_sync(diff)  # type: ignore[arg-type]
    await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert changes == [], "models changed without an Alembic migration"
