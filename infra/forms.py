"""The base of every form: control characters (NUL above all) in any submitted field are a field error.

PostgreSQL refuses NUL in text ("PostgreSQL text fields cannot contain NUL (0x00) bytes"), SQLite stores it,
and no one types it: a field holding one is refused before any validator or query sees it, with the same error
on both databases.
"""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField

from infra.web_input import MAX_DB_INT, has_control, parse_int


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


class BoundedIntegerField(IntegerField):
    """An integer typed in ASCII digits (an optional sign), within lo..hi, else a specific field error.

    WTForms' IntegerField takes any Unicode digits and any size: a 30-digit number reached the database as an
    "integer out of range" error (a 500 on PostgreSQL). The default bounds are those of an INTEGER column.
    """

    def __init__(self, label=None, validators=None, lo=-MAX_DB_INT, hi=MAX_DB_INT, invalid_message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.lo, self.hi = lo, hi
        self.invalid_message = invalid_message or _l("Vui lòng nhập một số nguyên (chữ số 0–9).")

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        self.data = parse_int(valuelist[0], -MAX_DB_INT, MAX_DB_INT)
        if self.data is None:
            raise ValueError(str(self.invalid_message))
        if not self.lo <= self.data <= self.hi:
            self.data = None
            raise ValueError(gettext("Vui lòng nhập một số từ %(lo)s đến %(hi)s.", lo=self.lo, hi=self.hi))
