"""Judge forms; messages are specific and in Vietnamese."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from contest.judging.disqualification import MIN_REASON_LENGTH
from infra.forms import BoundedIntegerField, SafeForm


class ConfirmedMixin:
    """A decision that needs a second, explicit "yes": `confirmed` is "1" only from the confirmation dialog (with
    script) or the confirmation page the server shows first (without)."""

    confirmed = HiddenField(default="")

    def is_confirmed(self):
        return self.confirmed.data == "1"


class ReasonForm(ConfirmedMixin, SafeForm):
    reason = TextAreaField(
        _l("Lý do (bắt buộc, được ghi vào nhật ký)"),
        validators=[
            DataRequired(_l("Vui lòng ghi rõ lý do.")),
            Length(min=MIN_REASON_LENGTH, max=2000, message=_l("Lý do cần từ 5 đến 2000 ký tự.")),
        ],
    )


class DisqualifyForm(ReasonForm):
    """Disqualifies an entry the judge saw ranked (the route refuses it if it is already disqualified)."""

    submit = SubmitField(_l("Loại bài dự thi"))


class ReinstateForm(ReasonForm):
    """Reinstates the disqualification the judge saw: `decision` is its decision_token (a stale page is refused)."""

    decision = HiddenField(
        validators=[
            DataRequired(_l("Thiếu mã quyết định loại bài.")),
            Length(max=40, message=_l("Mã quyết định loại bài không hợp lệ.")),
        ]
    )
    submit = SubmitField(_l("Khôi phục bài dự thi"))


class PredictionScopeForm(SafeForm):
    scope = RadioField(_l("Đáp án câu dự đoán đếm số người đạt điểm tuyệt đối trong"), validate_choice=True)
    submit = SubmitField(_l("Lưu cách tính"))

    def set_choices(self, labels):
        self.scope.choices = [(key, _l(label)) for key, label in labels.items()]


class RecomputeFlagsForm(SafeForm):
    submit = SubmitField(_l("Tính lại"))


class PublishForm(ConfirmedMixin, SafeForm):
    note = StringField(_l("Ghi chú cho phiên bản này (không bắt buộc)"), validators=[Optional(), Length(max=500)])
    # The latest version the judge saw (0: none): another judge's publication in between is not repeated blindly.
    expected_version = BoundedIntegerField(validators=[Optional()], lo=0)
    submit = SubmitField(_l("Công bố kết quả"))


class PrizeTiersForm(SafeForm):
    tiers = TextAreaField(
        _l(
            "Cơ cấu giải (mỗi dòng một giải: Tên giải; số lượng; “tối thiểu N” nếu cần ít nhất N câu đúng; "
            "“tuyệt đối” nếu bắt buộc điểm tuyệt đối)"
        ),
        validators=[Optional(), Length(max=4000)],
    )
    submit = SubmitField(_l("Lưu cơ cấu giải"))


class ReviewSettingsForm(SafeForm):
    min_time_seconds = BoundedIntegerField(
        _l("Cảnh báo khi thời gian làm bài dưới (giây)"),
        validators=[
            InputRequired(_l("Vui lòng nhập số giây.")),
            NumberRange(min=0, max=86400, message=_l("Từ 0 đến 86400 giây.")),
        ],
    )
    max_accounts_per_ip = BoundedIntegerField(
        _l("Số tài khoản tối đa trên một địa chỉ IP"),
        validators=[
            InputRequired(_l("Vui lòng nhập một số.")),
            NumberRange(min=1, max=100000, message=_l("Phải từ 1 trở lên.")),
        ],
    )
    max_accounts_per_device = BoundedIntegerField(
        _l("Số tài khoản tối đa trên một thiết bị"),
        validators=[
            InputRequired(_l("Vui lòng nhập một số.")),
            NumberRange(min=1, max=100000, message=_l("Phải từ 1 trở lên.")),
        ],
    )
    submit = SubmitField(_l("Lưu ngưỡng cảnh báo"))


class ExportForm(SafeForm):
    format = SelectField(_l("Định dạng"), choices=[("xlsx", "Excel (XLSX)"), ("csv", "CSV (UTF-8)")])
    winners = BooleanField(_l("Chỉ danh sách đạt giải"))
    full_data = BooleanField(_l("Xuất đầy đủ thông tin cá nhân (không che số điện thoại, ngày sinh; được ghi nhật ký)"))
    submit = SubmitField(_l("Tải xuống"))


RULE_SLOTS = 6


class RankingRuleForm(SafeForm):
    """The round's ranking rule as up to six ordered criteria; "không dùng" ends the list."""

    criterion_1 = SelectField(_l("Tiêu chí 1"), validate_choice=False)  # validate_rule() checks the keys
    criterion_2 = SelectField(_l("Tiêu chí 2"), validate_choice=False)  # validate_rule() checks the keys
    criterion_3 = SelectField(_l("Tiêu chí 3"), validate_choice=False)  # validate_rule() checks the keys
    criterion_4 = SelectField(_l("Tiêu chí 4"), validate_choice=False)  # validate_rule() checks the keys
    criterion_5 = SelectField(_l("Tiêu chí 5"), validate_choice=False)  # validate_rule() checks the keys
    criterion_6 = SelectField(_l("Tiêu chí 6"), validate_choice=False)  # validate_rule() checks the keys
    submit = SubmitField(_l("Lưu quy tắc xếp hạng"))

    def slots(self):
        return [getattr(self, f"criterion_{i}") for i in range(1, RULE_SLOTS + 1)]

    def set_choices(self, labels):
        for slot in self.slots():
            slot.choices = [("", _l("— Không dùng —"))] + [(key, _l(label)) for key, label in labels.items()]

    def rule(self):
        return [slot.data for slot in self.slots() if slot.data]
