"""List and add units; a unit with contestants or children cannot be deleted."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from contest.accounts.guards import role_required
from contest.accounts.models import Unit
from contest.audit import record_action
from infra.extensions import db
from infra.forms import BoundedIntegerField, SafeForm

bp = Blueprint("units", __name__, url_prefix="/quan-tri/don-vi")


class UnitForm(SafeForm):
    name = StringField(_l("Tên đơn vị"), validators=[DataRequired(_l("Vui lòng nhập tên đơn vị.")), Length(max=200)])
    parent_id = SelectField(_l("Thuộc"), coerce=int)
    code = StringField(_l("Mã đơn vị (không bắt buộc)"), validators=[Optional(), Length(max=32)])
    headcount = BoundedIntegerField(
        _l("Tổng số người của đơn vị (không bắt buộc)"),
        validators=[Optional(), NumberRange(min=1, max=100_000_000, message=_l("Số người phải từ 1 đến 100.000.000."))],
    )
    submit = SubmitField(_l("Thêm đơn vị"))


def add_unit(name, parent_id=None, code=None, headcount=None, actor=None):
    unit = Unit(name=name.strip(), parent_id=parent_id, code=code or None, headcount=headcount)
    db.session.add(unit)
    if actor is not None:
        db.session.flush()
        record_action(
            actor,
            "unit_create",
            object_type="unit",
            object_id=unit.id,
            name=unit.name,
            parent_id=parent_id,
            code=unit.code,
            headcount=headcount,
        )
    db.session.commit()
    return unit


@bp.route("/", methods=["GET", "POST"])
@role_required("organiser")
def index():
    roots = db.session.scalars(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.sort_order, Unit.name)).all()
    form = UnitForm()
    form.parent_id.choices = [(0, _("— Cấp tỉnh/thành phố (gốc) —"))] + [
        (u.id, u.path()) for u in db.session.scalars(select(Unit).order_by(Unit.name))
    ]
    if form.validate_on_submit():
        if form.code.data and db.session.scalar(select(Unit.id).where(Unit.code == form.code.data)):
            form.code.errors.append(_("Mã đơn vị này đã tồn tại."))
        else:
            unit = add_unit(
                form.name.data, form.parent_id.data or None, form.code.data, form.headcount.data, actor=current_user
            )
            flash(_("Đã thêm đơn vị %(name)s.", name=unit.name), "success")
            return redirect(url_for("units.index"))
    return render_template("units/index.html", roots=roots, form=form), (422 if form.errors else 200)
