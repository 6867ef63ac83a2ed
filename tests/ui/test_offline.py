"""Every page of the dashboard, and every stylesheet and script it loads, references only
the mock itself: no CDN, font or other host (and every such reference answers)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from mock_server.testing.receiver import WebhookReceiver
from tests.ui.helpers import PAGES, UI, populate

pytestmark = pytest.mark.anyio

URL_ATTRIBUTES = {"href", "src", "action", "srcset", "poster", "data", "formaction"}
URL_DATA = {"data-api", "data-live", "data-spec"}
OUTSIDE = re.compile(r"""(?:(?i:https?):)?//[^\s"'<>)]+|@import|url\(\s*['"]?(?!/)""")


class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in URL_ATTRIBUTES or name in URL_DATA:
                self.urls.append(value)
            if name == "style":
                self.styles.append(value)


def inside(url: str) -> bool:
    """A path on the mock (or a fragment): never another host, protocol-relative included."""
    return url.startswith(("/", "#", "?")) and not url.startswith("//")


async def page_texts(client: httpx.AsyncClient, job_id: str) -> dict[str, str]:
    texts = {}
    for page in [*PAGES, f"/jobs/finetune/{job_id}", "/contract?spec=mock-admin"]:
        answer = await client.get(UI + page)
        assert answer.status_code == 200, page
        texts[page] = answer.text
    return texts


async def test_pages_reference_only_the_mock(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    made = await populate(mock_client, webhook_receiver)
    assets: set[str] = set()
    for page, text in (await page_texts(mock_client, made["job_id"])).items():
        found = References()
        found.feed(text)
        assert found.urls, page
        outside = [u for u in found.urls if not inside(u)]
        assert not outside, f"{page} references {outside}"
        for style in found.styles:
            assert not OUTSIDE.search(style), f"{page}: style {style!r}"
        inline = re.findall(r"<(?:style|script)(?![^>]*\bsrc=)[^>]*>(.*?)</", text, re.S)
        assert not [s for s in inline if s.strip()], f"{page} has inline style or script"
        assets.update(u for u in found.urls if u.endswith((".css", ".js")))
    assert {f"{UI}/static/ui.css", f"{UI}/static/ui.js", f"{UI}/swagger/swagger-ui.css"} <= assets
    for asset in sorted(assets):
        answer = await mock_client.get(asset)
        assert answer.status_code == 200, asset
        if asset.startswith(f"{UI}/static/"):  # our own files: no other host at all
            assert not OUTSIDE.search(answer.text), f"{asset}: {OUTSIDE.search(answer.text)}"


async def test_every_link_on_the_pages_answers(
    mock_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    made = await populate(mock_client, webhook_receiver)
    links: set[str] = set()
    for text in (await page_texts(mock_client, made["job_id"])).values():
        links.update(re.findall(r'(?:href|src)="(/[^"]*)"', text))
    assert "/_mock/scenario" in links  # the state export
    assert len(links) > 10
    for link in sorted(links):
        answer = await mock_client.get(link.replace("&amp;", "&"))
        assert answer.status_code in (200, 303), f"{link}: {answer.status_code}"
