"""Thin routes over contest.rounds.services; the attempt itself runs over Socket.IO (realtime.play)."""

from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from contest.rounds import leaderboard
from contest.rounds.eligibility import user_is_eligible
from contest.rounds.keys import ATTEMPTS_RUNNING, keys_withheld, round_review_block
from contest.rounds.live_state import server_now_ms
from contest.rounds.models import Attempt, AttemptAnswer, Contest, Round
from contest.rounds.participation import participation
from contest.rounds.services import (
    ERRORS,
    AttemptError,
    attempt_view,
    attempts_for,
    round_state,
    start_attempt,
)
from infra.clock import to_ms, utcnow
from infra.extensions import db
from infra.qr import qr_svg_document, qr_svg_inline
from question_bank.models import Question

bp = Blueprint("play", __name__)


def published_contests():
    return db.session.scalars(
        select(Contest).where(Contest.published.is_(True)).order_by(Contest.created_at.desc()).limit(20)
    ).all()


@bp.app_template_global()
def play_contests():
    """For the home page hook: published contests, newest first."""
    return published_contests()


@bp.app_template_global()
def round_status(round_):
    return round_state(round_)


@bp.app_template_global()
def ms(dt):
    return to_ms(dt)


@bp.route("/cuoc-thi")
def contests():
    return render_template("play/contests.html", contests=published_contests())


@dataclass
class StartInfo:
    """What the contest page, the confirmation and the result page tell a contestant about starting a round."""

    state: str  # upcoming | open | closed
    attempts: list
    running: Attempt | None = None
    used: int = 0
    remaining: int | None = None  # None: unlimited
    refusal: str | None = None  # an ERRORS code when a new attempt cannot start: not_eligible, attempt_limit
    seconds: int = 0  # time a new attempt would have (the round's close may cut the time limit)

    @property
    def can_start(self) -> bool:
        return self.state == "open" and self.running is None and self.refusal is None


def start_info(round_: Round, user) -> StartInfo:
    state = round_state(round_)
    if not user.is_authenticated:
        return StartInfo(state=state, attempts=[])
    mine = attempts_for(round_.id, user.id)
    now = utcnow()
    running = next((a for a in reversed(mine) if a.status == "in_progress" and a.deadline_at > now), None)
    used = max((a.number for a in mine), default=0)
    remaining = None if round_.attempts_allowed is None else max(round_.attempts_allowed - used, 0)
    refusal = None
    if not user_is_eligible(round_.contest, user):
        refusal = "not_eligible"
    elif remaining == 0:
        refusal = "attempt_limit"
    seconds = max(0, min(round_.time_limit_seconds, int((round_.closes_at - now).total_seconds())))
    return StartInfo(state, mine, running, used, remaining, refusal, seconds)


@bp.app_template_global()
def refusal_message(code):
    return str(ERRORS.get(code, ERRORS["bad_request"]))


@bp.route("/cuoc-thi/<slug>")
def contest_page(slug):
    contest = db.session.scalar(select(Contest).where(Contest.slug == slug, Contest.published.is_(True)))
    if contest is None:
        abort(404)
    info = {round_.id: start_info(round_, current_user) for round_ in contest.rounds}
    eligible_units = sorted(u.path() for u in contest.eligible_units)
    return render_template(
        "play/contest.html", contest=contest, info=info, eligible_units=eligible_units, server_ms=server_now_ms()
    )


def _refuse(round_, message):
    flash(message, "error")
    return redirect(url_for("play.contest_page", slug=round_.contest.slug))


@bp.route("/vong-thi/<int:round_id>/bat-dau", methods=["GET", "POST"])
@login_required
def start(round_id):
    """GET: the confirmation page (attempts left, time limit), the no-script path of the contest page's dialog.
    POST with confirm=1: uses an attempt. A running attempt is simply continued (it uses none)."""
    round_ = db.session.get(Round, round_id)
    if round_ is None or not round_.contest.published:
        abort(404)
    info = start_info(round_, current_user)
    if info.running is not None:
        return redirect(url_for("play.attempt_page", attempt_id=info.running.id))
    if info.state != "open":
        return _refuse(round_, ERRORS["round_not_open"])
    if info.refusal:
        return _refuse(round_, refusal_message(info.refusal))
    if request.method == "GET" or request.form.get("confirm") != "1":
        # A start without the confirmation (an old page, a script) changes nothing: it asks first.
        status = 200 if request.method == "GET" else 409
        return render_template("play/start_confirm.html", round=round_, info=info), status
    try:
        attempt = start_attempt(
            current_user, round_, client_ip=request.remote_addr, device_id=request.form.get("device_id")
        )
    except AttemptError as exc:
        return _refuse(round_, exc.message)
    return redirect(url_for("play.attempt_page", attempt_id=attempt.id))


def _own_attempt(attempt_id):
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


@bp.route("/luot-thi/<int:attempt_id>")
@login_required
def attempt_page(attempt_id):
    attempt = _own_attempt(attempt_id)
    if attempt.status != "in_progress":
        return redirect(url_for("play.result", attempt_id=attempt.id))
    return render_template("play/attempt.html", attempt=attempt, state=attempt_view(attempt))


def _in_shown_order(question, attempt_question):
    shown = {oid: i for i, oid in enumerate(attempt_question.option_order or [])}
    return sorted(question.options, key=lambda o: (shown.get(o.id, len(shown)), o.id))


