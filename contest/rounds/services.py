"""Attempts on the hot path: start (limits enforced atomically), answer, submit, expiry, scoring.

SQL holds the durable record; Redis holds the live attempt state and decides time (its format and
scripts: live_state). Errors are AttemptError with a stable code; the UI maps codes to Vietnamese text.
"""

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from contest.accounts.models import User
from contest.rounds import leaderboard, live_state
from contest.rounds.eligibility import user_is_eligible
from contest.rounds.live_state import LiveAttempt, LiveQuestion, SavedAnswer, server_now_ms
from contest.rounds.models import Attempt, AttemptAnswer, AttemptQuestion, Round
from infra.clock import from_ms, to_ms, utcnow
from infra.extensions import db
from question_bank.draw import BlueprintRule, draw_questions
from question_bank.models import Question, QuestionOption

log = logging.getLogger(__name__)

START_LOCK_MS = 15000

ERRORS = {
    "attempt_not_found": _l("Không tìm thấy lượt thi."),
    "forbidden": _l("Lượt thi này không phải của bạn."),
    "attempt_closed": _l("Lượt thi đã kết thúc, không thể lưu thêm câu trả lời."),
    "deadline_passed": _l("Đã hết giờ làm bài: câu trả lời gửi sau thời hạn không được ghi nhận."),
    "unknown_question": _l("Câu hỏi không thuộc lượt thi này."),
    "unknown_option": _l("Phương án đã chọn không thuộc câu hỏi này."),
    "single_choice": _l("Câu hỏi này chỉ được chọn một phương án."),
    "round_not_open": _l("Tuần thi chưa mở hoặc đã kết thúc."),
    "not_eligible": _l("Đơn vị của bạn không thuộc đối tượng dự thi của cuộc thi này."),
    "attempt_limit": _l("Bạn đã dùng hết số lượt thi của tuần thi này."),
    "busy": _l("Đang tạo lượt thi, vui lòng thử lại sau giây lát."),
    "prediction_required": _l("Vui lòng trả lời câu hỏi dự đoán trước khi nộp bài."),
    "prediction_disabled": _l("Tuần thi này không có câu hỏi dự đoán."),
    "bad_request": _l("Dữ liệu gửi lên không hợp lệ."),
    "not_due": _l("Lượt thi chưa đến hạn."),
}


class AttemptError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(ERRORS.get(self.code, ERRORS["bad_request"]))


def round_state(round_: Round, now: datetime | None = None) -> str:
    now = now or utcnow()
    if not round_.contest.published or now < round_.opens_at:
        return "upcoming"
    if now >= round_.closes_at:
        return "closed"
    return "open"


# --- start ------------------------------------------------------------------------------------


def _open_attempt(round_id: int, user_id: int) -> Attempt | None:
    return db.session.scalar(
        select(Attempt)
        .where(Attempt.round_id == round_id, Attempt.user_id == user_id, Attempt.status == "in_progress")
        .order_by(Attempt.number.desc())
        .execution_options(populate_existing=True)
    )


def start_attempt(user: User, round_: Round, client_ip: str | None = None, device_id: str | None = None) -> Attempt:
    """The contestant's running attempt for this round, or a new one if the limit allows.

    Concurrent clicks and tabs: a Redis lock serialises them per (round, user) and the unique
    (round_id, user_id, number) constraint is the last word if the lock ever expires early.
    """
    now = utcnow()
    if round_state(round_, now) != "open":
        raise AttemptError("round_not_open")
    if not user_is_eligible(round_.contest, user):
        raise AttemptError("not_eligible")
    lock = live_state.start_lock_key(round_.id, user.id)
    token = secrets.token_hex(8)
    waited = 0.0
    while not live_state.try_lock(lock, token, START_LOCK_MS):
        if waited > 10:
            raise AttemptError("busy")
        time.sleep(0.05)
        waited += 0.05
    try:
        return _start_locked(user, round_, now, client_ip, device_id)
    finally:
        live_state.release_lock(lock, token)


