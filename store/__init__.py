"""SQLAlchemy 2 models, data-access functions and Alembic migrations."""
