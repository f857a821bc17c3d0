"""Alembic's environment: always run on a connection handed over by service/schema.py."""

from alembic import context

from service.tables import described_here, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    include_name=described_here,
)
with context.begin_transaction():
    context.run_migrations()
