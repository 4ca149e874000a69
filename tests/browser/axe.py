"""axe-core in the page: the accessibility check the browser tests run (WCAG 2.x A and AA rules, best practices).

scripts/bootstrap.sh fetches axe-core from the npm registry into var/vendor (not committed, never served by the app).
The script goes in through Playwright's evaluate, which the page's Content-Security-Policy does not apply to: the
pages themselves keep `script-src 'self'`.
"""

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "var" / "vendor" / "axe.min.js"

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def axe_violations(page) -> list[dict]:
    if not AXE.exists():
        pytest.fail(f"axe-core not found at {AXE}; scripts/bootstrap.sh (run by `make test`) fetches it")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(_RUN)


def assert_accessible(page, what: str) -> None:
    """No axe-core violation on the page as it is now."""
    violations = axe_violations(page)
    assert violations == [], f"axe-core on {what} ({page.url}):\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations
    )
