"""Organiser forms of the question bank."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from infra.forms import SafeForm
from question_bank.formats import MAX_OPTIONS

DIFFICULTY_CHOICES = [("easy", _l("Dễ")), ("medium", _l("Trung bình")), ("hard", _l("Khó"))]
STATUS_CHOICES = [("draft", _l("Nháp")), ("approved", _l("Đã duyệt")), ("retired", _l("Ngừng dùng"))]
LETTERS = "ABCDEF"


class QuestionForm(SafeForm):
    category_id = SelectField(_l("Chủ đề"), coerce=int, validators=[DataRequired(_l("Vui lòng chọn chủ đề."))])
    title = StringField(_l("Tiêu đề ngắn (không bắt buộc)"), validators=[Optional(), Length(max=200)])
    stem = TextAreaField(
        _l("Nội dung câu hỏi"), validators=[DataRequired(_l("Vui lòng nhập nội dung câu hỏi.")), Length(max=5000)]
    )
    multi_select = BooleanField(_l("Cho phép chọn nhiều đáp án"))
    explanation = TextAreaField(_l("Giải thích đáp án"), validators=[Optional(), Length(max=5000)])
    legal_document = StringField(_l("Văn bản pháp luật làm căn cứ"), validators=[Optional(), Length(max=300)])
    legal_article = StringField(_l("Điều, khoản"), validators=[Optional(), Length(max=200)])
    difficulty = SelectField(_l("Độ khó"), choices=DIFFICULTY_CHOICES, default="medium")
    tags = StringField(_l("Thẻ (cách nhau bằng dấu phẩy)"), validators=[Optional(), Length(max=500)])
    preview = SubmitField(_l("Xem trước"))
    submit = SubmitField(_l("Lưu câu hỏi"))


# Six option rows: a text and a "correct" box each (A–F), attached to the form class.
for _i, _letter in enumerate(LETTERS[:MAX_OPTIONS]):
    setattr(
        QuestionForm,
        f"option_{_i}",
        StringField(_l("Phương án %(letter)s", letter=_letter), validators=[Optional(), Length(max=2000)]),
    )
    setattr(QuestionForm, f"correct_{_i}", BooleanField(_l("Phương án %(letter)s là đáp án đúng", letter=_letter)))


class CategoryForm(SafeForm):
    name = StringField(_l("Tên chủ đề"), validators=[DataRequired(_l("Vui lòng nhập tên chủ đề.")), Length(max=200)])
    parent_id = SelectField(_l("Thuộc chủ đề"), coerce=int)
    submit = SubmitField(_l("Thêm chủ đề"))


class MoveCategoryForm(SafeForm):
    category_id = SelectField(_l("Chủ đề cần chuyển"), coerce=int)
    new_parent_id = SelectField(_l("Chuyển vào"), coerce=int)
    submit_move = SubmitField(_l("Chuyển chủ đề"))


class RenameCategoryForm(SafeForm):
    category_id = SelectField(_l("Chủ đề"), coerce=int)
    new_name = StringField(_l("Tên mới"), validators=[DataRequired(_l("Vui lòng nhập tên chủ đề.")), Length(max=200)])
    submit_rename = SubmitField(_l("Đổi tên"))


class DeleteCategoryForm(SafeForm):
    category_id = SelectField(_l("Chủ đề cần xóa (chỉ chủ đề trống)"), coerce=int)
    submit_delete = SubmitField(_l("Xóa chủ đề"))


class ImportForm(SafeForm):
    file = FileField(_l("Tệp câu hỏi (.gift, .txt, .csv, .xlsx)"), validators=[FileRequired(_l("Vui lòng chọn tệp."))])
    format = SelectField(
        _l("Định dạng"),
        choices=[
            ("", _l("Tự nhận theo tên tệp")),
            ("gift", "GIFT (Moodle)"),
            ("aiken", "Aiken (Moodle)"),
            ("csv", "CSV"),
            ("xlsx", "Excel (.xlsx)"),
        ],
        default="",
    )
    category = StringField(_l("Chủ đề mặc định (không bắt buộc)"), validators=[Optional(), Length(max=500)])
    skip_unsupported = BooleanField(_l("Bỏ qua các câu thuộc loại chưa hỗ trợ (tự luận, ghép đôi, số, trả lời ngắn)"))
    submit = SubmitField(_l("Kiểm tra tệp"))


class ConfirmImportForm(SafeForm):
    """ "Nhập ngay": imports the file kept after a clean check (question_bank.staged_imports)."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Nhập ngay"))


class ReturnForm(SafeForm):
    """A reviewer sends a draft back to its author with a comment."""

    comment = TextAreaField(
        _l("Nhận xét gửi người soạn"),
        validators=[DataRequired(_l("Vui lòng ghi nhận xét để người soạn biết cần sửa gì.")), Length(max=2000)],
        render_kw={"rows": 3},
    )
    submit_return = SubmitField(_l("Trả lại người soạn"))


class ExportForm(SafeForm):
    class Meta:
        csrf = False  # a GET download that changes nothing

    format = SelectField(
        _l("Định dạng"),
        choices=[("gift", "GIFT (Moodle)"), ("aiken", "Aiken (Moodle)"), ("csv", "CSV"), ("xlsx", "Excel (.xlsx)")],
        default="xlsx",
    )
    category_id = SelectField(_l("Chủ đề"), coerce=int, default=0)
    submit = SubmitField(_l("Tải xuống"))
