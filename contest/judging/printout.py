"""The printable decision annex (the winners list a decision is signed with) and its PDF.

The page (templates/judging/print.html) carries what an official Vietnamese document carries: the national
heading, the issuing body (per contest, `Contest.issuing_body`), the place and date line ("Hà Nội, ngày 02 tháng
11 năm 2026", place per contest) and the signature blocks. The PDF is the same HTML rendered by WeasyPrint (pango,
DejaVu fonts for the diacritics), with the stylesheet inlined and every other fetch refused.
"""

from datetime import datetime
from pathlib import Path

from flask import current_app, render_template

from contest.judging import publishing
from contest.judging.prizes import winners
from contest.judging.publishing import unit_names
from contest.judging.ranking import prediction_target
from contest.rounds.models import Round
from infra.clock import to_vn_time

DEFAULT_ISSUER = "Ban Tổ chức cuộc thi"


def date_line(place: str, when: datetime | None) -> str:
    """The place and date line in the official form (Decree 30/2020: a day under 10 and the months 1 and 2 take a
    leading zero); without a date its numbers are left as dots to fill in by hand."""
    if when is None:
        return f"{place}, ngày …… tháng …… năm ……"
    month = f"{when.month:02d}" if when.month < 3 else str(when.month)
    return f"{place}, ngày {when.day:02d} tháng {month} năm {when.year}"


def annex_context(round_: Round) -> dict:
    snapshot = publishing.latest_snapshot(round_.id)
    if snapshot is None:
        entries = list(winners(round_))
        target = prediction_target(round_)
    else:
        entries = list(publishing.snapshot_entries(snapshot, winners_only=True))
        target = snapshot.perfect_count_actual
    contest = round_.contest
    return dict(
        round=round_,
        snapshot=snapshot,
        entries=entries,
        provisional=snapshot is None,
        units=unit_names(),
        target=target,
        issuer=contest.issuing_body or DEFAULT_ISSUER,
        date_line=date_line(
            contest.issuing_place or "Hà Nội", to_vn_time(snapshot.published_at) if snapshot is not None else None
        ),
    )


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"the printout fetches nothing ({url})")


def render_pdf(round_: Round) -> bytes:
    """The annex as a PDF: the same template, the stylesheet inlined, no fetch allowed."""
    # Imported here, not at the top: WeasyPrint takes about 3 s to import, which every process start (server,
    # worker, CLI) would otherwise pay for a page a judge opens a few times per round (start-up cost).
    import weasyprint

    css = (Path(current_app.static_folder or "static") / "css" / "judging-print.css").read_text(encoding="utf-8")
    html = render_template("judging/print.html", pdf=True, print_css=css, **annex_context(round_))
    return weasyprint.HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()
