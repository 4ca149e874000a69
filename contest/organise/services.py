"""Contest and round operations that the organiser routes, the CLI and tests call directly.

Every check that can refuse an input lives here, so a bad save changes nothing whatever calls it.
Times arrive and are stored as naive UTC; the forms convert from Asia/Ho_Chi_Minh.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, null, select
from sqlalchemy.exc import IntegrityError

from contest.accounts.models import Unit
from contest.rounds.models import Attempt, Contest, Round
from contest.rounds.ranking_rule import (
    CRITERIA,
    DEFAULT_RANKING_RULE,
    EMPTY,
    REPEATED,
    UNKNOWN,
    RankingRuleError,
    validate_rule,
)
from infra.clock import format_vn_time, utcnow
from infra.extensions import db
from question_bank.draw import BlueprintError, BlueprintRule, check_blueprint

RANKING_CRITERIA = CRITERIA  # the round form's criterion slots (forms.py)
PREDICTION_BASES = ("people", "attempts")
DIFFICULTY_KEYS = ("easy", "medium", "hard")
MAX_TIME_LIMIT_MINUTES = 180
MAX_TITLE = 300


class OrganiseError(ValueError):
    """One or more problems, each tied to a form field (`errors`: field -> Vietnamese message)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# ---------------------------------------------------------------- contests


def slugify(text: str) -> str:
    """ASCII slug from a Vietnamese title: 'Tìm hiểu Hiến pháp' -> 'tim-hieu-hien-phap'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100] or "cuoc-thi"


def _unique_slug(title: str, exclude_id: int | None = None) -> str:
    base = slugify(title)
    candidate, n = base, 1
    while True:
        stmt = select(Contest.id).where(Contest.slug == candidate)
        if exclude_id is not None:
            stmt = stmt.where(Contest.id != exclude_id)
        if db.session.scalar(stmt) is None:
            return candidate
        n += 1
        candidate = f"{base}-{n}"


def _contest_fields(title, description, rules_text, unit_ids):
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Vui lòng nhập tên cuộc thi.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("Tên cuộc thi quá dài (tối đa %(n)d ký tự).", n=MAX_TITLE)
    unit_ids = sorted(set(unit_ids or []))
    units = list(db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))) if unit_ids else []
    if len(units) != len(unit_ids):
        errors["unit_ids"] = _("Có đơn vị không tồn tại trong danh sách đơn vị.")
    if errors:
        raise OrganiseError(errors)
    return title, (description or "").strip(), (rules_text or "").strip(), units


def _issuer_fields(issuing_body, issuing_place):
    """Who issues the contest's decisions and where (the printed decision annex)."""
    body, place = (issuing_body or "").strip(), (issuing_place or "").strip()
    errors = {}
    if len(body) > 300:
        errors["issuing_body"] = _("Tên cơ quan ban hành quá dài (tối đa 300 ký tự).")
    if not place:
        errors["issuing_place"] = _("Vui lòng nhập địa danh, ví dụ: Hà Nội.")
    elif len(place) > 100:
        errors["issuing_place"] = _("Địa danh quá dài (tối đa 100 ký tự).")
    if errors:
        raise OrganiseError(errors)
    return body, place


def create_contest(
    *,
    title,
    description="",
    rules_text="",
    unit_ids=(),
    created_by_id=None,
    issuing_body="",
    issuing_place="Hà Nội",
    commit=True,
) -> Contest:
    title, description, rules_text, units = _contest_fields(title, description, rules_text, unit_ids)
    issuing_body, issuing_place = _issuer_fields(issuing_body, issuing_place)
    contest = Contest(
        issuing_body=issuing_body,
        issuing_place=issuing_place,
        title=title,
        slug=_unique_slug(title),
        description=description,
        rules_text=rules_text,
        created_by_id=created_by_id,
        published=False,
    )
    contest.eligible_units = units
    db.session.add(contest)
    if commit:
        db.session.commit()
    return contest


