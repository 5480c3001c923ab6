from store.models import Base


def test_every_table_declares_an_erasure_policy() -> None:
    for mapper in Base.registry.mappers:
        policy = getattr(mapper.class_, "__erasure__", None)
        assert policy in {"delete", "retain-pseudonymous"}, mapper.class_.__name__
    assert len(Base.registry.mappers) == len(Base.metadata.tables)


def test_rows_that_are_kept_hold_no_user_reference() -> None:
    for mapper in Base.registry.mappers:
        if mapper.class_.__erasure__ == "retain-pseudonymous":
            assert "user_id" not in mapper.columns, mapper.class_.__name__


async def test_storing_the_same_completions_twice_adds_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from sim.personas import make_persona
    from store import history, users

    persona = make_persona(4, days=30, end=datetime(2026, 5, 1, tzinfo=UTC))
    distinct = {(c.task_key, c.completed_at) for c in persona.history.completions}
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None)
        first = await history.add_completions(
            db, user_id=user.id, completions=persona.history.completions, source="todoist"
        )
        again = await history.add_completions(
            db, user_id=user.id, completions=persona.history.completions, source="todoist"
        )
    assert (first, again) == (len(distinct), 0)
