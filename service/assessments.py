"""Assessments (考核): an agent's KPIs against their team's targets, mean quality score, customers'
satisfaction and the scores people give, combined by the policy's weights (states/assessment.py).

Made for every enabled agent by the schedules (workflows/assessments.py) at the start of each month,
quarter and year for the one before, or on demand by a supervisor. Making a draft again refreshes its
figures and keeps the scores given; a finalised one never changes. Every change is a row of the
append-only assessment_log, with who made it and when.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from service.directory import Directory
from service.kpis import KPI_NAMES, KpiQuery, Kpis
from service.quality_scores import FULL_MARKS, mean_quality_scores, pending_quality_checks
from service.read_model import ReadModel
from service.settings import User
from service.tables import assessment_log, assessments
from service.teams import Department, leads_agent
from states.assessment import AssessmentPolicy, check_score, kpi_score, mean, parse_assessment_policy, satisfaction_score
from states.assessment_periods import CADENCES, AssessmentPeriod, parse_period_key, period_before
from states.case import Actor, as_utc, format_time, parse_time
from states.errors import ActionForbidden, CaseRuleError, InvalidData
from states.targets import DEFAULT_TARGETS_DATA, parse_targets
from states.vocabulary import SUPERVISING_ROLES, SYSTEM, AssessmentChange, AssessmentPart, AssessmentStatus, MessageKind, RefusalCode, Role
from workflows.messages import AnnounceInput

log = logging.getLogger("casework.assessments")

SCHEDULED_BY = Actor(SYSTEM)  # who made the assessments a schedule made
COMMENT_LENGTH = 2000
ATTEMPTS = 3  # a refresh racing another change reads again this many times before answering 409


class AssessmentNotFound(LookupError):
    pass


class AssessmentFinal(CaseRuleError):
    """A finalised assessment is final: nothing about it changes again (409)."""

    code = RefusalCode.CLOSED_FOR_GOOD


class AssessmentConflict(CaseRuleError):
    """Someone else changed the assessment at the same moment, or a peer scored twice (409)."""


def assessment_id(period: AssessmentPeriod, agent: str) -> str:
    return f"asm_{period.cadence}_{period.key}_{agent}"


class Assessments:
    def __init__(
        self,
        read_model: ReadModel,
        zone: ZoneInfo,
        targets_policy: dict[str, Any] | None = None,
        configured_users: Iterable[User] = (),
        quality_out_of: float = FULL_MARKS,
    ):
        self._read_model = read_model
        # Where a finalised assessment is announced to its agent (the app wires it: service/notifications.py).
        self.announce: Callable[[AnnounceInput], Awaitable[None]] | None = None
        self._directory = Directory(read_model)
        self._configured = tuple(configured_users)
        self._quality_out_of = quality_out_of
        self._engine = read_model.engine
        self._zone = zone
        self._kpis = Kpis(read_model, zone)
        self._department = Department(read_model, zone.key)
        self._targets = parse_targets(targets_policy or DEFAULT_TARGETS_DATA, KPI_NAMES)
        self._policy: AssessmentPolicy = parse_assessment_policy(targets_policy)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def peers_weighted(self) -> bool:
        """Whether peer scores (互评) count at all: agents are asked for them only then."""
        return self._policy.weights[AssessmentPart.PEERS] > 0

    async def make(self, period: AssessmentPeriod, actor: Actor, agents: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Make (or refresh the drafts of) the assessments of `period` for the given agents, else every enabled agent."""
        enabled = await self._directory.enabled_names(Role.AGENT, self._configured)
        names = sorted(set(agents)) if agents is not None else enabled
        for name in names:
            if name not in enabled:
                raise InvalidData("agents", f"{name!r} is not an enabled agent")
        if actor.role == Role.SUPERVISOR:
            names = await self._within_lead(actor, names, explicit=agents is not None)
        return [await self._make_one(period, name, actor) for name in names]

    async def _within_lead(self, actor: Actor, names: list[str], explicit: bool) -> list[str]:
        """A supervisor makes the assessments of the agents of the teams they lead: by default those only;
        an agent named may also be in no team (any supervisor scores those); another team's is refused."""
        leads = set((await self._department.membership(actor.name)).leads)
        memberships = await self._department.memberships()
        mine = []
        for name in names:
            teams = memberships[name].teams if name in memberships else ()
            if set(teams) & leads or (explicit and leads_agent(actor.role, leads, teams)):
                mine.append(name)
            elif explicit:
                raise ActionForbidden("make", actor.role or "", [Role.MANAGER], f"{name} is in no team {actor.name} leads")
        return mine

    async def make_scheduled(self, cadence: str, by: str) -> int:
        """The schedule's run: the whole period of `cadence` that ended by `by` (the scheduled time)."""
        made = await self.make(period_before(parse_time(by), cadence, self._zone), SCHEDULED_BY)
        return len(made)

    async def get(self, assessment_id: str, viewer: Actor) -> dict[str, Any]:
        document = await self._document(assessment_id)
        if viewer.role == Role.AGENT and document["agent_name"] != viewer.name and not await self._is_peer(viewer, document):
            raise ActionForbidden("read", viewer.role, [], "an agent reads only their own assessments (and scores team-mates')")
        return _as_seen_by(document, viewer)

    async def find(self, viewer: Actor, agent: str | None = None, period: str | None = None) -> list[dict[str, Any]]:
        """`period`: a key (2026-11, 2026-Q4, 2026) or a cadence (monthly, quarterly, yearly). Agents see their own only."""
        query = select(assessments.c.document)
        if viewer.role == Role.AGENT:
            agent = viewer.name
        if agent:
            query = query.where(assessments.c.agent_name == agent)
        if period in CADENCES:
            query = query.where(assessments.c.cadence == period)
        elif period:
            named = parse_period_key(period)
            query = query.where(assessments.c.period_key == named.key, assessments.c.cadence == named.cadence)
        query = query.order_by(assessments.c.period_from.desc(), assessments.c.agent_name).limit(500)
        async with self._engine.connect() as connection:
            documents = (await connection.execute(query)).scalars().all()
        return [_as_seen_by(document, viewer) for document in documents]

    async def peer_candidates(self, actor: Actor) -> list[dict[str, Any]]:
        """The open assessments of an agent's team-mates that they have not scored yet (互评)."""
        teams = (await self._department.membership(actor.name)).teams
        if actor.role != Role.AGENT or not teams or not self.peers_weighted:
            return []
        query = select(assessments.c.document).where(
            assessments.c.team.in_(teams), assessments.c.agent_name != actor.name, assessments.c.status == AssessmentStatus.DRAFT
        )
        async with self._engine.connect() as connection:
            documents = (
                (await connection.execute(query.order_by(assessments.c.period_from.desc(), assessments.c.agent_name).limit(200))).scalars().all()
            )
        # An assessment of no case at all gives a team-mate nothing to judge.
        seen = [_as_seen_by(document, actor) for document in documents if document["kpis"].get("volume")]
        return [document for document in seen if not document["peer_scores"]]

    async def log(self, assessment_id: str, viewer: Actor) -> list[dict[str, Any]]:
        """Supervisors, managers and auditors read every entry; the assessed agent reads their own
        assessment's log without who gave which peer score; nobody else reads it."""
        document = await self._document(assessment_id)
        own = viewer.role == Role.AGENT and viewer.name == document["agent_name"]
        if viewer.role not in (*SUPERVISING_ROLES, Role.AUDITOR) and not own:
            raise ActionForbidden(
                "log", viewer.role or "", [*SUPERVISING_ROLES, Role.AUDITOR], "only the assessed agent and supervisors read the log"
            )
        query = select(assessment_log).where(assessment_log.c.assessment_id == assessment_id).order_by(assessment_log.c.id)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        entries = []
        for row in rows:
            hidden = own and row["change"] == AssessmentChange.PEER_SCORED
            actor = {"name": None if hidden else row["actor"], "role": row["actor_role"]}
            entries.append({"at": format_time(as_utc(row["at"])), "actor": actor, "change": row["change"], "data": {} if hidden else row["data"]})
        return entries

    async def score(self, assessment_id: str, actor: Actor, score: Any, comment: Any) -> dict[str, Any]:
        """The supervisor's score (主管评分) and comment."""
        given = {"name": actor.name, "score": check_score(score, "score"), "comment": _comment(comment), "at": format_time(datetime.now(UTC))}

        async def check(document):
            await self._require_supervisor(actor, document, "score")

        return await self._change(
            assessment_id, actor, AssessmentChange.SCORED, check, lambda document: {**document, "supervisor_score": given}, given
        )

    async def self_assess(self, assessment_id: str, actor: Actor, score: Any, comment: Any) -> dict[str, Any]:
        """The agent's own score (自评), while the assessment is open."""
        given = {"score": check_score(score, "score"), "comment": _comment(comment), "at": format_time(datetime.now(UTC))}

        async def check(document):
            if document["agent_name"] != actor.name:
                raise ActionForbidden("self", actor.role or "", [], "only the assessed agent gives the self-assessment")

        return await self._change(
            assessment_id, actor, AssessmentChange.SELF_ASSESSED, check, lambda document: {**document, "self_score": given}, given
        )

    async def peer_score(self, assessment_id: str, actor: Actor, score: Any) -> dict[str, Any]:
        """A team-mate's score (互评): one each, never one's own."""
        given = {"name": actor.name, "score": check_score(score, "score"), "at": format_time(datetime.now(UTC))}

        async def check(document):
            if not await self._is_peer(actor, document):
                raise ActionForbidden("peer", actor.role or "", [Role.AGENT], "only another agent of the same team gives a peer score")
            if any(peer["name"] == actor.name for peer in document["peer_scores"]):
                raise AssessmentConflict(f"{actor.name} has already given a peer score")

        return await self._change(
            assessment_id,
            actor,
            AssessmentChange.PEER_SCORED,
            check,
            lambda document: {**document, "peer_scores": [*document["peer_scores"], given]},
            given,
        )

    async def finalise(self, assessment_id: str, actor: Actor) -> dict[str, Any]:
        """Final with the figures as they are now (the month's last quality checks settle after the
        schedule made it); refused while the supervisor's score, weighted, is missing."""
        now = format_time(datetime.now(UTC))
        document = await self._document(assessment_id)
        await self._require_supervisor(actor, document, "finalise")
        figures = await self._figures(parse_period_key(document["period"]), document["agent_name"])

        async def check(document):
            await self._require_supervisor(actor, document, "finalise")
            if self._policy.weights[AssessmentPart.SUPERVISOR] > 0 and document["supervisor_score"] is None:
                raise InvalidData("supervisor_score", "give the supervisor's score before finalising: it has a weight")

        def finalised(document):
            return {**document, **figures, "status": AssessmentStatus.FINALISED, "finalised_by": actor.name, "finalised_at": now}

        document = await self._change(assessment_id, actor, AssessmentChange.FINALISED, check, finalised, {})
        await self._tell_ready(document)
        return document

    async def _tell_ready(self, document: dict[str, Any]) -> None:
        """The agent hears their assessment is ready; a failure to tell is logged, the assessment stays final."""
        if self.announce is None:
            return
        request = AnnounceInput(
            f"{document['id']}:finalised", MessageKind.ASSESSMENT_READY, title=str(document.get("period", "")), agent=document["agent_name"]
        )
        try:
            await self.announce(request)
        except Exception:
            log.exception("could not announce assessment %s as ready", document["id"])

    async def coaching_allowed(self, assessment_id: str, actor: Actor) -> dict[str, Any]:
        """The assessment a supervisor may open a coaching plan for: a draft of their team's agent, without one yet."""
        document = await self._document(assessment_id)
        await self._require_supervisor(actor, document, "coaching")
        if document["status"] == AssessmentStatus.FINALISED:
            raise AssessmentFinal(f"{assessment_id} is finalised: it changes no more")
        if document.get("coaching_plan"):
            raise AssessmentConflict(f"{assessment_id} already has a coaching plan: {document['coaching_plan']}")
        return document

    async def record_coaching(self, assessment_id: str, actor: Actor, plan_id: str, metric: str) -> dict[str, Any]:
        async def check(document):
            await self._require_supervisor(actor, document, "coaching")
            if document.get("coaching_plan"):
                raise AssessmentConflict(f"{assessment_id} already has a coaching plan: {document['coaching_plan']}")

        def linked(document):
            return {**document, "coaching_plan": plan_id}

        return await self._change(assessment_id, actor, AssessmentChange.COACHING_OPENED, check, linked, {"plan_id": plan_id, "metric": metric})

    async def _figures(self, period: AssessmentPeriod, agent: str) -> dict[str, Any]:
        """What the records say of `agent` over `period`: KPIs, targets, quality, satisfaction, team."""
        start, end = period.bounds(self._zone)
        membership = await self._department.membership(agent)
        team = membership.teams[0] if membership.teams else None
        figures = (await self._kpis.report(KpiQuery(start, end, owner=agent)))["kpis"]
        judged = self._targets.judge(figures, team)
        quality = (await mean_quality_scores(self._engine, start, end, [agent], self._quality_out_of)).get(agent)
        pending = (await pending_quality_checks(self._engine, start, end, [agent])).get(agent, 0)
        return {
            "team": team,
            "kpis": figures,
            "targets": judged,
            "met": sorted(kpi for kpi, verdict in judged.items() if verdict["met"] is True),
            "missed": sorted(kpi for kpi, verdict in judged.items() if verdict["met"] is False),
            "quality_score": {"mean": quality[0], "checks": quality[1]} if quality else {"mean": None, "checks": 0},
            "quality_pending": pending,
            "satisfaction": {
                "satisfied_share": figures["satisfied_share"],
                "mean_score": figures["satisfaction_mean_score"],
                "responses": figures["satisfaction_responses"],
            },
        }

    async def _make_one(self, period: AssessmentPeriod, agent: str, actor: Actor) -> dict[str, Any]:
        """Insert it, or refresh the draft's figures keeping the scores given: only the version read,
        and only while a draft, so a racing finalise or score is never overwritten (read again instead)."""
        identifier = assessment_id(period, agent)
        figures = await self._figures(period, agent)
        start, end = period.bounds(self._zone)
        for _ in range(ATTEMPTS):
            existing = await self._document_or_none(identifier)
            if existing is not None and existing["status"] == AssessmentStatus.FINALISED:
                return existing
            now = format_time(datetime.now(UTC))
            given = existing or {"created_at": now, "created_by": actor.name, "version": 0, "supervisor_score": None, "self_score": None,
                                 "peer_scores": [], "coaching_plan": None}  # fmt: skip
            document = self._combined(
                {
                    "id": identifier,
                    "agent_name": agent,
                    "cadence": period.cadence,
                    "period": period.key,
                    "from": format_time(start),
                    "to": format_time(end),
                    "timezone": self._zone.key,
                    "status": AssessmentStatus.DRAFT,
                    "created_at": given["created_at"],
                    "created_by": given["created_by"],
                    "updated_at": now,
                    "version": given["version"] + 1,
                    **figures,
                    **{key: given[key] for key in ("supervisor_score", "self_score", "peer_scores", "coaching_plan")},
                    "finalised_by": None,
                    "finalised_at": None,
                }
            )
            if await self._store(document, existing, actor):
                return document
        raise AssessmentConflict(f"{identifier} kept changing while it was refreshed: make it again")

    async def _store(self, document: dict[str, Any], existing: dict[str, Any] | None, actor: Actor) -> bool:
        """Write the made or refreshed document; False when someone else wrote first."""
        identifier = document["id"]
        change = AssessmentChange.REFRESHED if existing else AssessmentChange.MADE
        try:
            async with self._engine.begin() as connection:
                if existing is None:
                    await connection.execute(assessments.insert().values(_row(document)))
                else:
                    statement = update(assessments).where(
                        assessments.c.id == identifier,
                        assessments.c.version == existing["version"],
                        assessments.c.status == AssessmentStatus.DRAFT,
                    )
                    if (await connection.execute(statement.values(_row(document)))).rowcount != 1:
                        return False
                await _append_log(connection, identifier, actor, change, {"total": document["total"], "grade": document["grade"]})
        except IntegrityError:
            return False  # made at the same moment by another: read theirs and refresh it
        return True

    def _combined(self, document: dict[str, Any]) -> dict[str, Any]:
        parts: dict[str, float | None] = {
            AssessmentPart.KPI: kpi_score(document["targets"]),
            AssessmentPart.QUALITY: document["quality_score"]["mean"],
            AssessmentPart.SATISFACTION: satisfaction_score(document["satisfaction"]["satisfied_share"]),
            AssessmentPart.SUPERVISOR: (document["supervisor_score"] or {}).get("score"),
            AssessmentPart.SELF: (document["self_score"] or {}).get("score"),
            AssessmentPart.PEERS: mean([peer["score"] for peer in document["peer_scores"]]),
        }
        combined = self._policy.combine(parts)
        return {**document, "parts": {str(part): value for part, value in parts.items()}, **combined}

    async def _change(self, identifier: str, actor: Actor, change: AssessmentChange, check, apply, logged: dict[str, Any]) -> dict[str, Any]:
        """Apply one change to the version read; when another wrote first (a refresh, a score), read again and check again."""
        if actor.role not in (Role.AGENT, *SUPERVISING_ROLES):
            raise ActionForbidden(change, actor.role or "", [], "auditors and quality reviewers change no assessment")
        for _ in range(ATTEMPTS):
            document = await self._document(identifier)
            if document["status"] == AssessmentStatus.FINALISED:
                raise AssessmentFinal(f"{identifier} is finalised: it changes no more")
            await check(document)
            changed = self._combined(apply(document))
            changed.update(version=document["version"] + 1, updated_at=format_time(datetime.now(UTC)))
            async with self._engine.begin() as connection:
                statement = update(assessments).where(assessments.c.id == identifier, assessments.c.version == document["version"])
                if (await connection.execute(statement.values(_row(changed)))).rowcount == 1:
                    await _append_log(connection, identifier, actor, change, logged)
                    return _as_seen_by(changed, actor)
        raise AssessmentConflict(f"{identifier} kept changing meanwhile: read it again")

    async def _require_supervisor(self, actor: Actor, document: dict[str, Any], action: str) -> None:
        """A manager, or a supervisor of the agent's team (any supervisor when the agent is in no team)."""
        leads = (await self._department.membership(actor.name)).leads if actor.role == Role.SUPERVISOR else ()
        if leads_agent(actor.role, leads, [document["team"]] if document["team"] else []):
            return
        raise ActionForbidden(action, actor.role or "", list(SUPERVISING_ROLES), "only a supervisor of the agent's team or a manager may do this")

    async def _is_peer(self, actor: Actor, document: dict[str, Any]) -> bool:
        if actor.role != Role.AGENT or actor.name == document["agent_name"] or document["team"] is None:
            return False
        return document["team"] in (await self._department.membership(actor.name)).teams

    async def _document(self, identifier: str) -> dict[str, Any]:
        document = await self._document_or_none(identifier)
        if document is None:
            raise AssessmentNotFound(identifier)
        return document

    async def _document_or_none(self, identifier: str) -> dict[str, Any] | None:
        async with self._engine.connect() as connection:
            return (await connection.execute(select(assessments.c.document).where(assessments.c.id == identifier))).scalar()