def update_contest(
    contest: Contest,
    *,
    title,
    description="",
    rules_text="",
    unit_ids=(),
    issuing_body=None,
    issuing_place=None,
    commit=True,
) -> Contest:
    """issuing_body/issuing_place None: left as they are."""
    # The slug stays: links to a contest already shared on portals and QR codes must keep working.
    title, description, rules_text, units = _contest_fields(title, description, rules_text, unit_ids)
    if issuing_body is not None or issuing_place is not None:
        contest.issuing_body, contest.issuing_place = _issuer_fields(
            contest.issuing_body if issuing_body is None else issuing_body,
            contest.issuing_place if issuing_place is None else issuing_place,
        )
    contest.title, contest.description, contest.rules_text = title, description, rules_text
    contest.eligible_units = units
    if commit:
        db.session.commit()
    return contest


def set_published(contest: Contest, published: bool, commit=True) -> Contest:
    if published and not contest.rounds:
        raise OrganiseError({"published": _("Cuộc thi cần ít nhất một tuần thi trước khi công bố.")})
    if published:
        # Questions may have been retired since the round was saved; contestants must never meet an undrawable round.
        now = utcnow()
        for rnd in contest.rounds:
            if rnd.closes_at <= now:
                continue
            try:
                check_blueprint([BlueprintRule.from_dict(r) for r in rnd.blueprint or []])
            except BlueprintError as exc:
                raise OrganiseError(
                    {"published": _("Chưa thể công bố: tuần thi số %(n)d: %(problem)s", n=rnd.number, problem=str(exc))}
                ) from None
    contest.published = published
    if commit:
        db.session.commit()
    return contest


# ---------------------------------------------------------------- rounds