@dataclass
class ReviewOption:
    letter: str
    text: str
    chosen: bool
    correct: bool = False  # never set while the question's key is withheld


@dataclass
class ReviewItem:
    """One question of the review as the page may show it: everything about the key (which option is right, ✓/✗,
    the explanation and the legal basis, which would give the key away) is filled only when the key may be shown."""

    stem: str
    options: list[ReviewOption]
    hidden: bool
    verdict: str | None = None  # "right", "wrong" or "blank" (not answered)
    explanation: str | None = None
    legal_document: str | None = None
    legal_article: str | None = None


def _review_item(question, attempt_question, answer, hidden):
    chosen = set(answer.selected) if answer is not None else set()
    options = [
        ReviewOption(letter=chr(ord("A") + i) if i < 26 else str(i + 1), text=o.text, chosen=o.id in chosen)
        for i, o in enumerate(_in_shown_order(question, attempt_question))
    ]
    if hidden:
        return ReviewItem(stem=question.stem, options=options, hidden=True)
    key = {o.id for o in question.options if o.is_correct}
    for option, o in zip(options, _in_shown_order(question, attempt_question)):
        option.correct = o.id in key
    verdict = "blank" if not chosen else ("right" if key and chosen == key else "wrong")
    return ReviewItem(
        stem=question.stem,
        options=options,
        hidden=False,
        verdict=verdict,
        explanation=question.explanation or None,
        legal_document=question.legal_document or None,
        legal_article=question.legal_article or None,
    )


def _review(attempt, block):
    """The attempt's questions in the order shown, and the ids whose key stays hidden (see contest.rounds.keys)."""
    answers = {
        a.question_id: a
        for a in db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))
    }
    ids = [aq.question_id for aq in attempt.questions]
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}
    withheld = set(ids) if block else keys_withheld(ids)
    # Options in the order this attempt showed them (authoring order could hint at the key).
    items = [
        _review_item(questions[aq.question_id], aq, answers.get(aq.question_id), aq.question_id in withheld)
        for aq in attempt.questions
    ]
    return items, withheld


@bp.route("/luot-thi/<int:attempt_id>/ket-qua")
@login_required
def result(attempt_id):
    attempt = _own_attempt(attempt_id)
    if attempt.status == "in_progress":
        return redirect(url_for("play.attempt_page", attempt_id=attempt.id))
    round_ = attempt.round
    review = None
    # Keys appear only when they no longer count (contest.rounds.keys): the round has closed, every attempt of it
    # has ended, and no open or upcoming round can draw the question; otherwise the review says why.
    block = round_review_block(round_)
    withheld: set[int] = set()
    if block is None or block == ATTEMPTS_RUNNING:
        review, withheld = _review(attempt, block)
    retry = start_info(round_, current_user)
    return render_template(
        "play/result.html",
        attempt=attempt,
        round=round_,
        review=review,
        withheld=withheld,
        block=block,
        can_retry=retry.can_start,
        retry=retry,
        me=leaderboard.rank_of(round_.id, current_user.id),
    )


def _public_round(round_id):
    round_ = db.session.get(Round, round_id)
    if round_ is None or not round_.contest.published:
        abort(404)
    return round_


def _contest_url(contest):
    return url_for("play.contest_page", slug=contest.slug, _external=True)


def _board_stats(round_):
    counts = participation(round_.id)
    return {
        "participants": counts.participants,
        "attempts": counts.attempts,
        "server_ms": server_now_ms(),
        "opens_ms": to_ms(round_.opens_at),
        "closes_ms": to_ms(round_.closes_at),
    }


def _render_board(round_, projector):
    me_id = current_user.id if current_user.is_authenticated and not projector else None
    entries = leaderboard.top_entries(round_.id, 10)
    top = [{**leaderboard.public_entry(e), "mine": e["user_id"] == me_id} for e in entries]
    me = leaderboard.rank_of(round_.id, me_id) if me_id is not None else None
    url = _contest_url(round_.contest)
    return render_template(
        "play/leaderboard.html",
        round=round_,
        top=top,
        me=me,
        me_id=me_id,
        version=leaderboard.version(round_.id),
        official=leaderboard.is_official(round_.id),
        stats=_board_stats(round_),
        projector=projector,
        contest_url=url,
        qr=qr_svg_inline(url, _("Mã QR mở trang cuộc thi")) if projector else None,
    )


@bp.route("/vong-thi/<int:round_id>/bang-xep-hang")
def board(round_id):
    """The live board for everyone (phones first); a signed-in contestant sees their own row highlighted."""
    return _render_board(_public_round(round_id), projector=False)


@bp.route("/vong-thi/<int:round_id>/trinh-chieu")
def projector(round_id):
    """The same board for a hall's projector (1920×1080): podium, top 10, numbers so far, countdown, QR code."""
    return _render_board(_public_round(round_id), projector=True)


@bp.route("/vong-thi/<int:round_id>/so-lieu")
def board_stats(round_id):
    """Participants and attempts so far and the round's times against the server's clock (the boards poll it)."""
    response = jsonify(_board_stats(_public_round(round_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/cuoc-thi/<slug>/ma-qr.svg")
def contest_qr(slug):
    """A QR code of the contest page's address, as an SVG file (to print on posters or show on a screen)."""
    contest = db.session.scalar(select(Contest).where(Contest.slug == slug, Contest.published.is_(True)))
    if contest is None:
        abort(404)
    response = Response(qr_svg_document(_contest_url(contest)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'"  # a picture: nothing to load or run
    return response
