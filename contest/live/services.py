"""The rules of a live final: set-up, joining, the host's actions, answers, scoring, elimination, rescue, results.

Routes and Socket.IO handlers call these and nothing else; tests call them directly. Every host action is
audited. The game state lives in Redis (contest.live.state); SQL keeps the set-up, the answers (at each
reveal) and the final ranking (at the end).
"""

import hashlib
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from contest.accounts.models import User
from contest.audit import record_action
from contest.live import state
from contest.live.models import (
    LATE_JOINS,
    MAX_SECONDS,
    MIN_SECONDS,
    MODES,
    RESCUES,
    LiveAnswer,
    LivePlayer,
    LiveSession,
    LiveSessionQuestion,
)
from contest.rounds.eligibility import user_is_eligible
from contest.rounds.models import Contest
from infra.clock import utcnow
from infra.extensions import db
from question_bank.draw import BlueprintError, BlueprintRule, draw_questions
from question_bank.models import Question

MAX_QUESTIONS = 100
MAX_OPTIONS = 4
# The composite rank score: a stage (points, or how far a player survived) then less total time is better.
STAGE = 10**10

MESSAGES = {
    "no_session": _l("Không tìm thấy phiên chung kết."),
    "session_ended": _l("Phiên chung kết đã kết thúc."),
    "bad_pin": _l("Mã PIN không đúng hoặc phiên đã kết thúc."),
    "not_eligible": _l("Tài khoản của bạn không thuộc đơn vị được tham gia cuộc thi này."),
    "late": _l("Phiên đã bắt đầu, không nhận thêm người chơi."),
    "not_player": _l("Bạn chưa tham gia phiên này với tư cách người chơi."),
    "question_closed": _l("Câu hỏi này đã đóng, không nhận thêm câu trả lời."),
    "window_closed": _l("Đã hết giờ trả lời câu hỏi này."),
    "eliminated": _l("Bạn đã bị loại, chỉ có thể theo dõi."),
    "rescue_only": _l("Câu hỏi cứu trợ chỉ dành cho người đã bị loại."),
    "unknown_option": _l("Phương án không hợp lệ."),
    "bad_phase": _l("Thao tác này không hợp lệ ở bước hiện tại của phiên."),
    "still_open": _l("Câu hỏi còn đang mở: hãy đóng câu trả lời trước khi công bố đáp án."),
    "no_more": _l("Đã hết câu hỏi: hãy kết thúc phiên."),
    "no_rescue": _l("Phiên này không cho phép cứu trợ thủ công."),
    "forbidden": _l("Bạn không có quyền điều khiển phiên này."),
}


class LiveError(Exception):
    def __init__(self, code, message=None, field=None):
        super().__init__(code)
        self.code = code
        self.field = field
        self.message = str(message if message is not None else MESSAGES.get(code, code))


def points_for(elapsed_ms: int, window_ms: int) -> int:
    """Points of a correct answer: 1000 at once, 500 at the last moment (the formula on the set-up page)."""
    elapsed = min(max(elapsed_ms, 0), window_ms)
    return round(1000 * (1 - elapsed / window_ms / 2))


# ------------------------------------------------------------------------------------------ set-up


@dataclass
class SessionInput:
    title: str
    question_ids: list[int]
    seconds_per_question: int = 20
    mode: str = "points"
    rescue: str = "none"
    late_join: str = "watch"
    rescue_positions: tuple[int, ...] = ()  # 1-based numbers of rescue questions (rescue == "question")


def draw_by_blueprint(category_id: int | None, count: int, difficulty: str | None = None) -> list[int]:
    """Question ids drawn from the approved bank (single choice, at most four options)."""
    if not 1 <= count <= MAX_QUESTIONS:
        raise LiveError("bad_count", _l("Số câu hỏi phải từ 1 đến %(n)s.", n=MAX_QUESTIONS), "count")
    try:
        drawn = draw_questions([BlueprintRule(category_id, count * 3, difficulty)], secrets.token_hex(8))
    except BlueprintError:
        try:
            drawn = draw_questions([BlueprintRule(category_id, count, difficulty)], secrets.token_hex(8))
        except BlueprintError as exc:
            raise LiveError("bad_blueprint", str(exc), "count") from exc
    ids = [d.question_id for d in drawn]
    usable = set(db.session.scalars(select(Question.id).where(Question.id.in_(ids), Question.multi_select.is_(False))))
    picked = [i for i in ids if i in usable][:count]
    if len(picked) < count:
        raise LiveError("bad_blueprint", _l("Ngân hàng không đủ câu hỏi một đáp án phù hợp."), "count")
    return picked