@dataclass
class RoundInput:
    """What an organiser can set on a round; times are naive UTC."""

    number: int
    title: str
    opens_at: datetime
    closes_at: datetime
    time_limit_minutes: int
    attempts_allowed: int | None = 1  # None: unlimited
    blueprint: list[BlueprintRule] = field(default_factory=list)
    prediction_enabled: bool = True
    prediction_text: str = ""
    prediction_basis: str = "people"
    shuffle_questions: bool = True
    shuffle_options: bool = True
    show_score_after_submit: bool = True
    show_key_after_close: bool = True
    ranking_rule: list[str] = field(default_factory=lambda: list(DEFAULT_RANKING_RULE))

    @classmethod
    def from_round(cls, rnd: Round) -> "RoundInput":
        return cls(
            number=rnd.number,
            title=rnd.title,
            opens_at=rnd.opens_at,
            closes_at=rnd.closes_at,
            time_limit_minutes=max(1, rnd.time_limit_seconds // 60),
            attempts_allowed=rnd.attempts_allowed,
            blueprint=[BlueprintRule.from_dict(r) for r in rnd.blueprint or []],
            prediction_enabled=rnd.prediction_enabled,
            prediction_text=rnd.prediction_text,
            prediction_basis=rnd.prediction_basis,
            shuffle_questions=rnd.shuffle_questions,
            shuffle_options=rnd.shuffle_options,
            show_score_after_submit=rnd.show_score_after_submit,
            show_key_after_close=rnd.show_key_after_close,
            ranking_rule=list(rnd.ranking_rule or DEFAULT_RANKING_RULE),
        )


def attempt_count(rnd: Round, lock=False) -> int:
    """Attempts of a saved round. lock=True first takes the round row FOR UPDATE (PostgreSQL; SQLite ignores it):
    inserting an attempt takes a KEY SHARE lock on its round through the foreign key, so no attempt can start
    between this count and the commit of the change it guards."""
    if rnd.id is None:
        return 0
    if lock:
        db.session.execute(select(Round.id).where(Round.id == rnd.id).with_for_update())
    return db.session.scalar(select(func.count(Attempt.id)).where(Attempt.round_id == rnd.id)) or 0


def validate_ranking_rule(rule: list[str], prediction_enabled: bool) -> str | None:
    """The problem with a ranking rule, or None. The check is contest.rounds.ranking_rule's; the round form
    words three of its refusals in its own way."""
    try:
        validate_rule(rule, score_first=True, prediction_enabled=prediction_enabled)
    except RankingRuleError as exc:
        if exc.problem == EMPTY:
            return _("Vui lòng chọn ít nhất một tiêu chí xếp hạng.")
        if exc.problem == UNKNOWN:
            return _("Tiêu chí xếp hạng không hợp lệ: %(names)s.", names=", ".join(exc.unknown))
        if exc.problem == REPEATED:
            return _("Mỗi tiêu chí xếp hạng chỉ được chọn một lần.")
        return str(exc)
    return None


def _overlapping_round(contest: Contest, data: RoundInput, exclude_id: int | None) -> Round | None:
    for other in contest.rounds:
        if other.id is not None and other.id == exclude_id:
            continue
        if data.opens_at < other.closes_at and other.opens_at < data.closes_at:
            return other
    return None


def validate_round(contest: Contest, data: RoundInput, rnd: Round | None = None) -> dict[str, str]:
    """Every problem with `data` as a round of `contest` (field -> message); empty when it can be saved."""
    errors: dict[str, str] = {}
    data.title = (data.title or "").strip()
    if not data.title:
        errors["title"] = _("Vui lòng nhập tên tuần thi.")
    elif len(data.title) > MAX_TITLE:
        errors["title"] = _("Tên tuần thi quá dài (tối đa %(n)d ký tự).", n=MAX_TITLE)

    if data.number is None or data.number < 1:
        errors["number"] = _("Số thứ tự tuần thi phải là số nguyên dương.")
    else:
        twin = next((r for r in contest.rounds if r.number == data.number and (rnd is None or r.id != rnd.id)), None)
        if twin is not None:
            errors["number"] = _("Cuộc thi đã có tuần thi số %(n)d.", n=data.number)

    if data.opens_at is None:
        errors["opens_at"] = _("Vui lòng nhập thời gian mở.")
    if data.closes_at is None:
        errors["closes_at"] = _("Vui lòng nhập thời gian đóng.")
    window = None
    if data.opens_at is not None and data.closes_at is not None:
        if data.closes_at <= data.opens_at:
            errors["closes_at"] = _("Thời gian đóng phải sau thời gian mở.")
        else:
            window = data.closes_at - data.opens_at
            other = _overlapping_round(contest, data, rnd.id if rnd is not None else None)
            if other is not None:
                errors["opens_at"] = _(
                    "Thời gian trùng với tuần thi số %(n)d (%(start)s – %(end)s). "
                    "Các tuần thi của một cuộc thi không được chồng lên nhau.",
                    n=other.number,
                    start=format_vn_time(other.opens_at),
                    end=format_vn_time(other.closes_at),
                )

    if data.time_limit_minutes is None or not 1 <= data.time_limit_minutes <= MAX_TIME_LIMIT_MINUTES:
        errors["time_limit_minutes"] = _("Thời gian làm bài phải từ 1 đến %(n)d phút.", n=MAX_TIME_LIMIT_MINUTES)
    elif window is not None and timedelta(minutes=data.time_limit_minutes) > window:
        errors["time_limit_minutes"] = _("Thời gian làm bài dài hơn khoảng thời gian mở của tuần thi.")

    if data.attempts_allowed is not None and data.attempts_allowed < 1:
        errors["attempts_allowed"] = _("Số lượt thi phải từ 1 trở lên, hoặc để trống nếu không giới hạn.")

    if data.prediction_basis not in PREDICTION_BASES:
        errors["prediction_basis"] = _("Cách tính của câu hỏi dự đoán không hợp lệ.")
    data.prediction_text = (data.prediction_text or "").strip()
    if data.prediction_enabled and not data.prediction_text:
        errors["prediction_text"] = _("Vui lòng nhập nội dung câu hỏi dự đoán.")

    problem = validate_ranking_rule(data.ranking_rule, data.prediction_enabled)
    if problem:
        errors["ranking_rule"] = problem

    bad_difficulty = [r for r in data.blueprint if r.difficulty is not None and r.difficulty not in DIFFICULTY_KEYS]
    if not data.blueprint:
        errors["blueprint"] = _("Đề thi cần ít nhất một quy tắc chọn câu hỏi.")
    elif bad_difficulty:
        errors["blueprint"] = _("Mức độ khó không hợp lệ.")
    else:
        try:
            check_blueprint(data.blueprint)
        except BlueprintError as exc:
            errors["blueprint"] = str(exc)

    if rnd is not None and attempt_count(rnd, lock=True):
        # Attempts already drew questions under the old settings; changing them would make entries incomparable.
        current = RoundInput.from_round(rnd)
        if [r.to_dict() for r in data.blueprint] != [r.to_dict() for r in current.blueprint]:
            errors["blueprint"] = _("Tuần thi đã có lượt thi nên không thể thay đổi đề thi (cấu trúc câu hỏi).")
        if data.time_limit_minutes != current.time_limit_minutes:
            errors["time_limit_minutes"] = _("Tuần thi đã có lượt thi nên không thể thay đổi thời gian làm bài.")
        if data.prediction_enabled != rnd.prediction_enabled:
            errors["prediction_enabled"] = _("Tuần thi đã có lượt thi nên không thể bật/tắt câu hỏi dự đoán.")
    return errors


def _apply(rnd: Round, data: RoundInput) -> None:
    rnd.number = data.number
    rnd.title = data.title
    rnd.opens_at = data.opens_at
    rnd.closes_at = data.closes_at
    rnd.time_limit_seconds = data.time_limit_minutes * 60
    # The column's default (1) would replace a plain None on INSERT; null() stores "unlimited" as asked.
    rnd.attempts_allowed = null() if data.attempts_allowed is None else data.attempts_allowed
    rnd.blueprint = [r.to_dict() for r in data.blueprint]
    rnd.prediction_enabled = data.prediction_enabled
    rnd.prediction_text = data.prediction_text
    rnd.prediction_basis = data.prediction_basis
    rnd.shuffle_questions = data.shuffle_questions
    rnd.shuffle_options = data.shuffle_options
    rnd.show_score_after_submit = data.show_score_after_submit
    rnd.show_key_after_close = data.show_key_after_close
    rnd.ranking_rule = list(data.ranking_rule)


def _write_round(contest_id: int | None, number: int, commit: bool, exclude_id: int | None = None) -> None:
    """Flushes (and commits) a validated round. validate_round checked the number, but a concurrent save of
    the same number in the same contest can commit in between: the (contest_id, number) unique constraint
    then refuses this one. The session is rolled back, so nothing is half-written, and the organiser gets
    the same field error as when the twin was already there."""
    try:
        db.session.flush()
        if commit:
            db.session.commit()
    except IntegrityError:
        db.session.rollback()
        twin = select(Round.id).where(Round.contest_id == contest_id, Round.number == number)
        if exclude_id is not None:
            twin = twin.where(Round.id != exclude_id)
        if db.session.scalar(twin) is None:
            raise
        raise OrganiseError({"number": _("Cuộc thi đã có tuần thi số %(n)d.", n=number)}) from None


def create_round(contest: Contest, data: RoundInput, commit=True) -> Round:
    errors = validate_round(contest, data)
    if errors:
        raise OrganiseError(errors)
    rnd = Round(contest=contest)
    _apply(rnd, data)
    db.session.add(rnd)
    _write_round(contest.id, data.number, commit)
    return rnd


def update_round(rnd: Round, data: RoundInput, commit=True) -> Round:
    errors = validate_round(rnd.contest, data, rnd)
    if errors:
        raise OrganiseError(errors)
    contest_id, round_id = rnd.contest_id, rnd.id
    _apply(rnd, data)
    _write_round(contest_id, data.number, commit, exclude_id=round_id)
    return rnd


def delete_round(rnd: Round, commit=True) -> None:
    if attempt_count(rnd, lock=True):
        raise OrganiseError({"round": _("Tuần thi đã có lượt thi nên không thể xóa.")})
    contest = rnd.contest
    contest.rounds.remove(rnd)
    if contest.published and not contest.rounds:
        contest.published = False  # a published contest with no round would show contestants nothing to take
    if commit:
        db.session.commit()


def next_round_number(contest: Contest) -> int:
    return max((r.number for r in contest.rounds), default=0) + 1
