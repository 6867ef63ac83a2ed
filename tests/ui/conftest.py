"""A real headless Chromium (Debian's package, never a downloaded build) driven by
Playwright, and a page of it that may reach the live mock only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from mock_server.testing.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module-scoped: Playwright's sync API holds an event loop in this thread while it
    runs, so it must be gone before async tests of other modules run."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, tunemock_server: LiveServer) -> Iterator[Page]:
    """A fresh browser context on the live mock; every request to another host is refused
    and makes the test fail."""
    base = tunemock_server.base_url
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def only_the_mock(route: Route) -> None:
        url = route.request.url
        if url.startswith((f"{base}/", "data:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", only_the_mock)
    tab = context.new_page()
    yield tab
    context.close()
    assert not outside, f"the dashboard asked another host: {outside}"
