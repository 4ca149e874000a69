"""Thin routes over contest.rounds.services; the attempt itself runs over Socket.IO (realtime.play)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from contest.rounds import leaderboard
from contest.rounds.live_state import server_now_ms
from contest.rounds.models import Attempt, AttemptAnswer, Contest, Round
from contest.rounds.services import (
    AttemptError,
    attempt_view,
    attempts_for,
    round_state,
    start_attempt,
)
from infra.clock import to_ms, utcnow
from infra.extensions import db
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


@bp.app_template_global()
def shown_options(attempt_question, question):
    """A question's options in the order the attempt showed them, never the bank's authoring order (which
    tends to put the correct option first, so listing options in it would show the key by position)."""
    by_id = {o.id: o for o in question.options}
    shown = [by_id[oid] for oid in attempt_question.option_order if oid in by_id]
    return shown + [o for o in question.options if o.id not in set(attempt_question.option_order)]


@bp.route("/cuoc-thi")
def contests():
    return render_template("play/contests.html", contests=published_contests())


@bp.route("/cuoc-thi/<slug>")
def contest_page(slug):
    contest = db.session.scalar(select(Contest).where(Contest.slug == slug, Contest.published.is_(True)))
    if contest is None:
        abort(404)
    mine = {}
    if current_user.is_authenticated:
        for round_ in contest.rounds:
            mine[round_.id] = attempts_for(round_.id, current_user.id)
    return render_template("play/contest.html", contest=contest, mine=mine, server_ms=server_now_ms())


@bp.route("/vong-thi/<int:round_id>/bat-dau", methods=["POST"])
@login_required
def start(round_id):
    round_ = db.session.get(Round, round_id) or abort(404)
    try:
        attempt = start_attempt(
            current_user, round_, client_ip=request.remote_addr, device_id=request.form.get("device_id")
        )
    except AttemptError as exc:
        flash(exc.message, "error")
        return redirect(url_for("play.contest_page", slug=round_.contest.slug))
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


@bp.route("/luot-thi/<int:attempt_id>/ket-qua")
@login_required
def result(attempt_id):
    attempt = _own_attempt(attempt_id)
    if attempt.status == "in_progress":
        return redirect(url_for("play.attempt_page", attempt_id=attempt.id))
    round_ = attempt.round
    review = None
    # The key is shown only once the round has closed (and only if the organisers allow it).
    if round_.show_key_after_close and utcnow() >= round_.closes_at:
        answers = {
            a.question_id: a
            for a in db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))
        }
        questions = {
            q.id: q
            for q in db.session.scalars(
                select(Question).where(Question.id.in_([aq.question_id for aq in attempt.questions]))
            )
        }
        review = [(aq, questions[aq.question_id], answers.get(aq.question_id)) for aq in attempt.questions]
    used = len(attempts_for(round_.id, current_user.id))
    can_retry = round_state(round_) == "open" and (round_.attempts_allowed is None or used < round_.attempts_allowed)
    return render_template(
        "play/result.html",
        attempt=attempt,
        round=round_,
        review=review,
        can_retry=can_retry,
        me=leaderboard.rank_of(round_.id, current_user.id),
    )


@bp.route("/vong-thi/<int:round_id>/bang-xep-hang")
def board(round_id):
    round_ = db.session.get(Round, round_id)
    if round_ is None or not round_.contest.published:
        abort(404)
    top = [leaderboard.public_entry(e) for e in leaderboard.top_entries(round_id, 10)]
    return render_template("play/leaderboard.html", round=round_, top=top, version=leaderboard.version(round_id))
