"""Registration, login, logout and the profile page."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from contest.accounts.forms import LoginForm, PasswordChangeForm, RegistrationForm, SignOutEverywhereForm
from contest.accounts.services import (
    AccountError,
    check_login,
    clear_login_failures,
    create_user,
    end_other_sessions,
    find_by_login,
    login_lock_minutes,
    record_login_failure,
    refuse_revoked_remember_cookies,
    revoke_remember_cookie,
    start_session,
)
from infra.extensions import db, limiter, login_manager
from infra.web_input import safe_next

bp = Blueprint("accounts", __name__)


def _remember_cookie():
    return request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))


# Once per process, beside the user loader (contest.accounts.models) on the same LoginManager.
refuse_revoked_remember_cookies(login_manager)


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
            start_session(user)
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
        locked = login_lock_minutes(form.login.data, user)
        if locked:
            form.login.errors.append(
                _(
                    "Tài khoản tạm bị khóa đăng nhập vì nhập sai mật khẩu quá nhiều lần. "
                    "Vui lòng thử lại sau %(minutes)d phút.",
                    minutes=locked,
                )
            )
        elif not check_login(user, form.password.data) or user is None:
            record_login_failure(form.login.data, user)
            form.password.errors.append(_("Số điện thoại/email hoặc mật khẩu không đúng."))
        elif not user.is_active:
            form.login.errors.append(_("Tài khoản này đã bị khóa. Vui lòng liên hệ Ban tổ chức."))
        else:
            clear_login_failures(form.login.data, user)
            start_session(user, remember=form.remember.data)  # a fresh session id at login: no fixation
            flash(_("Đăng nhập thành công."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/dang-xuat", methods=["POST"])
@login_required
def logout():
    lang = session.get("lang")
    revoke_remember_cookie(_remember_cookie())
    logout_user()
    session.clear()
    session["_remember"] = "clear"  # Flask-Login deletes the remember-me cookie on this response
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
            user = current_user._get_current_object()
            user.set_password(form.password.data)
            revoke_remember_cookie(_remember_cookie())
            # Every other session and remember-me cookie of the account ends; this one gets a new id.
            end_other_sessions(user, actor=user, reason="password_change")
            db.session.commit()
            flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác của tài khoản đã bị đăng xuất."), "success")
            return redirect(url_for("accounts.profile"))
    status = 422 if form.errors else 200
    return render_template(
        "accounts/profile.html", form=form, user=current_user, sign_out_form=SignOutEverywhereForm()
    ), status


@bp.route("/tai-khoan/dang-xuat-moi-noi", methods=["POST"])
@login_required
def sign_out_everywhere():
    """Ends every other session and remember-me cookie of one's own account (a lost phone, a shared computer)."""
    if SignOutEverywhereForm().validate_on_submit():
        user = current_user._get_current_object()
        revoke_remember_cookie(_remember_cookie())
        end_other_sessions(user, actor=user, reason="sign_out_everywhere")
        db.session.commit()
        flash(_("Đã đăng xuất tài khoản trên mọi thiết bị khác."), "success")
    return redirect(url_for("accounts.profile"))
