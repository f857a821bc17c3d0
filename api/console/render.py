"""Rendering the console's templates: autoescaped Jinja2, every word from the catalogs, every time
in the department's zone."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response

from api.console.badges import PRESSING
from api.console.display import case_rows, data_rows, minutes_rows
from api.console.session import CSRF_FIELD, CSRF_HEADER, csrf_token, session_id
from api.console.timefmt import Clock
from api.labels import DEFAULT_LANGUAGE, LANGUAGES, has_label, label, negotiate
from service.visibility import Viewer
from states.case import Actor
from states.vocabulary import SUPERVISING_ROLES, DeadlineState, Role

TEMPLATES = Path(__file__).parent.parent / "templates"
STATIC = Path(__file__).parent.parent / "static"
HTML = "text/html; charset=utf-8"
# Beside a deadline's colour, always a sign and a word (colour alone says nothing to some readers).
DEADLINE_ICONS = {
    DeadlineState.RUNNING: "◷",
    DeadlineState.WARNING: "◔",
    DeadlineState.PAUSED: "⏸",
    DeadlineState.BREACHED: "⚠",
    DeadlineState.MET: "✓",
}
# Who reads the department's figures (wallboard, KPIs, reviews): the navigation links to them.
OVERSEEING_ROLES = (*SUPERVISING_ROLES, Role.AUDITOR)
# Who changes no case: auditors change nothing, quality reviewers only their checks.
CHANGES_NO_CASE = (Role.AUDITOR, Role.QUALITY)
# Who works the quality queue (质检队列), and who handles cases, so has a scorecard (我的质检).
QUALITY_QUEUE_ROLES = (Role.QUALITY, *SUPERVISING_ROLES, Role.AUDITOR)
HANDLING_ROLES = (Role.AGENT, Role.SUPERVISOR)
# Who reads the department's teams; of them only managers change users, teams and routing.
TEAM_READERS = SUPERVISING_ROLES

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# `tojson` (the raw Temporal history) shows Chinese as itself rather than \uXXXX escapes, which no
# reader can read; it still escapes < > & ' whatever this says.
_environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}


@functools.cache
def asset(name: str) -> str:
    """A static file's URL with its content's hash, so browsers may cache it for good."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/ui/static/{name}?v={digest}"


def language_of(request: Request) -> str:
    """The signed-in user's language; before sign-in, the one asked for with ?lang=, else zh-CN (the
    department's language, whatever the browser was installed with)."""
    user = request.scope.get("user")
    language = getattr(user, "language", None)
    if language in LANGUAGES:
        return language
    return negotiate(None, request.query_params.get("lang"))


def clock_for(request: Request) -> Clock:
    return Clock(ZoneInfo(request.app.state.settings.timezone), language_of(request))


async def viewer_of(request: Request) -> Viewer:
    """What the signed-in user may see of cases (service/visibility.py), as the JSON API asks it."""
    return await request.app.state.visibility.viewer(Actor(request.user.name, request.user.role))


def words(language: str):
    def ui(key: str, **values: Any) -> str:
        text = label(language, "console", key)
        return text.format(**values) if values else text

    def term(context: str, value: Any) -> str:
        return "" if value is None else label(language, context, str(value))

    def site_name(site: str) -> str:
        """The head office by its label (总部), any other site as it is named."""
        return label(language, "site", site) if has_label(language, "site", site) else site

    def event_label(action: str) -> str:
        """An event is an action someone took, or one the case recorded by itself."""
        return label(language, "action", action) if has_label(language, "action", action) else label(language, "system_action", action)

    def clock_label(target: str) -> str:
        """A service-level target: 首次响应, 解决, or a phase's own time limit (分析时限)."""
        if has_label(language, "clock", target):
            return label(language, "clock", target)
        return label(language, "console", "phase_deadline").format(phase=label(language, "phase", target))

    return ui, term, event_label, clock_label, site_name


def page(request: Request, template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    language = language_of(request)
    ui, term, event_label, clock_label, site_name = words(language)
    user = request.scope.get("user")
    clock = clock_for(request)
    current = session_id(request)
    values = {
        "request": request,
        "path": request.url.path,
        "user": user,
        "can_change": user is not None and user.role not in CHANGES_NO_CASE,
        "works_quality_queue": user is not None and user.role in QUALITY_QUEUE_ROLES,
        "has_scorecard": user is not None and user.role in HANDLING_ROLES,
        "oversees": user is not None and user.role in OVERSEEING_ROLES,
        "reads_teams": user is not None and user.role in TEAM_READERS,
        "manages": user is not None and user.role == Role.MANAGER,
        "my_teams": getattr(request.state, "teams", ()),
        "event_label": event_label,
        "clock_label": clock_label,
        "site_name": site_name,
        "deadline_icons": DEADLINE_ICONS,
        "pressing_priorities": PRESSING,
        "language": language,
        "html_lang": language if language != DEFAULT_LANGUAGE else "zh-CN",
        "ui": ui,
        "t": term,
        "clock": clock,
        "asset": asset,
        "csrf_field": CSRF_FIELD,
        "csrf_header": CSRF_HEADER,
        "csrf": csrf_token(current) if current else "",
        "live": None,  # the page's live stream, when it shows cases that others change
        "data_rows": lambda data, known=None: data_rows(data, language, clock, known),
        "case_rows": lambda data, known=None: case_rows(data, language, clock, known),
        "minutes_rows": lambda data, known=None: minutes_rows(data, language, clock, known),
        **context,
    }
    html = _environment.get_template(template).render(values)
    return Response(html, status_code=status_code, media_type=HTML, headers={"Content-Language": language, **(headers or {})})
