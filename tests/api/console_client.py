"""The console over HTTP, as a browser uses it: a session cookie from the sign-in form, and the
page's CSRF token sent back with every form."""

from __future__ import annotations

import re
from typing import Any

import httpx

from service.directory import Directory
from service.read_model import ReadModel

PASSWORDS = {"ann": "ann-console-password", "sam": "sam-console-password", "ada": "ada-console-password"}
ROLES = {"ann": "agent", "sam": "supervisor", "ada": "auditor"}
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)"[^>]* value="([^"]*)"')


async def ensure_people(read_model: ReadModel) -> None:
    """The test users (tests/support.py ACTORS) in the directory, with passwords, once per database."""
    directory = Directory(read_model)
    for name, role in ROLES.items():
        if await directory.person(name) is None:
            await directory.add(name, role, PASSWORDS[name], display_name=name.title())


def hidden_fields(html: str) -> dict[str, str]:
    return dict(HIDDEN.findall(html))


class Browser:
    """One person's browser: its own cookies."""

    def __init__(self, base_url: str):
        self.client = httpx.AsyncClient(base_url=base_url, timeout=60, follow_redirects=False)
        self.csrf = ""

    async def sign_in(self, name: str, password: str | None = None) -> httpx.Response:
        form = await self.client.get("/ui/login")
        token = hidden_fields(form.text)["csrf_token"]
        answer = await self.client.post("/ui/login", data={"csrf_token": token, "name": name, "password": password or PASSWORDS[name]})
        if answer.status_code == 303:
            page = await self.client.get(answer.headers["location"])
            self.csrf = hidden_fields(page.text).get("csrf_token", "")
        return answer

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params or None)

    async def post(self, path: str, data: dict[str, Any], csrf: bool = True, htmx: bool = False) -> httpx.Response:
        body = {"csrf_token": self.csrf, **data} if csrf else dict(data)
        headers = {"HX-Request": "true"} if htmx else {}
        return await self.client.post(path, data=body, headers=headers)

    async def form(self, path: str) -> dict[str, str]:
        """The hidden fields of a form page or fragment (CSRF token, version, request id)."""
        answer = await self.client.get(path)
        assert answer.status_code == 200, answer.text[:500]
        return hidden_fields(answer.text)

    async def close(self) -> None:
        await self.client.aclose()
