"""Organiser forms for contests and rounds; they parse input, the services decide whether it can be saved."""

from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, Length

from contest.accounts.models import Unit
from contest.organise.services import RANKING_CRITERIA, RoundInput
from infra.clock import from_vn_time, to_vn_time
from infra.extensions import db
from infra.forms import BoundedIntegerField, SafeForm
from infra.web_input import MAX_DB_INT, choice_id
from question_bank.draw import BlueprintRule
from question_bank.models import Category

RANKING_LABELS = {
    "correct_desc": _l("Nhiều câu trả lời đúng hơn"),
    "prediction_distance_asc": _l("Dự đoán gần đúng hơn"),
    "time_taken_asc": _l("Thời gian làm bài ngắn hơn"),
    "submitted_at_asc": _l("Nộp bài sớm hơn"),
    "attempts_used_asc": _l("Dùng ít lượt thi hơn"),
    "registered_at_asc": _l("Đăng ký tài khoản sớm hơn"),
}
DIFFICULTY_CHOICES = [("", _l("Bất kỳ")), ("easy", _l("Dễ")), ("medium", _l("Trung bình")), ("hard", _l("Khó"))]
BLUEPRINT_ROWS_MIN = 3
BLUEPRINT_ROWS_MAX = 30
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the sane window of a round's dates
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class WholeNumberField(BoundedIntegerField):
    """An integer in ASCII digits whose parse error is a specific Vietnamese sentence; the services check the
    lower bounds with their own messages, the field refuses what no column could hold."""

    def __init__(self, label=None, validators=None, invalid_message=None, hi=MAX_DB_INT, **kwargs):
        super().__init__(
            label, validators, hi=hi, invalid_message=invalid_message or _l("Vui lòng nhập một số nguyên."), **kwargs
        )


class VietnamTimeField(DateTimeLocalField):
    """A datetime-local input read as Asia/Ho_Chi_Minh wall-clock time."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=DATETIME_FORMATS, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        for fmt in self.strptime_format:
            try:
                self.data = datetime.strptime(valuelist[0].strip(), fmt)
            except ValueError:
                continue
            if not FIRST_YEAR <= self.data.year <= LAST_YEAR:  # 0001-01-01 overflowed the UTC conversion
                self.data = None
                raise ValueError(
                    gettext(
                        "Thời gian phải trong khoảng từ năm %(first)d đến năm %(last)d.",
                        first=FIRST_YEAR,
                        last=LAST_YEAR,
                    )
                )
            return
        self.data = None
        raise ValueError(str(_l("Thời gian không hợp lệ. Nhập theo dạng ngày/tháng/năm giờ:phút.")))


def category_choices():
    """Every category, indented under its parent, for a plain <select>."""
    categories = list(db.session.scalars(select(Category).order_by(Category.name)))
    children = {}
    for c in categories:
        children.setdefault(c.parent_id, []).append(c)
    choices = [(0, str(_l("Toàn bộ ngân hàng câu hỏi")))]

    def walk(parent_id, depth):
        for c in children.get(parent_id, []):
            choices.append((c.id, ("— " * depth) + c.name))
            walk(c.id, depth + 1)

    walk(None, 0)
    return choices


def unit_tree_choices():
    """(id, name, depth) for every unit, depth-first in the organisers' sort order."""
    units = list(db.session.scalars(select(Unit).order_by(Unit.sort_order, Unit.name)))
    children = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    rows = []

    def walk(parent_id, depth):
        for u in children.get(parent_id, []):
            rows.append((u.id, u.name, depth))
            walk(u.id, depth + 1)

    walk(None, 0)
    return rows


