"""The base of every form: control characters (NUL above all) in any submitted field are a field error.

PostgreSQL refuses NUL in text ("PostgreSQL text fields cannot contain NUL (0x00) bytes"), SQLite stores it,
and no one types it: a field holding one is refused before any validator or query sees it, with the same error
on both databases.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from infra.web_input import has_control


def _leaf_fields(fields):
    for field in fields:
        if hasattr(field, "entries"):  # FieldList
            yield from _leaf_fields(field.entries)
        elif hasattr(field, "form") and hasattr(field.form, "_fields"):  # FormField
            yield from _leaf_fields(field.form)
        else:
            yield field


class SafeForm(FlaskForm):
    def validate(self, extra_validators=None):
        bad = [f for f in _leaf_fields(self) if any(has_control(v) for v in (getattr(f, "raw_data", None) or ()))]
        if not bad:
            return super().validate(extra_validators)
        for field in bad:
            field.errors = [_l("Trường này chứa ký tự điều khiển không hợp lệ. Vui lòng nhập lại.")]
        return False
