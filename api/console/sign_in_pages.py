"""Signing in and out, the root redirect, and the language switch."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import console_session
from api.console.render import page
from api.console.session import SESSION_COOKIE, SIGN_IN_COOKIE, cleared, cookie, csrf_checked, new_sign_in_token, sign_in_checked
from api.labels import LANGUAGES
from service.sign_in import SignInFailed, SignInRefused
from states.vocabulary import Role

MAX_NAME = 200
MAX_PASSWORD = 1000
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def home_of(role: str) -> str:
    """Where a user lands: their own queue, or, for an auditor who owns nothing, every case."""
    return "/ui/cases" if role == Role.AUDITOR else "/ui/cases/mine"


def safe_next(target: str | None) -> str | None:
    """Only a console path of this app, so a link cannot send a signed-in user elsewhere."""
    if target and target.startswith("/ui/") and not target.startswith("//") and "\\" not in target and len(target) < 2000:
        return target
    return None


def see_other(location: str, request: Request) -> Response:
    """A redirect a plain form and htmx both follow (htmx would otherwise swap the target page in)."""
    if request.headers.get("hx-request"):
        return Response("", status_code=200, headers={"HX-Redirect": location})
    return Redirect(location, status_code=HTTP_303_SEE_OTHER)


@get("/", exclude_from_auth=True, include_in_schema=False)
async def root(request: Request) -> Response:
    session = await console_session(request)
    return Redirect(home_of(session.user.role) if session else "/ui/login", status_code=HTTP_303_SEE_OTHER)


class SignInPages(Controller):
    path = "/ui"
    include_in_schema = False

    @get("/login", exclude_from_auth=True)
    async def sign_in_form(self, request: Request, next: Annotated[str | None, QueryParameter(max_length=2000)] = None) -> Response:
        return self._form(request, safe_next(next), name="", message=None)

    @post("/login", exclude_from_auth=True)
    async def sign_in(self, request: Request, data: Form) -> Response:
        await sign_in_checked(request)
        name, password = data.get("name", "")[:MAX_NAME].strip(), data.get("password", "")[:MAX_PASSWORD]
        target = safe_next(data.get("next"))
        address = request.client.host if request.client else "unknown"
        try:
            session = await request.app.state.sign_in.sign_in(name, password, address)
        except SignInFailed:
            return self._form(request, target, name=name, message="wrong_name_or_password", status_code=401)
        except SignInRefused as refused:
            return self._form(request, target, name=name, message="too_many_sign_ins", minutes=-(-refused.retry_after // 60), status_code=429)
        chosen = request.query_params.get("lang")
        if chosen in LANGUAGES and chosen != session.user.language:
            # Chosen on the sign-in page: remembered for the user, like the switch in the header.
            await request.app.state.directory.set_language(session.user.name, chosen)
        settings = request.app.state.settings
        response = Redirect(target or home_of(session.user.role), status_code=HTTP_303_SEE_OTHER)
        response.set_cookie(cookie(SESSION_COOKIE, session.id, settings))
        response.set_cookie(cleared(SIGN_IN_COOKIE, settings, path="/ui/login"))
        return response

    def _form(self, request: Request, target: str | None, *, name: str, message: str | None, status_code: int = 200, **values) -> Response:
        token = new_sign_in_token()
        response = page(request, "login.html", status_code, next=target or "", name=name, message=message, values=values, sign_in_token=token)
        response.set_cookie(cookie(SIGN_IN_COOKIE, token, request.app.state.settings, path="/ui/login"))
        return response


class SessionPages(Controller):
    path = "/ui"
    guards = [csrf_checked]
    include_in_schema = False

    @post("/logout")
    async def sign_out(self, request: Request) -> Response:
        await request.app.state.sign_in.sign_out(request.auth.id)
        response = see_other("/ui/login", request)
        response.set_cookie(cleared(SESSION_COOKIE, request.app.state.settings))
        return response

    @post("/language")
    async def choose_language(self, request: Request, data: Form) -> Response:
        language = data.get("language", "")
        if language in LANGUAGES:
            await request.app.state.directory.set_language(request.user.name, language)
        return see_other(safe_next(data.get("back")) or home_of(request.user.role), request)
