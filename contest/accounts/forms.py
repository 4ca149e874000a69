"""Registration, login and profile forms; every message is specific and in Vietnamese."""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, DateField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, ValidationError
from wtforms.validators import Email as EmailValidator

from contest.accounts.models import Unit
from contest.accounts.validators import (
    cccd_problem,
    has_non_ascii_digit,
    name_problem,
    normalize_cccd,
    normalize_name,
    normalize_phone,
)
from infra.extensions import db
from infra.forms import SafeForm

OCCUPATION_CHOICES = [
    ("", _l("— Chọn đối tượng —")),
    ("civil_servant", _l("Cán bộ, công chức, viên chức")),
    ("student", _l("Học sinh, sinh viên")),
    ("worker", _l("Người lao động")),
    ("other", _l("Đối tượng khác")),
]


def unit_choices():
    """Units grouped by province for a <select> with optgroups: works without JavaScript and on phones."""
    provinces = db.session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.sort_order, Unit.name))
    groups = {}
    for province in provinces:
        options = [(province.id, province.name)]

        def walk(node, depth):
            for child in node.children:
                options.append((child.id, ("— " * depth) + child.name))
                walk(child, depth + 1)

        walk(province, 1)
        groups[province.name] = options
    return groups


def validate_phone(form, field):
    if has_non_ascii_digit(field.data or ""):
        raise ValidationError(
            _l("Số điện thoại chỉ được gồm các chữ số 0–9 (không dùng chữ số toàn khổ hay chữ số khác).")
        )
    if not normalize_phone(field.data or ""):
        raise ValidationError(_l("Số điện thoại không hợp lệ. Nhập 10 chữ số, ví dụ 0912345678."))


def validate_name(form, field):
    problem = name_problem(field.data or "")
    if problem == "control":
        raise ValidationError(_l("Họ và tên chứa ký tự ẩn hoặc ký tự điều khiển không được phép."))
    if problem == "no_letter":
        raise ValidationError(_l("Họ và tên phải có chữ cái."))


def _name_filter(value):
    return normalize_name(value) if isinstance(value, str) else value


class RegistrationForm(SafeForm):
    phone = StringField(
        _l("Số điện thoại"),
        validators=[DataRequired(_l("Vui lòng nhập số điện thoại.")), validate_phone],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    full_name = StringField(
        _l("Họ và tên (như trên CCCD)"),
        validators=[
            DataRequired(_l("Vui lòng nhập họ và tên.")),
            Length(max=120, message=_l("Họ và tên quá dài.")),
            validate_name,
        ],
        filters=[_name_filter],
        render_kw={"autocomplete": "name"},
    )
    date_of_birth = DateField(
        _l("Ngày sinh"),
        validators=[InputRequired(_l("Vui lòng nhập ngày sinh hợp lệ."))],
    )
    unit_id = SelectField(_l("Đơn vị dự thi"), coerce=int, validators=[InputRequired(_l("Vui lòng chọn đơn vị."))])
    occupation = SelectField(_l("Đối tượng"), choices=OCCUPATION_CHOICES, validators=[Optional()])
    cccd = StringField(
        _l("Số CCCD (không bắt buộc)"),
        validators=[Optional()],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 15},  # 12 digits, maybe grouped
    )
    email = EmailField(
        _l("Email (không bắt buộc)"),
        validators=[Optional(), EmailValidator(_l("Địa chỉ email không hợp lệ."), check_deliverability=False)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Mật khẩu"),
        validators=[
            DataRequired(_l("Vui lòng nhập mật khẩu.")),
            Length(min=8, max=128, message=_l("Mật khẩu phải có từ 8 đến 128 ký tự.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[
            DataRequired(_l("Vui lòng nhập lại mật khẩu.")),
            EqualTo("password", message=_l("Hai mật khẩu không khớp nhau.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    consent = BooleanField(
        _l(
            "Tôi đồng ý để Ban tổ chức xử lý dữ liệu cá nhân của tôi cho mục đích tổ chức cuộc thi và trao giải, "
            "theo Nghị định 13/2023/NĐ-CP."
        ),
        validators=[DataRequired(_l("Bạn cần đồng ý với việc xử lý dữ liệu cá nhân để đăng ký dự thi."))],
    )
    submit = SubmitField(_l("Đăng ký"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = unit_choices()

    def validate_date_of_birth(self, field):
        if field.data is None:  # "2024-02-30", "abc": DateField could not parse it
            raise ValidationError(_l("Ngày sinh không hợp lệ. Chọn một ngày có thật, ví dụ 02/03/1995."))
        today = date.today()
        if field.data > today:
            raise ValidationError(_l("Ngày sinh không được ở tương lai."))
        if field.data.year < today.year - 120:
            raise ValidationError(_l("Ngày sinh không hợp lệ."))

    def validate_cccd(self, field):
        value = normalize_cccd(field.data or "")
        field.data = value
        if not value:
            return
        if has_non_ascii_digit(value):
            raise ValidationError(
                _l("Số CCCD chỉ được gồm các chữ số 0–9 (không dùng chữ số toàn khổ hay chữ số khác).")
            )
        problem = cccd_problem(value, self.date_of_birth.data if not self.date_of_birth.errors else None)
        if problem == "format":
            raise ValidationError(_l("Số CCCD phải gồm đúng 12 chữ số."))
        if problem == "province":
            raise ValidationError(_l("Ba chữ số đầu của CCCD không phải mã tỉnh hợp lệ (001–096)."))
        if problem == "birth_year":
            raise ValidationError(_l("Số CCCD không khớp với năm sinh đã nhập."))


class LoginForm(SafeForm):
    login = StringField(
        _l("Số điện thoại hoặc email"),
        validators=[DataRequired(_l("Vui lòng nhập số điện thoại hoặc email."))],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Mật khẩu"),
        validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Ghi nhớ đăng nhập"))
    submit = SubmitField(_l("Đăng nhập"))


class NewPasswordForm(SafeForm):
    """A new password typed twice (changing it, or setting it from a reset link)."""

    password = PasswordField(
        _l("Mật khẩu mới"),
        validators=[
            DataRequired(_l("Vui lòng nhập mật khẩu mới.")),
            Length(min=8, max=128, message=_l("Mật khẩu phải có từ 8 đến 128 ký tự.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[
            DataRequired(_l("Vui lòng nhập lại mật khẩu mới.")),
            EqualTo("password", message=_l("Hai mật khẩu không khớp nhau.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(NewPasswordForm):
    current = PasswordField(
        _l("Mật khẩu hiện tại"),
        validators=[DataRequired(_l("Vui lòng nhập mật khẩu hiện tại."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Đổi mật khẩu"))


class SignOutEverywhereForm(SafeForm):
    """One button: every other session of the account ends (the CSRF token is the whole form)."""

    sign_out_everywhere = SubmitField(_l("Đăng xuất trên mọi thiết bị khác"))


class ForgotPasswordForm(SafeForm):
    login = StringField(
        _l("Số điện thoại hoặc email"),
        validators=[
            DataRequired(_l("Vui lòng nhập số điện thoại hoặc email.")),
            Length(max=254, message=_l("Số điện thoại hoặc email quá dài.")),
        ],
        render_kw={"autocomplete": "username"},
    )
    submit = SubmitField(_l("Gửi liên kết đặt lại mật khẩu"))


class ResetPasswordForm(NewPasswordForm):
    submit = SubmitField(_l("Đặt mật khẩu mới"))


class IssueResetForm(SafeForm):
    """One button on the organiser's account page (the CSRF token is the whole form)."""

    issue = SubmitField(_l("Tạo liên kết đặt lại mật khẩu"))
