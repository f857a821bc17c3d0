"""Where each event stands in the order the read model committed them, for live updates to read by
cursor (service/live.py). The event's own time cannot serve: an event projected late (a retried
activity, `casework reconcile`) carries an earlier time than events already read.

- `position` increases with every insert: a sequence on PostgreSQL; on SQLite, where one writer
  at a time commits, a trigger sets the next number inside the inserting statement.
- `committed_in` is the inserting transaction on PostgreSQL (0 on SQLite). PostgreSQL hands out
  sequence numbers before commit, so a lower position can still become visible after a higher
  one; a reader takes only rows of transactions older than every running one
  (`pg_snapshot_xmin`) and orders by (committed_in, position), which no later commit can precede.
  `pg_current_xact_id` needs PostgreSQL 13 or newer.

Existing rows keep committed_in 0 and take positions in the order they were stored.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SQLITE_TRIGGER = """
CREATE TRIGGER events_position AFTER INSERT ON events WHEN NEW.position IS NULL
BEGIN
    UPDATE events SET position = coalesce(
        (SELECT position FROM events WHERE position IS NOT NULL ORDER BY committed_in DESC, position DESC LIMIT 1), 0
    ) + 1
    WHERE rowid = NEW.rowid;
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE events_position_seq")
        # A volatile default numbers the existing rows too, as the column is added.
        op.add_column("events", sa.Column("position", sa.BigInteger, server_default=sa.text("nextval('events_position_seq')")))
        op.execute("ALTER SEQUENCE events_position_seq OWNED BY events.position")
        op.add_column("events", sa.Column("committed_in", sa.BigInteger, nullable=False, server_default="0"))
        op.alter_column("events", "committed_in", server_default=sa.text("(pg_current_xact_id()::text::bigint)"))
    else:
        op.add_column("events", sa.Column("position", sa.BigInteger))
        op.add_column("events", sa.Column("committed_in", sa.BigInteger, nullable=False, server_default="0"))
        op.execute("UPDATE events SET position = rowid")
        op.execute(SQLITE_TRIGGER)
    op.create_index("ix_events_live", "events", ["committed_in", "position"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_events_live", "events")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER events_position")
    with op.batch_alter_table("events") as events:
        events.drop_column("committed_in")
        events.drop_column("position")