def validate(data: SessionInput) -> list[Question]:
    title = (data.title or "").strip()
    if not 1 <= len(title) <= 300:
        raise LiveError("bad_title", _l("Tên phiên phải có từ 1 đến 300 ký tự."), "title")
    data.title = title
    if data.mode not in MODES:
        raise LiveError("bad_mode", _l("Chế độ chơi không hợp lệ."), "mode")
    if data.rescue not in RESCUES:
        raise LiveError("bad_rescue", _l("Kiểu cứu trợ không hợp lệ."), "rescue")
    if data.late_join not in LATE_JOINS:
        raise LiveError("bad_late_join", _l("Quy định vào muộn không hợp lệ."), "late_join")
    if not MIN_SECONDS <= data.seconds_per_question <= MAX_SECONDS:
        raise LiveError(
            "bad_seconds",
            _l("Thời gian mỗi câu phải từ %(lo)s đến %(hi)s giây.", lo=MIN_SECONDS, hi=MAX_SECONDS),
            "seconds_per_question",
        )
    if data.mode == "points" and data.rescue != "none":
        raise LiveError("bad_rescue", _l("Cứu trợ chỉ dùng trong chế độ loại trực tiếp."), "rescue")
    ids = data.question_ids
    if not 1 <= len(ids) <= MAX_QUESTIONS:
        raise LiveError("bad_questions", _l("Hãy chọn từ 1 đến %(n)s câu hỏi.", n=MAX_QUESTIONS), "question_ids")
    if len(set(ids)) != len(ids):
        raise LiveError("bad_questions", _l("Một câu hỏi được chọn hai lần."), "question_ids")
    found = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(ids)))}
    questions = []
    for qid in ids:
        q = found.get(qid)
        if q is None or q.status != "approved" or not q.is_current:
            raise LiveError(
                "bad_questions", _l("Câu hỏi #%(id)s không có trong ngân hàng đã duyệt.", id=qid), "question_ids"
            )
        if q.multi_select or not 2 <= len(q.options) <= MAX_OPTIONS:
            raise LiveError(
                "bad_questions",
                _l("Câu hỏi #%(id)s phải có một đáp án đúng và 2–4 phương án.", id=qid),
                "question_ids",
            )
        questions.append(q)
    positions = set(data.rescue_positions)
    if positions and data.rescue != "question":
        raise LiveError(
            "bad_rescue", _l("Chỉ chọn câu cứu trợ khi kiểu cứu trợ là “câu hỏi cứu trợ”."), "rescue_positions"
        )
    if data.rescue == "question":
        if not positions:
            raise LiveError("bad_rescue", _l("Hãy chọn ít nhất một câu cứu trợ."), "rescue_positions")
        if any(not 2 <= p <= len(ids) for p in positions):
            raise LiveError(
                "bad_rescue", _l("Câu cứu trợ phải là câu thứ 2 đến %(n)s.", n=len(ids)), "rescue_positions"
            )
    return questions


def _new_pin() -> str:
    return f"{secrets.randbelow(900000) + 100000}"