def _start_locked(user: User, round_: Round, now: datetime, client_ip: str | None, device_id: str | None) -> Attempt:
    # One query for the user's attempts in this round, fresh from the database (populate_existing):
    # another tab may have created or closed one while we waited for the lock.
    mine = db.session.scalars(
        select(Attempt)
        .where(Attempt.round_id == round_.id, Attempt.user_id == user.id)
        .execution_options(populate_existing=True)
    ).all()
    current = max((a for a in mine if a.status == "in_progress"), key=lambda a: a.number, default=None)
    if current is not None:
        if current.deadline_at > utcnow():
            load_state(current)
            return current
        close_attempt(current.id)
    used = max((a.number for a in mine), default=0)
    if round_.attempts_allowed is not None and used >= round_.attempts_allowed:
        raise AttemptError("attempt_limit")
    seed = secrets.token_hex(16)
    drawn = draw_questions(
        [BlueprintRule.from_dict(rule) for rule in round_.blueprint], seed, shuffle_options=round_.shuffle_options
    )
    if not round_.shuffle_questions:
        drawn = sorted(drawn, key=lambda d: d.question_id)
    deadline = min(now + timedelta(seconds=round_.time_limit_seconds), round_.closes_at)
    attempt = Attempt(
        round_id=round_.id,
        user_id=user.id,
        number=used + 1,
        seed=seed,
        status="in_progress",
        started_at=now,
        deadline_at=deadline,
        question_count=len(drawn),
        client_ip=client_ip,
        device_id=(device_id or None) and str(device_id)[:64],
    )
    taken: set[str] = set()
    attempt.questions = [
        AttemptQuestion(
            position=i,
            question_id=d.question_id,
            option_order=list(d.option_order),
            ref=live_state.new_ref(taken),
            option_refs=[live_state.new_ref(taken) for _ in d.option_order],
        )
        for i, d in enumerate(drawn, start=1)
    ]
    db.session.add(attempt)
    try:
        db.session.flush()
        # What Redis needs, read before the commit expires the objects: reading them back would
        # cost a query per relationship on the busiest request of a contest's opening minutes.
        state = _State(
            attempt.id,
            user.id,
            round_.id,
            deadline,
            now,
            "in_progress",
            None,
            _refs_of(attempt.questions),
            no_prediction=not round_.prediction_enabled,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        current = _open_attempt(round_.id, user.id)
        if current is None:
            raise AttemptError("attempt_limit") from None
        load_state(current)
        return current
    _write_state(state, saved={})
    return attempt


@dataclass
class _State:
    """The fields of an attempt that its live Redis state is built from."""

    attempt_id: int
    user_id: int
    round_id: int
    deadline_at: datetime
    started_at: datetime
    status: str
    submitted_at: datetime | None
    refs: dict[int, tuple[str, dict[int, str]]]  # question id -> (its reference, option id -> reference)
    no_prediction: bool = False  # the round has no prediction question
    prediction: int | None = None  # what SQL holds (Redis keeps a newer one it has)

    @property
    def question_ids(self) -> list[int]:
        return list(self.refs)


def _refs_of(questions: list[AttemptQuestion]) -> dict[int, tuple[str, dict[int, str]]]:
    return {
        aq.question_id: (aq.ref or "", dict(zip(aq.option_order, aq.option_refs or [], strict=False)))
        for aq in questions
    }


def ensure_refs(attempt: Attempt) -> bool:
    """Gives an attempt started before references existed its references (committed); True when it had none."""
    if all(aq.ref and aq.option_refs and len(aq.option_refs) == len(aq.option_order) for aq in attempt.questions):
        return False
    taken = {aq.ref for aq in attempt.questions if aq.ref}
    for aq in attempt.questions:
        if not aq.ref:
            aq.ref = live_state.new_ref(taken)
        if not aq.option_refs or len(aq.option_refs) != len(aq.option_order):
            aq.option_refs = [live_state.new_ref(taken) for _ in aq.option_order]
    db.session.commit()
    return True


def load_state(attempt: Attempt, force: bool = False) -> None:
    """Writes the attempt's live state to Redis (no-op if present), rebuilding saved answers from SQL."""
    force = ensure_refs(attempt) or force
    if not force and live_state.has_attempt(attempt.id):
        return
    state = _State(
        attempt.id,
        attempt.user_id,
        attempt.round_id,
        attempt.deadline_at,
        attempt.started_at,
        attempt.status,
        attempt.submitted_at,
        _refs_of(attempt.questions),
        no_prediction=not attempt.round.prediction_enabled,
        prediction=attempt.prediction,
    )
    saved = {
        a.question_id: SavedAnswer(a.seq, a.selected)
        for a in db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))
    }
    _write_state(state, saved)


