"""The read model's tables: the schema the migrations in service/migrations build (a test checks
that they agree)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql

metadata = MetaData()
JSON_DOC = JSON().with_variant(postgresql.JSONB(), "postgresql")
TIME = DateTime(timezone=True)

KPI_INDEX_COLUMNS = ("created_at", "kind", "category", "priority", "owner", "team", "first_response_seconds", "first_response_late",
                     "handling_seconds", "closed_by", "closed_at", "reopen_count", "satisfied", "score", "ever_breached",
                     "responses", "response_seconds")  # fmt: skip

cases = Table(
    "cases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("priority", String(8), nullable=False),
    Column("owner", String(200)),
    Column("team", String(100)),
    Column("customer_id", String(200)),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("closed_at", TIME),
    Column("version", Integer, nullable=False),
    # The nearest running service-level deadline, and whether any target or action item is breached.
    Column("sla_due", TIME),
    Column("breached", Boolean, nullable=False, default=False),
    Column("snapshot", JSON_DOC, nullable=False),
    # Facts the KPIs aggregate (service/kpis.py, docs/kpis.md); null on rows projected before 0002.
    Column("category", String(32)),
    Column("first_response_seconds", Float),
    Column("first_response_late", Boolean),
    Column("handling_seconds", Float),
    Column("closed_by", String(64)),
    Column("reopen_count", Integer),
    Column("satisfied", Boolean),
    Column("score", Integer),
    Column("ever_breached", Boolean),
    # Responses to the customer and their total seconds (migration 0007); null on rows projected before it.
    Column("responses", Integer),
    Column("response_seconds", Float),
    # The fence of the workflow task that wrote the row (migration 0013, service/read_model.py); null: none.
    Column("fence", String(40)),
    # Newest first, under each filter a list offers: the index serves filter, order and cursor.
    Index("ix_cases_created", "created_at", "id"),
    Index("ix_cases_kind_created", "kind", "created_at", "id"),
    Index("ix_cases_state_created", "state", "created_at", "id"),
    Index("ix_cases_priority_created", "priority", "created_at", "id"),
    Index("ix_cases_owner_created", "owner", "created_at", "id"),
    Index("ix_cases_team_created", "team", "created_at", "id"),
    Index("ix_cases_customer_created", "customer_id", "created_at", "id"),
    Index("ix_cases_sla_due", "sla_due", "id"),
    Index("ix_cases_breached_created", "breached", "created_at", "id"),
    # Covers every column a KPI query reads, so it scans this index alone, never the wide rows.
    Index("ix_cases_kpis", *KPI_INDEX_COLUMNS),
)

# What `q` searches (service/search.py): one row per case, written by the projection. Its trigram
# index, SEARCH_INDEX, is each database's own (migration 0004): on SQLite an FTS5 table over `body`
# whose rowid is `id`, kept in step by triggers on this table (recreating the table drops them); on
# PostgreSQL a pg_trgm GIN index over `body`.
case_search = Table(
    "case_search",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", String(64), nullable=False, unique=True),
    Column("body", Text, nullable=False),
)
SEARCH_INDEX = "case_search_trigrams"


def described_here(name: str | None, type_: str, parent_names: object) -> bool:
    """For Alembic's comparisons: the search index (on SQLite a virtual table and its shadow tables)
    is not described here."""
    return name is None or not name.startswith(SEARCH_INDEX)


events = Table(
    "events",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("action", String(64), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("actor_role", String(32)),
    Column("at", TIME, nullable=False),
    Column("note", Text),
    Column("data", JSON_DOC, nullable=False),
    Column("request_id", String(64)),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
    # Set by the database on insert, in commit order: the live feed's cursor (migration 0005, service/live.py).
    Column("position", BigInteger),
    Column("committed_in", BigInteger, nullable=False),
    Column("fence", String(40)),
    Index("ix_events_at", "at"),
    Index("ix_events_live", "committed_in", "position", unique=True),
)

links = Table(
    "links",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("other_case_id", String(64), primary_key=True),
    Column("relation", String(32), primary_key=True),
    Index("ix_links_other", "other_case_id"),
)

action_items = Table(
    "action_items",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("item_id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("due", TIME, nullable=False),
    Column("done", Boolean, nullable=False),
    Column("outcome", Text),
)


deliveries = Table(
    "deliveries",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("at", TIME, nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered | failed | logged
    Column("status_code", Integer),
    Column("error", String(200)),
)


# The API's record of requests sent with an Idempotency-Key (service/idempotency.py).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("case_id", String(64), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("status", Integer),
    Column("response", LargeBinary),
    Column("etag", String(32)),
    Index("ix_idempotency_keys_created", "created_at"),
)


# Weekly and monthly reviews (service/reviews.py): the document is what the meeting reads.
reviews = Table(
    "reviews",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("cadence", String(16), nullable=False),
    Column("period_from", TIME, nullable=False),
    Column("period_to", TIME, nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("document", JSON_DOC, nullable=False),
    Index("ix_reviews_period", "period_from", "id"),
)


# The directory (service/directory.py): who may sign in to the console, and their API tokens.
users = Table(
    "users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("language", String(8), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    # On leave in [away_from, away_to): routing passes them by (service/teams.py).
    Column("away_from", TIME),
    Column("away_to", TIME),
    Column("shifts", JSON_DOC),  # their own shifts; null: their teams' (routing counts who is on shift)
    # Their addresses on the channels (migration 0010): email, and IM user ids for @-mentions.
    Column("email", String(200)),
    Column("wecom_id", String(100)),
    Column("dingtalk_id", String(100)),
    Column("feishu_id", String(100)),
)

# The department (service/teams.py): its teams, who is in each (and who leads it), the routing rules
# and other department-wide documents by key, and every change to them, for auditors.
teams = Table(
    "teams",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("site", String(100), nullable=False),
    Column("assignment", String(32), nullable=False),
    Column("shifts", JSON_DOC),  # null: always on shift
    Column("last_assigned", String(100)),  # where round robin goes on from
    Column("sla_policy", JSON_DOC),  # the team's own service-level policy; null: the department's
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team", String(100), ForeignKey("teams.name"), primary_key=True),
    Column("user_name", String(100), ForeignKey("users.name"), primary_key=True),
    Column("supervises", Boolean, nullable=False),
    Index("ix_team_members_user", "user_name"),
)

department = Table(
    "department",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON_DOC, nullable=False),
    Column("updated_at", TIME, nullable=False),
)

directory_changes = Table(
    "directory_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", TIME, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("subject", String(16), nullable=False),  # user | team | routing
    Column("name", String(100), nullable=False),
    Column("change", JSON_DOC, nullable=False),
    Index("ix_directory_changes_at", "at", "id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_name", String(100), ForeignKey("users.name"), nullable=False),
    Column("label", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", TIME, nullable=False),
    Column("last_used_at", TIME),
    Column("revoked", Boolean, nullable=False),
    Index("ix_api_tokens_user", "user_name"),
)

# What API replicas share when no Redis is configured (service/shared_store.py): console sessions,
# keyed by a hash of the session id, and counters that expire (rate limit, failed sign-ins).
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_name", String(100), nullable=False),
    Column("client_address", String(64), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("last_seen", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False),
    Index("ix_sessions_expires", "expires_at"),
)

counters = Table(
    "counters",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),  # seconds since the epoch: compared in SQL on both databases alike
    Index("ix_counters_expires", "expires_at"),
)

# Quality checks (质检, service/quality.py): one row per sampled case, written by the check's own
# workflow. `total` is the check's score as it stands (after an appeal's decision); null until scored.
# Assessments and reviews read an agent's mean score over the checks of cases closed in a period.
quality_checks = Table(
    "quality_checks",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("agent_name", String(100), nullable=False),
    Column("reviewer", String(100)),
    Column("status", String(16), nullable=False),
    Column("case_closed_at", TIME, nullable=False),
    Column("sampled_at", TIME, nullable=False),
    Column("scored_at", TIME),
    Column("total", Float),
    Column("version", Integer, nullable=False),
    Column("snapshot", JSON_DOC, nullable=False),
    Index("ix_quality_checks_agent_closed", "agent_name", "case_closed_at"),
    Index("ix_quality_checks_reviewer_status", "reviewer", "status"),
    Index("ix_quality_checks_case", "case_id"),
)

# Assessments (考核, service/assessments.py): one row per agent and period; the document holds the
# figures, targets, parts and scores as last made. Every change to one is a row of assessment_log.
assessments = Table(
    "assessments",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("agent_name", String(100), nullable=False),
    Column("team", String(100)),
    Column("cadence", String(16), nullable=False),
    Column("period_key", String(16), nullable=False),  # 2026-11, 2026-Q4, 2026
    Column("period_from", TIME, nullable=False),
    Column("period_to", TIME, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Float),
    Column("grade", String(16)),
    Column("created_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", JSON_DOC, nullable=False),
    Index("ix_assessments_period", "period_key", "agent_name"),
    Index("ix_assessments_agent", "agent_name", "period_from"),
)

# Append-only: who changed which assessment, when and how (auditors read it; nothing rewrites it).
assessment_log = Table(
    "assessment_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assessment_id", String(100), nullable=False),
    Column("at", TIME, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("change", String(32), nullable=False),
    Column("data", JSON_DOC, nullable=False),
    Index("ix_assessment_log_assessment", "assessment_id", "id"),
)

# Each check's events, hash-chained like a case's (states/quality.py): written once, never rewritten.
quality_check_events = Table(
    "quality_check_events",
    metadata,
    Column("check_id", String(100), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("action", String(32), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("actor_name", String(200), nullable=False),
    Column("actor_role", String(32)),
    Column("at", TIME, nullable=False),
    Column("note", Text),
    Column("data", JSON_DOC, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# The kinds of message each person turned off for themselves (no row: on).
notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_name", String(100), primary_key=True),
    Column("kind", String(32), primary_key=True),
)

# The console's inbox (站内信): one row per message and person, written once (a retried activity
# finds its row there).
inbox_messages = Table(
    "inbox_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(100), nullable=False),
    Column("user_name", String(100), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("case_id", String(64)),
    Column("subject", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("url", Text),  # the deep link to the case in the console
    Column("created_at", TIME, nullable=False),
    Column("read_at", TIME),
    Index("ux_inbox_message_user", "message_id", "user_name", unique=True),
    Index("ix_inbox_user", "user_name", "read_at", "id"),
)

# Every attempt to deliver a message over a channel, and how it ended (the delivery log).
message_deliveries = Table(
    "message_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(100), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("case_id", String(64)),
    Column("channel", String(100), nullable=False),
    Column("language", String(8), nullable=False),
    Column("recipients", JSON_DOC, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_code", Integer),
    Column("error", String(300)),
    Column("at", TIME, nullable=False),
    Index("ux_message_deliveries_attempt", "message_id", "channel", "language", "attempt", "status", unique=True),
    Index("ix_message_deliveries_case", "case_id", "id"),
)

# KPI roll-ups (service/kpi_rollups.py, docs/kpis.md "Speed"): one row per cell, a day or a calendar
# month in the department's zone (the one kpi_rollup_zone names) by one combination of the
# dimensions ("cuboid"); a dimension outside the cell's cuboid is "*", a case without a value "".
kpi_rollups = Table(
    "kpi_rollups",
    metadata,
    Column("cuboid", String(40), primary_key=True),
    Column("grain", String(5), primary_key=True),
    Column("period", Date, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("priority", String(8), primary_key=True),
    Column("owner", String(200), primary_key=True),
    Column("team", String(100), primary_key=True),
    Column("figures", Text, nullable=False),  # JSON: the sums and the two sketches
    # One owner's or team's cells without reading everyone's.
    Index("ix_kpi_rollups_owner", "cuboid", "owner", "grain", "period"),
    Index("ix_kpi_rollups_team", "cuboid", "team", "grain", "period"),
)

# Each case's contribution to the roll-ups as they hold it: a rewrite subtracts it and adds the new one.
kpi_rollup_cases = Table(
    "kpi_rollup_cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("contribution", Text, nullable=False),
)

# The time zone the roll-ups' days and months are cut in: one row.
kpi_rollup_zone = Table("kpi_rollup_zone", metadata, Column("zone", String(64), primary_key=True))

# The changes the read model refused for good (what the database said, never the row), so that the
# API's /health reports those its worker, in another process, met.
projection_refusals = Table(
    "projection_refusals",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("at", TIME, nullable=False),
    Index("ix_projection_refusals_at", "at"),
)