def create_session(contest: Contest, actor, data: SessionInput) -> LiveSession:
    """Validates, shuffles each question's options once (A–D carry no authoring order), picks a PIN unique
    among open sessions, writes the set-up and opens the lobby."""
    questions = validate(data)
    rng = secrets.SystemRandom()
    for _attempt in range(20):
        pin = _new_pin()
        if db.session.scalar(select(LiveSession.id).where(LiveSession.open_pin == pin)) is None:
            break
    session = LiveSession(
        contest_id=contest.id,
        title=data.title,
        pin=pin,
        open_pin=pin,
        mode=data.mode,
        seconds_per_question=data.seconds_per_question,
        rescue=data.rescue,
        late_join=data.late_join,
        created_by_id=getattr(actor, "id", actor),
    )
    for position, q in enumerate(questions):
        order = [o.id for o in q.options]
        rng.shuffle(order)
        session.questions.append(
            LiveSessionQuestion(
                position=position,
                question_id=q.id,
                option_order=order,
                is_rescue=position + 1 in set(data.rescue_positions),
            )
        )
    db.session.add(session)
    try:
        db.session.flush()
    except IntegrityError as exc:  # two sessions drew the same PIN at the same instant
        db.session.rollback()
        raise LiveError("busy", _l("Không tạo được mã PIN, vui lòng thử lại.")) from exc
    record_action(
        actor,
        "live.create",
        object_type="live_session",
        object_id=session.id,
        contest_id=contest.id,
        mode=data.mode,
        questions=[q.id for q in questions],
        seconds=data.seconds_per_question,
        rescue=data.rescue,
    )
    db.session.commit()
    state.init(session.id, session.mode, session.seconds_per_question * 1000, len(questions))
    return session


# ------------------------------------------------------------------------------------------ content


def get_session(session_id: int) -> LiveSession:
    session = db.session.get(LiveSession, session_id)
    if session is None:
        raise LiveError("no_session")
    return session


def _question_row(session: LiveSession, idx: int) -> LiveSessionQuestion:
    return session.questions[idx]


def _correct_index(row: LiveSessionQuestion) -> int:
    correct = {o.id for o in row.question.options if o.is_correct}
    return next(i for i, oid in enumerate(row.option_order) if oid in correct)


# (session id, position) -> (stem, option texts in the shown order, is rescue): fixed once the session exists,
# so each process reads a question from SQL once, not once per player asking for the state after a reveal.
_content: dict[tuple[int, int], tuple[str, list[str], bool]] = {}
_CONTENT_MAX = 5000


def _question_content(session: LiveSession, idx: int) -> tuple[str, list[str], bool]:
    cached = _content.get((session.id, idx))
    if cached is None:
        row = _question_row(session, idx)
        texts = {o.id: o.text for o in row.question.options}
        cached = (row.question.stem, [texts[oid] for oid in row.option_order], row.is_rescue)
        if len(_content) >= _CONTENT_MAX:
            _content.clear()
        _content[(session.id, idx)] = cached
    return cached


def question_payload(session: LiveSession, idx: int, st: dict[str, str]) -> dict:
    """What players see of a shown question: its text and options in the shuffled order, never the key."""
    stem, options, rescue = _question_content(session, idx)
    return {
        "position": idx,
        "number": idx + 1,
        "total": int(st.get("total") or len(session.questions)),
        "stem": stem,
        "options": options,
        "rescue": rescue,
        "start_ms": int(st.get("start", 0)),
        "end_ms": int(st.get("end", 0)),
        "window_ms": session.seconds_per_question * 1000,
    }


# ------------------------------------------------------------------------------------------ joining


def find_by_pin(pin: str) -> LiveSession:
    pin = (pin or "").strip()
    if not (len(pin) == 6 and pin.isdigit()):
        raise LiveError("bad_pin")
    session = db.session.scalar(select(LiveSession).where(LiveSession.open_pin == pin))
    if session is None:
        raise LiveError("bad_pin")
    return session


def join(session: LiveSession, user, client_ip: str | None = None) -> LivePlayer:
    """Joins as a player (or watcher once the game started, when the session allows it); idempotent. The
    address (behind the trusted proxy) is kept for the judges' review flags."""
    if session.status != "open":
        raise LiveError("session_ended")
    player = db.session.scalar(
        select(LivePlayer).where(LivePlayer.session_id == session.id, LivePlayer.user_id == user.id)
    )
    if player is not None:
        return player
    if not user_is_eligible(session.contest, user):
        raise LiveError("not_eligible")
    started = state.read(session.id).get("phase", "lobby") != "lobby"
    if started and session.late_join == "refuse":
        raise LiveError("late")
    player = LivePlayer(
        session_id=session.id, user_id=user.id, watch_only=started, client_ip=(client_ip or None) and client_ip[:45]
    )
    db.session.add(player)
    try:
        db.session.commit()
    except IntegrityError:  # the same user joining from two tabs at once
        db.session.rollback()
        return db.session.scalars(
            select(LivePlayer).where(LivePlayer.session_id == session.id, LivePlayer.user_id == user.id)
        ).one()
    if not started:
        state.add_player(session.id, user.id, user.full_name)
    return player


