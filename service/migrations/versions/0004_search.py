"""Free-text search (`q`): one search row per case and a trigram index over it (service/search.py).

SQLite: an external-content FTS5 table with the trigram tokenizer over `case_search`, kept in step
by triggers. PostgreSQL: the pg_trgm extension (created here when missing: it is a trusted
extension, so a database owner may) and a GIN index with `gin_trgm_ops`. Existing cases get their
search rows here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from service.search import search_body

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BACKFILL_BATCH = 1000

SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE case_search_trigrams USING fts5(body, content='case_search', content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER case_search_added AFTER INSERT ON case_search BEGIN
        INSERT INTO case_search_trigrams(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER case_search_removed AFTER DELETE ON case_search BEGIN
        INSERT INTO case_search_trigrams(case_search_trigrams, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER case_search_changed AFTER UPDATE ON case_search BEGIN
        INSERT INTO case_search_trigrams(case_search_trigrams, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO case_search_trigrams(rowid, body) VALUES (new.id, new.body);
    END""",
]


def upgrade() -> None:
    op.create_table(
        "case_search",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_INDEX:
            op.execute(statement)
    else:
        schema = _trigram_schema()
        op.execute(f'CREATE INDEX case_search_trigrams ON case_search USING gin (body "{schema}".gin_trgm_ops)')
    _backfill()


def _trigram_schema() -> str:
    """Where pg_trgm lives, installing it first if it is missing: its operator class is named with
    its schema, which need not be on the search path."""
    bind = op.get_bind()
    installed = "SELECT nspname FROM pg_extension JOIN pg_namespace ON pg_namespace.oid = extnamespace WHERE extname = 'pg_trgm'"
    schema = bind.exec_driver_sql(installed).scalar()
    if schema is None:
        bind.exec_driver_sql("CREATE EXTENSION pg_trgm")
        schema = bind.exec_driver_sql(installed).scalar_one()
    return schema.replace('"', '""')


def _backfill() -> None:
    bind = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("snapshot", JSON_DOC))
    case_search = sa.table("case_search", sa.column("case_id", sa.String), sa.column("body", sa.Text))
    after = ""
    while True:
        query = sa.select(cases.c.id, cases.c.snapshot).where(cases.c.id > after).order_by(cases.c.id).limit(BACKFILL_BATCH)
        rows = bind.execute(query).all()
        if not rows:
            return
        bind.execute(case_search.insert(), [{"case_id": row.id, "body": search_body(row.snapshot)} for row in rows])
        after = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE case_search_trigrams")
    op.drop_table("case_search")
