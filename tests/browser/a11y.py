"""axe-core in the browser (the engine bundled by the axe-playwright-python package): a page's violations."""

from axe_playwright_python.sync_playwright import Axe

_axe = Axe()


def axe_violations(page, context=None) -> list[str]:
    """The ids of the axe-core rules the page (or `context`, a CSS selector) violates, with the offending targets."""
    results = _axe.run(page, context=context)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in results.response["violations"]]