# ------------------------------------------------------------------------------------------ answering


def answer(session_id: int, user_id: int, position: int, choice: int) -> state.AnswerReply:
    """Records an answer once; refused outside the window (checked atomically on Redis's clock)."""
    reply = state.answer(session_id, user_id, position, choice)
    if reply.error:
        raise LiveError(reply.error)
    return reply


# ------------------------------------------------------------------------------------------ host actions


def _must(reply: state.TransitionReply) -> int:
    if reply.error:
        raise LiveError(reply.error)
    return reply.now_ms


def show_next(session: LiveSession, actor) -> dict:
    """Shows the next question (the first one starts the game) and opens its answer window."""
    if session.status != "open":
        raise LiveError("session_ended")
    st = state.read(session.id)
    if not st:
        raise LiveError("no_session")
    idx = int(st.get("idx", -1)) + 1
    if idx >= len(session.questions):
        raise LiveError("no_more")
    row = _question_row(session, idx)
    _must(
        state.transition(
            session.id,
            ("lobby", "revealed"),
            "question",
            session.seconds_per_question * 1000,
            idx=idx,
            n=len(row.option_order),
            k=_correct_index(row),
            resq="1" if row.is_rescue else "0",
        )
    )
    record_action(actor, "live.show", object_type="live_session", object_id=session.id, position=idx)
    db.session.commit()
    return question_payload(session, idx, state.read(session.id))


def close(session: LiveSession, actor, position: int | None = None) -> dict | None:
    """Closes the answers early (the host) or at the window's end (actor None); returns the distribution."""
    st = state.read(session.id)
    idx = int(st.get("idx", -1))
    if position is not None and position != idx:
        return None  # a timer of an earlier question
    if actor is None and st.get("phase") != "question":
        return None
    now = _must(state.transition(session.id, ("question",), "closed"))
    if now < int(st["end"]):  # closed early: the window's end as clients show it is the moment it closed
        state.transition(session.id, ("closed",), "closed", end=now)
    if actor is not None:
        record_action(actor, "live.close", object_type="live_session", object_id=session.id, position=idx)
        db.session.commit()
    return distribution(session, idx)


def distribution(session: LiveSession, idx: int) -> dict:
    n = len(_question_content(session, idx)[1])
    return {"position": idx, "counts": state.counts(session.id, idx, n)}


def _composite(stage: int, time_ms: int) -> int:
    return stage * STAGE + (STAGE - 1 - min(time_ms, STAGE - 1))