class ContestForm(SafeForm):
    title = StringField(
        _l("Tên cuộc thi"),
        validators=[
            DataRequired(_l("Vui lòng nhập tên cuộc thi.")),
            Length(max=300, message=_l("Tên cuộc thi quá dài.")),
        ],
    )
    description = TextAreaField(_l("Giới thiệu ngắn"), render_kw={"rows": 3})
    rules_text = TextAreaField(_l("Thể lệ"), render_kw={"rows": 12})
    issuing_body = StringField(
        _l("Cơ quan ban hành quyết định (in ở góc trái bản in danh sách đạt giải)"),
        validators=[Length(max=300, message=_l("Tên cơ quan ban hành quá dài (tối đa 300 ký tự)."))],
    )
    issuing_place = StringField(
        _l("Địa danh ghi trên quyết định"),
        default="Hà Nội",
        validators=[
            DataRequired(_l("Vui lòng nhập địa danh, ví dụ: Hà Nội.")),
            Length(max=100, message=_l("Địa danh quá dài (tối đa 100 ký tự).")),
        ],
    )
    banner = FileField(
        _l("Ảnh bìa (JPEG, PNG hoặc WebP, tối đa 2 MB)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )
    remove_banner = BooleanField(_l("Xóa ảnh bìa hiện tại"))
    unit_ids = SelectMultipleField(_l("Đơn vị được dự thi"), coerce=choice_id, validate_choice=False)
    submit = SubmitField(_l("Lưu cuộc thi"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group_errors = {}
        self.unit_tree = unit_tree_choices()
        self.unit_ids.choices = [(uid, name) for uid, name, _depth in self.unit_tree]


class BlueprintRowForm(Form):
    category_id = SelectField(_l("Chủ đề"), coerce=choice_id, validate_choice=False)
    difficulty = SelectField(_l("Mức độ"), choices=DIFFICULTY_CHOICES, validate_choice=False)
    count = WholeNumberField(
        _l("Số câu"),
        invalid_message=_l("Số câu phải là số nguyên."),
        hi=1000,
        render_kw={"inputmode": "numeric", "min": 1},
    )


class RoundForm(SafeForm):
    number = WholeNumberField(
        _l("Số thứ tự tuần thi"),
        invalid_message=_l("Số thứ tự tuần thi phải là số nguyên."),
        hi=10_000,
        render_kw={"inputmode": "numeric", "min": 1},
    )
    title = StringField(_l("Tên tuần thi"))
    opens_at = VietnamTimeField(_l("Thời gian mở (giờ Việt Nam)"))
    closes_at = VietnamTimeField(_l("Thời gian đóng (giờ Việt Nam)"))
    time_limit_minutes = WholeNumberField(
        _l("Thời gian làm bài (phút)"),
        invalid_message=_l("Thời gian làm bài phải là số phút (số nguyên)."),
        render_kw={"inputmode": "numeric", "min": 1},
    )
    attempts_allowed = WholeNumberField(
        _l("Số lượt thi tối đa của mỗi người"),
        invalid_message=_l("Số lượt thi phải là số nguyên."),
        hi=1000,
        render_kw={"inputmode": "numeric", "min": 1},
    )
    blueprint = FieldList(FormField(BlueprintRowForm), min_entries=BLUEPRINT_ROWS_MIN, max_entries=BLUEPRINT_ROWS_MAX)
    prediction_enabled = BooleanField(_l("Có câu hỏi dự đoán"))
    prediction_text = TextAreaField(_l("Nội dung câu hỏi dự đoán"), render_kw={"rows": 2})
    prediction_basis = RadioField(
        _l("Con số cần dự đoán"),
        choices=[
            ("people", _l("Số người trả lời đúng tất cả các câu")),
            ("attempts", _l("Số lượt thi trả lời đúng tất cả các câu")),
        ],
        validate_choice=False,
    )
    shuffle_questions = BooleanField(_l("Trộn thứ tự câu hỏi"))
    shuffle_options = BooleanField(_l("Trộn thứ tự phương án trả lời"))
    show_score_after_submit = BooleanField(_l("Cho thí sinh xem điểm và thời gian ngay sau khi nộp bài"))
    show_key_after_close = BooleanField(_l("Cho thí sinh xem đáp án sau khi tuần thi kết thúc"))
    ranking_rule = FieldList(
        SelectField(_l("Tiêu chí"), validate_choice=False),
        min_entries=len(RANKING_CRITERIA),
        max_entries=len(RANKING_CRITERIA),
    )
    confirm_stop = BooleanField(
        _l("Tôi xác nhận dừng tuần thi ngay: mọi lượt thi đang làm bị đóng với các câu trả lời đã lưu")
    )
    submit = SubmitField(_l("Lưu tuần thi"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.group_errors = {}  # messages about a whole list of rows (blueprint, ranking rule)
        categories = category_choices()
        # Blank rows let an organiser without JavaScript add rules; the script adds more on demand.
        while len(self.blueprint.entries) < BLUEPRINT_ROWS_MAX and (
            len(self.blueprint.entries) < BLUEPRINT_ROWS_MIN or self._filled_rows() == len(self.blueprint.entries)
        ):
            self.blueprint.append_entry()
        for entry in self.blueprint.entries:
            entry.form.category_id.choices = categories
        criteria = [("", str(_l("— Không dùng —")))] + [(key, str(RANKING_LABELS[key])) for key in RANKING_CRITERIA]
        for entry in self.ranking_rule.entries:
            entry.choices = criteria

    def _filled_rows(self):
        return sum(1 for e in self.blueprint.entries if e.form.count.data is not None)

    @classmethod
    def for_input(cls, data: RoundInput, **kwargs):
        """A form pre-filled from a RoundInput (stored UTC shown as Việt Nam time)."""
        values = dict(
            number=data.number,
            title=data.title,
            opens_at=to_vn_time(data.opens_at) if data.opens_at else None,
            closes_at=to_vn_time(data.closes_at) if data.closes_at else None,
            time_limit_minutes=data.time_limit_minutes,
            attempts_allowed=data.attempts_allowed,
            blueprint=[
                {"category_id": r.category_id or 0, "difficulty": r.difficulty or "", "count": r.count}
                for r in data.blueprint
            ],
            prediction_enabled=data.prediction_enabled,
            prediction_text=data.prediction_text,
            prediction_basis=data.prediction_basis,
            shuffle_questions=data.shuffle_questions,
            shuffle_options=data.shuffle_options,
            show_score_after_submit=data.show_score_after_submit,
            show_key_after_close=data.show_key_after_close,
            ranking_rule=list(data.ranking_rule) + [""] * (len(RANKING_CRITERIA) - len(data.ranking_rule)),
        )
        return cls(data=values, **kwargs)

    def to_input(self) -> RoundInput:
        rules = [
            BlueprintRule(
                category_id=e.form.category_id.data or None,
                count=e.form.count.data,
                difficulty=e.form.difficulty.data or None,
            )
            for e in self.blueprint.entries
            if e.form.count.data is not None
        ]
        return RoundInput(
            number=self.number.data,
            title=self.title.data or "",
            opens_at=from_vn_time(self.opens_at.data) if self.opens_at.data else None,
            closes_at=from_vn_time(self.closes_at.data) if self.closes_at.data else None,
            time_limit_minutes=self.time_limit_minutes.data,
            attempts_allowed=self.attempts_allowed.data,
            blueprint=rules,
            prediction_enabled=bool(self.prediction_enabled.data),
            prediction_text=self.prediction_text.data or "",
            prediction_basis=self.prediction_basis.data or "people",
            shuffle_questions=bool(self.shuffle_questions.data),
            shuffle_options=bool(self.shuffle_options.data),
            show_score_after_submit=bool(self.show_score_after_submit.data),
            show_key_after_close=bool(self.show_key_after_close.data),
            ranking_rule=[e.data for e in self.ranking_rule.entries if e.data],
        )


class PublishForm(SafeForm):
    submit = SubmitField(_l("Công bố"))


class EmergencyStopForm(SafeForm):
    confirm = BooleanField(_l("Tôi hiểu: tuần thi đóng ngay, mọi lượt thi đang làm bị đóng với các câu trả lời đã lưu"))
    reason = TextAreaField(_l("Lý do dừng (bắt buộc, được ghi vào nhật ký)"), render_kw={"rows": 2})
    submit = SubmitField(_l("Dừng khẩn cấp"))

    def problems(self) -> dict[str, str]:
        errors = {}
        if not self.confirm.data:
            errors["confirm"] = str(_l("Vui lòng đánh dấu ô xác nhận để dừng tuần thi."))
        reason = (self.reason.data or "").strip()
        if not 5 <= len(reason) <= 2000:
            errors["reason"] = str(_l("Lý do cần từ 5 đến 2000 ký tự."))
        return errors


class DeleteForm(SafeForm):
    submit = SubmitField(_l("Xóa"))
