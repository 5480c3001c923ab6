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
