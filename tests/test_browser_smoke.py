"""The browser the fidelity and replay tests rely on starts and renders a local page."""

from __future__ import annotations

from typing import Any

from tests.browser import artifact_path, chromium


def test_chromium_renders_a_mock_site_page(mocksite: Any) -> None:
    with chromium() as browser:
        page = browser.new_page()
        seen: list[str] = []
        page.on("request", lambda request: seen.append(request.url))
        page.goto(f"{mocksite.sites}/pages/plain.html")
        assert "The plain page text." in page.inner_text("body")
        page.screenshot(path=str(artifact_path("smoke-plain.png")))
        assert all(url.startswith("http://127.0.0.1:") for url in seen)