def reveal(session: LiveSession, actor) -> dict:
    """Reveals the key, scores the question, eliminates and rescues, and writes its answers to SQL."""
    st = state.read(session.id)
    if st.get("phase") == "question" and state.now_ms() < int(st["end"]):
        raise LiveError("still_open")
    _must(state.transition(session.id, ("question", "closed"), "revealed"))
    idx = int(st["idx"])
    row = _question_row(session, idx)
    key = _correct_index(row)
    window = session.seconds_per_question * 1000
    given = state.answers(session.id, idx)
    players = state.players(session.id)
    out = state.hash_ints(session.id, "out")
    scores = state.hash_ints(session.id, "score")
    times = state.hash_ints(session.id, "time")
    correct = state.hash_ints(session.id, "correct")
    eliminated: dict[int, int] = {}
    rescued: list[int] = []
    rows = []
    elimination = session.mode == "elimination"
    for uid in players:
        if elimination and (uid in out) != row.is_rescue:
            continue  # survivors sit out a rescue question; the eliminated sit out the others
        choice, elapsed = given.get(uid, (None, None))
        ok = choice == key
        points, outcome = 0, ""
        times[uid] = times.get(uid, 0) + (elapsed if elapsed is not None else window)
        if ok:
            correct[uid] = correct.get(uid, 0) + 1
        if not elimination:
            points = points_for(elapsed, window) if ok and elapsed is not None else 0
            scores[uid] = scores.get(uid, 0) + points
        elif row.is_rescue:
            if ok:
                rescued.append(uid)
                out.pop(uid, None)
                outcome = "rescued"
        elif not ok:
            eliminated[uid] = out[uid] = idx + 1
            outcome = "eliminated"
        rows.append(
            LiveAnswer(
                session_id=session.id,
                position=idx,
                user_id=uid,
                option_id=row.option_order[choice] if choice is not None else None,
                elapsed_ms=elapsed,
                is_correct=ok,
                points=points,
                outcome=outcome,
            )
        )
    board = {uid: _composite(_stage(session, uid, scores, out), times.get(uid, 0)) for uid in players}
    state.write_results(session.id, scores, times, correct, eliminated, rescued, board)
    db.session.add_all(rows)
    record_action(
        actor,
        "live.reveal",
        object_type="live_session",
        object_id=session.id,
        position=idx,
        answered=len(given),
        eliminated=len(eliminated),
        rescued=len(rescued),
    )
    db.session.commit()
    payload = {**distribution(session, idx), "correct": key, "eliminated": len(eliminated), "rescued": len(rescued)}
    return {**payload, **standing(session)}


def _stage(session: LiveSession, uid: int, scores: dict[int, int], out: dict[int, int]) -> int:
    if session.mode == "points":
        return scores.get(uid, 0)
    return out.get(uid, len(session.questions) + 1)


def standing(session: LiveSession) -> dict:
    """Survivors (elimination) or the top 5 (points), for the projector and the host: O(1) reads of Redis
    besides the five names, since every player asks for it after each reveal."""
    players = state.count(session.id, "players")
    if session.mode == "elimination":
        return {"players": players, "survivors": players - state.count(session.id, "out")}
    top_ids = state.top(session.id, 5)
    names = state.values(session.id, "players", top_ids)
    scores = state.values(session.id, "score", top_ids)
    top = [{"name": names[i] or "", "score": int(scores[i] or 0)} for i in range(len(top_ids))]
    return {"players": players, "top": top}


def rescue_last(session: LiveSession, actor, n: int) -> dict:
    """The host's manual rescue: brings back the last n eliminated (the latest first; faster first on a tie)."""
    if session.mode != "elimination" or session.rescue != "manual":
        raise LiveError("no_rescue")
    if not 1 <= n <= 10000:
        raise LiveError("bad_count", _l("Số người cứu trợ phải từ 1 đến 10000."))
    st = state.read(session.id)
    if st.get("phase") != "revealed":
        raise LiveError("bad_phase")
    out = state.hash_ints(session.id, "out")
    times = state.hash_ints(session.id, "time")
    order = sorted(out, key=lambda uid: (-out[uid], times.get(uid, 0), uid))[:n]
    board = {uid: _composite(len(session.questions) + 1, times.get(uid, 0)) for uid in order}
    state.write_results(session.id, {}, {}, {}, {}, order, board)
    record_action(actor, "live.rescue", object_type="live_session", object_id=session.id, rescued=order, requested=n)
    db.session.commit()
    return {"rescued": len(order), **standing(session)}


def end(session: LiveSession, actor) -> dict:
    """Ends the session and writes the final ranking to SQL; returns the podium."""
    _must(state.transition(session.id, ("lobby", "question", "closed", "revealed"), "ended"))
    ranking = state.ranking(session.id)
    scores = state.hash_ints(session.id, "score")
    times = state.hash_ints(session.id, "time")
    correct = state.hash_ints(session.id, "correct")
    out = state.hash_ints(session.id, "out")
    order_of = {uid: i + 1 for i, uid in enumerate(ranking)}
    for player in db.session.scalars(select(LivePlayer).where(LivePlayer.session_id == session.id)):
        uid = player.user_id
        player.score = scores.get(uid, 0)
        player.total_time_ms = times.get(uid, 0)
        player.correct_count = correct.get(uid, 0)
        player.eliminated_at = out.get(uid)
        player.final_order = None if player.watch_only else order_of.get(uid)
    _rerank(session)
    session.status = "ended"
    session.open_pin = None
    session.ended_at = utcnow()
    record_action(actor, "live.end", object_type="live_session", object_id=session.id, players=len(ranking))
    db.session.commit()
    return podium(session)


