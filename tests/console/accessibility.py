"""axe-core's verdict on a console page, as the browser tests check it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from playwright.async_api import Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = ("serious", "critical")


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact} {self.rule} ({self.help}): {', '.join(self.targets)}"


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


async def serious_violations(page: Page) -> list[Violation]:
    """The serious and critical violations axe finds on the page as it stands.

    axe is evaluated through the DevTools protocol rather than added as a <script>: the console's
    CSP refuses inline scripts (`page.add_script_tag` is one), and this way the page is checked with
    its own CSP in force instead of a context that bypasses it.
    """
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(_axe_source() + "\n;undefined")
    found = await page.evaluate(
        """async () => (await window.axe.run(document)).violations.map(v => ({
            rule: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(" "))}))"""
    )
    return [Violation(v["rule"], v["impact"], v["help"], tuple(v["targets"])) for v in found if v["impact"] in SERIOUS]