def _write_state(state: _State, saved: dict[int, SavedAnswer]) -> None:
    """The live state of an attempt: deadline, status, each question's option ids, key and kind.

    `saved` are answers SQL already holds; Redis keeps any it has that are newer (the worker may lag
    behind), so they are only added where missing.
    """
    options: dict[int, list[tuple[int, bool]]] = {}
    multi: set[int] = set()
    for qid, oid, correct, is_multi in db.session.execute(
        select(QuestionOption.question_id, QuestionOption.id, QuestionOption.is_correct, Question.multi_select)
        .join(Question, Question.id == QuestionOption.question_id)
        .where(QuestionOption.question_id.in_(state.question_ids))
    ):
        options.setdefault(qid, []).append((oid, correct))
        if is_multi:
            multi.add(qid)
    questions = {}
    for qid in state.question_ids:
        ref, option_refs = state.refs[qid]
        option_ids = [oid for oid, _ in options.get(qid, [])]
        questions[qid] = LiveQuestion(
            option_ids,
            [oid for oid, correct in options.get(qid, []) if correct],
            qid in multi,
            ref,
            [option_refs[oid] for oid in option_ids] if all(oid in option_refs for oid in option_ids) else [],
        )
    live = LiveAttempt(
        state.user_id,
        state.round_id,
        to_ms(state.deadline_at),
        to_ms(state.started_at),
        live_state.live_status(state.status),
        to_ms(state.submitted_at) if state.submitted_at else None,
        questions,
        no_prediction=state.no_prediction,
    )
    live_state.write_attempt(state.attempt_id, live, saved, prediction=state.prediction)


# --- answers ----------------------------------------------------------------------------------


@dataclass
class AnswerAck:
    question_id: int | str  # a bank id, or the client's reference (answer_by_ref)
    selected: list[int] | list[str]
    seq: int
    duplicate: bool

    def to_dict(self) -> dict:
        return {
            "ok": True,
            "question_id": self.question_id,
            "selected": self.selected,
            "seq": self.seq,
            "duplicate": self.duplicate,
        }


def save_answer(attempt_id: int, user_id: int, question_id: int, selected: list[int], seq: int) -> AnswerAck:
    """One Redis round trip: deadline check, idempotent store and stream append, atomically."""
    reply = live_state.answer(attempt_id, user_id, question_id, selected, seq)
    if reply.error is not None:
        raise AttemptError(reply.error)
    return AnswerAck(question_id, reply.selected, reply.seq, duplicate=reply.duplicate)


