"""Registration, login, logout and the profile page."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from contest.accounts.forms import LoginForm, PasswordChangeForm, RegistrationForm
from contest.accounts.services import AccountError, create_user, find_by_login
from infra.extensions import db, limiter
from infra.web_input import safe_next

bp = Blueprint("accounts", __name__)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit():
    return current_app.config["REGISTER_RATE_LIMIT"]


@bp.route("/dang-ky", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                phone=form.phone.data,
                password=form.password.data,
                full_name=form.full_name.data,
                date_of_birth=form.date_of_birth.data,
                unit_id=form.unit_id.data,
                cccd=form.cccd.data or None,
                email=form.email.data or None,
                occupation=form.occupation.data or None,
                consent=form.consent.data,
            )
        except AccountError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(exc.message)
        else:
            session.clear()
            login_user(user)
            flash(_("Đăng ký thành công. Chào mừng %(name)s!", name=user.full_name), "success")
            return redirect(url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/dang-nhap", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_by_login(form.login.data)
        if user is None or not user.check_password(form.password.data):
            form.password.errors.append(_("Số điện thoại/email hoặc mật khẩu không đúng."))
        elif not user.is_active:
            form.login.errors.append(_("Tài khoản này đã bị khóa. Vui lòng liên hệ Ban tổ chức."))
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session id at login: no fixation
            if lang:
                session["lang"] = lang
            login_user(user, remember=form.remember.data)
            flash(_("Đăng nhập thành công."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/dang-xuat", methods=["POST"])
@login_required
def logout():
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("main.home"))


@bp.route("/tai-khoan", methods=["GET", "POST"])
@login_required
def profile():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("Mật khẩu hiện tại không đúng."))
        else:
            current_user.set_password(form.password.data)
            db.session.commit()
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("accounts.profile"))
    status = 422 if form.errors else 200
    return render_template("accounts/profile.html", form=form, user=current_user), status
