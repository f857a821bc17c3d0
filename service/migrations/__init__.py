"""Alembic migrations of the read model; run by `casework db upgrade` (and by `casework serve`)."""
