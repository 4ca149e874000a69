"""The organiser's set-up form of a live session."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from contest.live.models import MAX_SECONDS, MIN_SECONDS


class SessionForm(FlaskForm):
    contest_id = SelectField(_l("Cuộc thi"), coerce=int, validators=[DataRequired()])
    title = StringField(_l("Tên phiên chung kết"), validators=[DataRequired(), Length(max=300)])
    mode = SelectField(
        _l("Chế độ"),
        choices=[
            ("points", _l("Tính điểm (đúng và nhanh được nhiều điểm hơn)")),
            ("elimination", _l("Rung chuông vàng (trả lời sai hoặc không trả lời thì bị loại)")),
        ],
    )
    seconds_per_question = IntegerField(
        _l("Số giây mỗi câu"), default=20, validators=[DataRequired(), NumberRange(MIN_SECONDS, MAX_SECONDS)]
    )
    rescue = SelectField(
        _l("Cứu trợ (chỉ chế độ Rung chuông vàng)"),
        choices=[
            ("none", _l("Không cứu trợ")),
            ("question", _l("Câu hỏi cứu trợ: người bị loại trả lời đúng được quay lại")),
            ("manual", _l("Người dẫn cứu trợ thủ công N người bị loại sau cùng")),
        ],
    )
    rescue_positions = StringField(_l("Các câu cứu trợ (số thứ tự, cách nhau bởi dấu phẩy)"), validators=[Optional()])
    late_join = SelectField(
        _l("Người vào muộn (sau khi câu đầu tiên bắt đầu)"),
        choices=[("watch", _l("Được vào xem")), ("refuse", _l("Không được vào"))],
    )
    question_ids = TextAreaField(
        _l("Câu hỏi (mã số, theo thứ tự trình chiếu, cách nhau bởi dấu phẩy)"), validators=[Optional()]
    )
    draw_category_id = SelectField(_l("Hoặc rút ngẫu nhiên từ chủ đề"), coerce=int, default=0)
    draw_count = IntegerField(_l("Số câu rút ngẫu nhiên"), validators=[Optional(), NumberRange(1, 100)])