def _reload_live_state(attempt_id: int, user_id: int) -> bool:
    """Redis no longer holds the attempt: SQL decides. Refuses another person's, a late or a closed attempt;
    otherwise reloads its live state (True). False: no such attempt."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        return False
    if attempt.user_id != user_id:
        raise AttemptError("forbidden")
    if server_now_ms() >= to_ms(attempt.deadline_at):
        raise AttemptError("deadline_passed")
    if attempt.status != "in_progress":
        raise AttemptError("attempt_closed")
    load_state(attempt)
    return True


def answer_by_ref(attempt_id: int, user_id: int, question_ref: str, selected: list[str], seq: int) -> AnswerAck:
    """An answer as the client sends it: the question and options named by the attempt's references.

    The answer script maps them to bank ids and stores ids; the ack names them by reference again. When Redis no
    longer holds the attempt, SQL decides the verdict (a closed or late attempt) or reloads the live state.
    """
    for attempt_try in range(2):
        reply = live_state.answer_by_ref(attempt_id, user_id, question_ref, selected, seq)
        if reply.error != "attempt_not_found" or attempt_try:
            break
        if not _reload_live_state(attempt_id, user_id):
            break
    if reply.error is not None:
        raise AttemptError(reply.error)
    return AnswerAck(question_ref, reply.selected, reply.seq, duplicate=reply.duplicate)


@dataclass
class PredictionAck:
    prediction: int | None
    seq: int
    duplicate: bool

    def to_dict(self) -> dict:
        return {"ok": True, "prediction": self.prediction, "seq": self.seq, "duplicate": self.duplicate}


def save_prediction(attempt_id: int, user_id: int, value: int | None, seq: int) -> PredictionAck:
    """The prediction as the contestant types it (None clears it), kept in the attempt's live state until the close
    writes it to SQL: refused at or after the deadline and once the attempt is closed, like an answer."""
    for attempt_try in range(2):
        error, saved = live_state.predict(attempt_id, user_id, value, seq)
        if error != "attempt_not_found" or attempt_try:
            break
        if not _reload_live_state(attempt_id, user_id):
            break
    if error is not None and error != "dup":
        raise AttemptError(error)
    return PredictionAck(saved.value, saved.seq, duplicate=error == "dup")


def saved_answers(attempt_id: int) -> dict[int, dict]:
    return {qid: {"selected": a.selected, "seq": a.seq} for qid, a in live_state.read_saved(attempt_id).items()}


# --- submit, expiry, scoring ------------------------------------------------------------------


def score(answers: dict[int, list[int]], key: dict[int, list[int]]) -> dict[int, bool]:
    """Right only when the selected set equals the correct set (multi-select included)."""
    return {qid: bool(correct) and sorted(answers.get(qid, [])) == sorted(correct) for qid, correct in key.items()}


def submit_attempt(attempt_id: int, user_id: int, prediction: int | None = None) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise AttemptError("attempt_not_found")
    if attempt.user_id != user_id:
        raise AttemptError("forbidden")
    # Past the deadline the server closes the attempt whatever is missing; before it, the rules ask (a prediction
    # saved while typing counts).
    if (
        attempt.status == "in_progress"
        and attempt.round.prediction_enabled
        and prediction is None
        and server_now_ms() < to_ms(attempt.deadline_at)
    ):
        saved = live_state.read_prediction(attempt_id)
        if saved is None or saved.value is None:
            raise AttemptError("prediction_required")
    return close_attempt(attempt_id, user_id=user_id, prediction=prediction)


def close_attempt(
    attempt_id: int, user_id: int | None = None, prediction: int | None = None, mode: str = "submit"
) -> Attempt:
    """Closes the attempt in Redis, scores what was saved, writes SQL, updates the leaderboard.

    Safe to repeat: a closed attempt in Redis returns its first result, a finalised row is kept.
    """
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        raise AttemptError("attempt_not_found")
    if attempt.status != "in_progress":
        return attempt
    if not live_state.has_attempt(attempt_id):
        load_state(attempt)
    reply = live_state.close(attempt_id, user_id, mode)
    if reply.error is not None:
        raise AttemptError(reply.error)
    status, closed_ms, answers = reply.status, reply.closed_ms, reply.answers or {}
    key: dict[int, list[int]] = {aq.question_id: [] for aq in attempt.questions}
    for qid, oid in db.session.execute(
        select(QuestionOption.question_id, QuestionOption.id).where(
            QuestionOption.question_id.in_(list(key)), QuestionOption.is_correct.is_(True)
        )
    ):
        key[qid].append(oid)
    marks = score({q: a.selected for q, a in answers.items()}, key)
    _write_answers(attempt_id, answers, marks, closed_ms)
    attempt.status = status
    attempt.submitted_at = from_ms(closed_ms)
    attempt.time_taken_ms = max(0, closed_ms - to_ms(attempt.started_at))
    attempt.correct_count = sum(marks.values())
    # The prediction sent with a submit in time, else the one saved while typing (the only one a close at the
    # deadline has: a value that reaches the server after it does not count, like a late answer).
    if prediction is not None and status == "submitted":
        attempt.prediction = prediction
    elif reply.prediction is not None and attempt.round.prediction_enabled:
        attempt.prediction = reply.prediction.value
    db.session.commit()
    live_state.forget_deadline(attempt_id)
    leaderboard.record(attempt)
    return attempt


_UPSERTS: dict[str, Any] = {}


def _upsert_statement(dialect: str):
    """The upsert of one answer row, built once per dialect: executed with a list of rows (executemany), its SQL
    is compiled once and cached, where a multi-row VALUES of each batch's own length compiled anew every time
    (46 % of the worker's CPU in the capacity runs). On PostgreSQL, psycopg sends the rows in pages."""
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        table = cast(Table, AttemptAnswer.__table__)
        insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
        stmt = _UPSERTS[dialect] = insert.on_conflict_do_update(
            index_elements=["attempt_id", "question_id"],
            set_={
                "selected": insert.excluded.selected,
                "seq": insert.excluded.seq,
                "answered_at": insert.excluded.answered_at,
            },
            where=table.c.seq < insert.excluded.seq,
        )
    return stmt


def upsert_answers(rows: list[dict[str, Any]]) -> None:
    """Writes answers to SQL, one row per (attempt, question), the highest seq winning: a row with a lower or
    equal seq never replaces a stored one. One statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE), so the
    write-behind worker and the submit can write the same answers in any order, concurrently, on SQLite and
    PostgreSQL. Rows: attempt_id, question_id, selected, seq, answered_at."""
    if not rows:
        return
    db.session.execute(_upsert_statement(db.session.get_bind().dialect.name), rows)


def _write_answers(attempt_id: int, answers: dict[int, SavedAnswer], marks: dict[int, bool], closed_ms: int) -> None:
    """The final answers go to SQL with the submit, so scoring never waits for the worker.

    The worker may be writing the same answers at this moment: the upsert keeps the highest seq whoever comes
    first (no unique-constraint race), then the marks are set on whatever rows the attempt has.
    """
    upsert_answers(
        [
            {
                "attempt_id": attempt_id,
                "question_id": qid,
                "selected": saved.selected,
                "seq": saved.seq,
                "answered_at": from_ms(closed_ms),
            }
            for qid, saved in sorted(answers.items())
        ]
    )
    right = [qid for qid, ok in marks.items() if ok]
    where = AttemptAnswer.attempt_id == attempt_id
    db.session.execute(
        update(AttemptAnswer).where(where).values(is_correct=AttemptAnswer.question_id.in_(right)),
        execution_options={"synchronize_session": False},
    )


def sweep_expired(limit: int = 200) -> int:
    """Closes attempts whose deadline passed, whether or not a browser is still there."""
    now = server_now_ms()
    closed = 0
    for attempt_id in live_state.due_attempts(now, limit):
        try:
            close_attempt(attempt_id, mode="sweep")
            closed += 1
        except AttemptError as exc:
            if exc.code == "attempt_not_found":
                live_state.forget_deadline(attempt_id)
            else:
                log.warning("sweep of attempt %s: %s", attempt_id, exc.code)
        except Exception:
            db.session.rollback()
            log.exception("sweep of attempt %s failed", attempt_id)
    # Attempts Redis no longer tracks (state lost or never loaded) are closed from SQL.
    stale = db.session.scalars(
        select(Attempt.id).where(Attempt.status == "in_progress", Attempt.deadline_at < from_ms(now)).limit(limit)
    ).all()
    for attempt_id in stale:
        try:
            close_attempt(attempt_id, mode="sweep")
            closed += 1
        except Exception:
            db.session.rollback()
            log.exception("sweep of attempt %s failed", attempt_id)
    return closed


# --- what the contestant sees -----------------------------------------------------------------


def attempt_view(attempt: Attempt) -> dict:
    """Everything the attempt page and the client need. Never the key, and no bank id: each question and option is
    named by the attempt's own random reference, in the order shown."""
    if attempt.status == "in_progress":
        load_state(attempt)
    else:
        ensure_refs(attempt)
    qids = [aq.question_id for aq in attempt.questions]
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(qids)))}
    rows = db.session.execute(
        select(QuestionOption.id, QuestionOption.text).where(QuestionOption.question_id.in_(qids))
    )
    texts = dict(rows.tuples().all())  # a Result has keys() (column names): dict() would take it for a mapping
    saved_prediction = None
    if attempt.status == "in_progress":
        answers = saved_answers(attempt.id)
        saved_prediction = live_state.read_prediction(attempt.id)
    else:
        answers = {
            a.question_id: {"selected": a.selected, "seq": a.seq}
            for a in db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))
        }
    refs = {
        aq.question_id: (aq.ref, dict(zip(aq.option_order, aq.option_refs or [], strict=True)))
        for aq in attempt.questions
    }
    shown_answers = {}
    for qid, a in answers.items():
        if qid in refs:
            qref, orefs = refs[qid]
            shown_answers[qref] = {"selected": [orefs[o] for o in a["selected"] if o in orefs], "seq": a["seq"]}
    round_ = attempt.round
    return {
        "attempt_id": attempt.id,
        "round_id": attempt.round_id,
        "status": attempt.status,
        "deadline_ms": to_ms(attempt.deadline_at),
        "started_ms": to_ms(attempt.started_at),
        "server_ms": server_now_ms(),
        "prediction": {
            "enabled": round_.prediction_enabled,
            "text": round_.prediction_text,
            "value": saved_prediction.value if saved_prediction else attempt.prediction,
            "seq": saved_prediction.seq if saved_prediction else 0,
        },
        "questions": [
            {
                "position": aq.position,
                "id": aq.ref,
                "stem": questions[aq.question_id].stem,
                "multi": questions[aq.question_id].multi_select,
                "options": [
                    {"id": oref, "text": texts[oid]}
                    for oid, oref in zip(aq.option_order, aq.option_refs or [], strict=True)
                ],
            }
            for aq in attempt.questions
        ],
        "answers": shown_answers,
        "seq": max([a["seq"] for a in answers.values()] + [saved_prediction.seq if saved_prediction else 0]),
    }


def attempts_for(round_id: int, user_id: int) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt).where(Attempt.round_id == round_id, Attempt.user_id == user_id).order_by(Attempt.number)
        )
    )


def get_round(round_id: int) -> Round | None:
    return db.session.get(Round, round_id)