def _rerank(session: LiveSession) -> None:
    """final_rank: the game's order without the disqualified (final_order stays as the game ended)."""
    db.session.flush()
    players = db.session.scalars(
        select(LivePlayer)
        .where(LivePlayer.session_id == session.id, LivePlayer.final_order.is_not(None))
        .order_by(LivePlayer.final_order)
    ).all()
    rank = 0
    for player in players:
        if player.disqualified_reason is None:
            rank += 1
            player.final_rank = rank
        else:
            player.final_rank = None


# ------------------------------------------------------------------------------------------ judges


def _ended_player(session: LiveSession, user_id: int) -> LivePlayer:
    if session.status != "ended":
        raise LiveError("not_ended", _l("Phiên chưa kết thúc: chưa có bảng xếp hạng để chấm."))
    if session.published_at is not None:
        raise LiveError("published", _l("Kết quả đã công bố, không thể thay đổi."))
    player = db.session.scalar(
        select(LivePlayer).where(LivePlayer.session_id == session.id, LivePlayer.user_id == user_id)
    )
    if player is None or player.final_order is None:
        raise LiveError("not_player")
    return player


def disqualify(session: LiveSession, actor, user_id: int, reason: str) -> LivePlayer:
    """Removes a player from the final ranking with a reason (audited); the others move up."""
    reason = (reason or "").strip()
    if not 3 <= len(reason) <= 500:
        raise LiveError("bad_reason", _l("Lý do phải có từ 3 đến 500 ký tự."), "reason")
    player = _ended_player(session, user_id)
    player.disqualified_reason = reason
    _rerank(session)
    record_action(
        actor,
        "live.disqualify",
        object_type="live_session",
        object_id=session.id,
        subject_user_id=user_id,
        reason=reason,
    )
    db.session.commit()
    return player


def reinstate(session: LiveSession, actor, user_id: int) -> LivePlayer:
    player = _ended_player(session, user_id)
    player.disqualified_reason = None
    _rerank(session)
    record_action(actor, "live.reinstate", object_type="live_session", object_id=session.id, subject_user_id=user_id)
    db.session.commit()
    return player


def publish(session: LiveSession, actor) -> None:
    """Freezes the final ranking (no more disqualifications); audited."""
    if session.status != "ended":
        raise LiveError("not_ended", _l("Phiên chưa kết thúc: chưa có bảng xếp hạng để chấm."))
    if session.published_at is not None:
        raise LiveError("published", _l("Kết quả đã công bố, không thể thay đổi."))
    session.published_at = utcnow()
    session.published_digest = ranking_digest(session)
    record_action(
        actor, "live.publish", object_type="live_session", object_id=session.id, digest=session.published_digest
    )
    db.session.commit()


def _digest_header(session: LiveSession) -> str:
    return f"live_session={session.id};mode={session.mode};questions={len(session.questions)}\n"


def _digest_line(p: LivePlayer) -> str:
    """One ranked player as the digest reads it (fields spelled out: a published digest stays verifiable)."""
    fields = (
        p.final_order,
        p.final_rank,
        p.user_id,
        p.score,
        p.correct_count,
        p.total_time_ms,
        p.eliminated_at,
        "disqualified" if p.disqualified_reason is not None else "",
    )
    return "\t".join("" if v is None else str(v) for v in fields) + "\n"


def ranking_digest(session: LiveSession) -> str:
    """SHA-256 over the final ranking's canonical lines (game order; the disqualified kept and marked), as the
    weekly rounds' publication does: a published ranking altered later no longer matches its digest."""
    digest = hashlib.sha256(_digest_header(session).encode())
    for player in db.session.scalars(
        select(LivePlayer)
        .where(LivePlayer.session_id == session.id, LivePlayer.final_order.is_not(None))
        .order_by(LivePlayer.final_order)
    ):
        digest.update(_digest_line(player).encode())
    return digest.hexdigest()