async def assessment_summary(engine: AsyncEngine, period: AssessmentPeriod) -> dict[str, Any]:
    """A period's assessments for its review: each agent's total, grade, met and missed targets, and
    who is below target (missed at least one)."""
    query = select(assessments.c.document).where(assessments.c.cadence == period.cadence, assessments.c.period_key == period.key)
    async with engine.connect() as connection:
        documents = (await connection.execute(query.order_by(assessments.c.agent_name))).scalars().all()
    rows = [{key: document[key] for key in ("id", "agent_name", "team", "status", "total", "grade", "met", "missed")} for document in documents]
    return {"period": period.key, "agents": rows, "below_target": [row["agent_name"] for row in rows if row["missed"]]}


def _as_seen_by(document: dict[str, Any], viewer: Actor) -> dict[str, Any]:
    """A team-mate sees whether they gave a peer score, not the assessment's figures or others' scores;
    the assessed agent sees the peer scores' mean and count, not who gave which."""
    scores = [peer["score"] for peer in document["peer_scores"]]
    summary = {"mean": mean(scores), "count": len(scores)}
    if viewer.role == Role.AGENT and viewer.name != document["agent_name"]:
        mine = [peer for peer in document["peer_scores"] if peer["name"] == viewer.name]
        return {key: document[key] for key in ("id", "agent_name", "team", "cadence", "period", "status")} | {"peer_scores": mine}
    if viewer.role == Role.AGENT:
        return {**document, "peer_scores": [], "peers": summary}
    return {**document, "peers": summary}


def _comment(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > COMMENT_LENGTH:
        raise InvalidData("comment", f"must be text of at most {COMMENT_LENGTH} characters")
    return value


def _row(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": document["id"],
        "agent_name": document["agent_name"],
        "team": document["team"],
        "cadence": document["cadence"],
        "period_key": document["period"],
        "period_from": parse_time(document["from"]),
        "period_to": parse_time(document["to"]),
        "status": document["status"],
        "total": document["total"],
        "grade": document["grade"],
        "created_at": parse_time(document["created_at"]),
        "updated_at": parse_time(document["updated_at"]),
        "version": document["version"],
        "document": document,
    }


async def _append_log(connection, identifier: str, actor: Actor, change: AssessmentChange, data: dict[str, Any]) -> None:
    row = {"assessment_id": identifier, "at": datetime.now(UTC), "actor": actor.name, "actor_role": actor.role or "", "change": change, "data": data}
    await connection.execute(assessment_log.insert().values(row))
