"""The console's own scripts and styles: from the app itself, small when compressed, cached after the first load."""

from __future__ import annotations

import re

import httpx

BUDGET_BYTES = 60_000  # compressed, on first load (issue #16)


async def test_the_consoles_scripts_and_styles_come_from_the_app_compressed_and_cached(http: httpx.AsyncClient):
    page = await http.get("/ui/login")
    assets = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', page.text)
    assert len(assets) >= 4 and all(url.startswith("/ui/static/") for url in assets)  # no CDN, no other origin
    sent = 0
    for url in assets:
        answer = await http.get(url, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200
        assert answer.headers["content-encoding"] == "gzip"
        max_age = int(re.search(r"max-age=(\d+)", answer.headers["cache-control"]).group(1))  # type: ignore[union-attr]
        assert max_age >= 30 * 24 * 3600
        sent += answer.num_bytes_downloaded
    assert sent < BUDGET_BYTES


async def test_the_json_api_is_not_compressed(http: httpx.AsyncClient):
    answer = await http.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in answer.headers


async def test_the_api_docs_load_nothing_from_another_origin(http: httpx.AsyncClient):
    page = await http.get("/schema")
    assert page.status_code == 200
    addresses = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert addresses and all(address.startswith("/") and not address.startswith("//") for address in addresses)
    assert (await http.get(addresses[0])).status_code == 200