def verify_publication(session: LiveSession) -> bool | None:
    """True if the published ranking is what SQL holds now; None before publication."""
    if session.published_digest is None:
        return None
    return ranking_digest(session) == session.published_digest


# ------------------------------------------------------------------------------------------ review flags

FAST_MS = 1000  # an answer in under a second, before a question read aloud could be heard out
MAX_ACCOUNTS_PER_IP = 5  # the weekly rounds' default threshold: offices and schools share one NAT address
FLAG_LABELS = {
    "fast": _l("Trả lời dưới 1 giây ở từ một nửa số câu trở lên"),
    "shared_ip": _l("Nhiều tài khoản dùng chung địa chỉ IP"),
    "shared_identity": _l("Trùng họ tên và ngày sinh với tài khoản khác"),
}


def review_flags(session: LiveSession) -> dict[int, set[str]]:
    """Players a judge should check by hand, by user id (GROUP BY in SQL; a final has thousands of players at
    most, so they are computed on each view rather than stored)."""
    flags: dict[int, set[str]] = {}

    def add(user_ids, flag):
        for uid in user_ids:
            flags.setdefault(uid, set()).add(flag)

    playing = (LivePlayer.session_id == session.id, LivePlayer.watch_only.is_(False))
    crowded = (
        select(LivePlayer.client_ip)
        .where(*playing, LivePlayer.client_ip.is_not(None))
        .group_by(LivePlayer.client_ip)
        .having(func.count(LivePlayer.user_id) > MAX_ACCOUNTS_PER_IP)
    )
    add(db.session.scalars(select(LivePlayer.user_id).where(*playing, LivePlayer.client_ip.in_(crowded))), "shared_ip")
    twins = (
        select(User.full_name, User.date_of_birth)
        .join(LivePlayer, LivePlayer.user_id == User.id)
        .where(*playing)
        .group_by(User.full_name, User.date_of_birth)
        .having(func.count() > 1)
        .subquery()
    )
    same = (
        select(User.id)
        .join(LivePlayer, LivePlayer.user_id == User.id)
        .join(twins, (twins.c.full_name == User.full_name) & (twins.c.date_of_birth == User.date_of_birth))
        .where(*playing)
    )
    add(db.session.scalars(same), "shared_identity")
    quick = func.sum(case((LiveAnswer.elapsed_ms < FAST_MS, 1), else_=0))
    fast = (
        select(LiveAnswer.user_id)
        .where(LiveAnswer.session_id == session.id)
        .group_by(LiveAnswer.user_id)
        .having(quick * 2 >= func.count())
        .having(quick > 0)
    )
    add(db.session.scalars(fast), "fast")
    return flags


EXPORT_HEADER = (
    "rank",
    "order",
    "full_name",
    "phone",
    "unit",
    "score",
    "correct",
    "total_time_ms",
    "eliminated_at",
    "disqualified_reason",
)


def mask_phone(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-3:]}" if phone and len(phone) >= 7 else ""


def audit_export(session: LiveSession, actor, kind: str, full_data: bool = False) -> None:
    """Every export is logged, as the weekly rounds' are; full personal data is why the log exists."""
    record_action(
        actor,
        "live.export_full_data" if full_data else "live.export",
        object_type="live_session",
        object_id=session.id,
        kind=kind,
    )
    db.session.commit()


def export_rows(session: LiveSession, full_data: bool = True) -> list[tuple]:
    """The final ranking as rows for a CSV (judges' export): ranked first, then the disqualified. Without
    full_data the phone is masked (as in the weekly rounds' exports)."""
    players = db.session.scalars(
        select(LivePlayer)
        .where(LivePlayer.session_id == session.id, LivePlayer.final_order.is_not(None))
        .order_by(LivePlayer.final_rank.is_(None), LivePlayer.final_rank, LivePlayer.final_order)
    ).all()
    return [
        (
            p.final_rank or "",
            p.final_order,
            p.user.full_name,
            p.user.phone if full_data else mask_phone(p.user.phone),
            p.user.unit.name if p.user.unit else "",
            p.score,
            p.correct_count,
            p.total_time_ms,
            p.eliminated_at or "",
            p.disqualified_reason or "",
        )
        for p in players
    ]


ANSWERS_HEADER = (
    "question_number",
    "question_id",
    "user_id",
    "full_name",
    "letter",
    "option_id",
    "elapsed_ms",
    "correct",
    "points",
    "outcome",
)


def answer_rows(session: LiveSession, user_id: int | None = None) -> list[tuple]:
    """Every player's answer to every question they faced, as decided at the reveal (the audit of a final): the
    letter as shown on the screen, the bank's option id, the time from the window's start on Redis's clock."""
    query = (
        select(LiveAnswer, User.full_name)
        .join(User, User.id == LiveAnswer.user_id)
        .where(LiveAnswer.session_id == session.id)
        .order_by(LiveAnswer.position, LiveAnswer.user_id)
    )
    if user_id is not None:
        query = query.where(LiveAnswer.user_id == user_id)
    shown = {row.position: (row.question_id, row.option_order) for row in session.questions}
    rows = []
    for answer_, full_name in db.session.execute(query):
        question_id, order = shown[answer_.position]
        letter = "ABCD"[order.index(answer_.option_id)] if answer_.option_id in order else ""
        rows.append(
            (
                answer_.position + 1,
                question_id,
                answer_.user_id,
                full_name,
                letter,
                answer_.option_id or "",
                "" if answer_.elapsed_ms is None else answer_.elapsed_ms,
                int(answer_.is_correct),
                answer_.points,
                answer_.outcome,
            )
        )
    return rows


def podium(session: LiveSession) -> dict:
    rows = db.session.scalars(
        select(LivePlayer)
        .where(LivePlayer.session_id == session.id, LivePlayer.final_rank.is_not(None))
        .order_by(LivePlayer.final_rank)
        .limit(3)
    ).all()
    return {
        "podium": [
            {"rank": p.final_rank, "name": p.user.full_name, "score": p.score, "eliminated_at": p.eliminated_at}
            for p in rows
        ]
    }


# ------------------------------------------------------------------------------------------ views


def view(session: LiveSession, user_id: int | None, host: bool = False) -> dict:
    """The whole state for a (re)connecting host, player or projector: the question only once shown, the key
    only once revealed, the distribution only once closed."""
    st = state.read(session.id)
    phase = st.get("phase", "ended" if session.status == "ended" else "lobby")
    idx = int(st.get("idx", -1))
    out: dict = {
        "session_id": session.id,
        "title": session.title,
        "mode": session.mode,
        "phase": phase,
        "position": idx,
        "total": int(st.get("total") or len(session.questions)),
        "seconds": session.seconds_per_question,
        "players": state.player_count(session.id),
    }
    if host:
        out["pin"] = session.open_pin
        out["rescue"] = session.rescue
    if phase in ("question", "closed", "revealed") and idx >= 0:
        out["question"] = question_payload(session, idx, st)
        if phase != "question" or host:
            out.update(distribution(session, idx))
        if phase == "revealed":
            out["correct"] = int(st["k"])
            out.update(standing(session))
    if phase == "ended":
        out.update(podium(session))
    if user_id is not None and not host:
        out["me"] = me(session, user_id, phase, idx)
    return out


def me(session: LiveSession, user_id: int, phase: str, idx: int) -> dict:
    playing = state.is_player(session.id, user_id)
    result: dict = {"player": playing}
    if not playing:
        return result
    eliminated, score = state.values(session.id, "out", [user_id])[0], state.values(session.id, "score", [user_id])[0]
    result["eliminated"] = eliminated is not None
    result["score"] = int(score or 0)
    result["rank"] = state.rank_of(session.id, user_id)
    if idx >= 0 and phase != "lobby":
        mine = state.my_answer(session.id, idx, user_id)
        result["answered"] = mine is not None
        result["choice"] = mine[0] if mine else None
        if phase == "revealed":
            result["correct"] = mine is not None and mine[0] == int(state.read(session.id)["k"])
            if session.mode == "points":
                # This question's points, by the formula the set-up page and the player's page show.
                window = session.seconds_per_question * 1000
                result["points"] = points_for(mine[1], window) if mine is not None and result["correct"] else 0
    return result
