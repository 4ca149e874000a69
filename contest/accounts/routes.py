"""Registration, login, logout, the profile page, password reset and the organiser's account pages."""

from collections.abc import Sequence

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from sqlalchemy import func, or_, select

from contest.accounts.forms import (
    ForgotPasswordForm,
    IssueResetForm,
    LoginForm,
    PasswordChangeForm,
    RegistrationForm,
    ResetPasswordForm,
    SignOutEverywhereForm,
)
from contest.accounts.guards import role_required
from contest.accounts.models import User
from contest.accounts.resets import issue_reset, request_reset, reset_password, reset_url, valid_link
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
from contest.accounts.validators import normalize_phone
from infra.extensions import db, limiter, login_manager
from infra.web_input import has_control, safe_next

bp = Blueprint("accounts", __name__)


def _remember_cookie():
    return request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))


# Once per process, beside the user loader (contest.accounts.models) on the same LoginManager.
refuse_revoked_remember_cookies(login_manager)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit():
    return current_app.config["REGISTER_RATE_LIMIT"]


def _reset_limit():
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _next_url():
    """Where login or registration returns to: the `next` the page came with, on this site only."""
    return safe_next(request.args.get("next"))


@bp.app_template_global()
def auth_next():
    """The `next` for the header's login/registration links: the page being read (a GET outside the account
    pages), or the `next` the login/registration page itself carries."""
    if request.endpoint in ("accounts.login", "accounts.register", "accounts.forgot_password"):
        return _next_url()
    if request.method != "GET" or (request.endpoint or "").startswith("accounts.") or request.path == "/":
        return None
    return safe_next(request.full_path if request.query_string else request.path)


@bp.route("/dang-ky", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(_next_url() or url_for("main.home"))
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
            return redirect(_next_url() or url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form, next_url=_next_url()), status


@bp.route("/dang-nhap", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_url() or url_for("main.home"))
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
            return redirect(_next_url() or url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/login.html", form=form, next_url=_next_url()), status


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


def _private(response):
    """A page carrying a reset secret: never cached, never sent on as a Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/quen-mat-khau", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_reset(form.login.data, ip=request.remote_addr)
        # The same answer whether or not the account exists or has an e-mail address.
        flash(
            _(
                "Nếu thông tin bạn nhập khớp với một tài khoản có email, chúng tôi đã gửi tới email đó một liên kết "
                "đặt lại mật khẩu (dùng được một lần, trong %(minutes)d phút). Tài khoản không có email: vui lòng "
                "liên hệ Ban tổ chức để được cấp liên kết.",
                minutes=current_app.config["PASSWORD_RESET_MINUTES"],
            ),
            "info",
        )
        return redirect(url_for("accounts.login", next=_next_url()))
    status = 422 if form.errors else 200
    return render_template("accounts/forgot.html", form=form), status


@bp.route("/dat-lai-mat-khau/<token>", methods=["GET", "POST"], endpoint="reset_password")
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password_page(token):
    link = valid_link(token)
    form = ResetPasswordForm()
    if link is not None and form.validate_on_submit():
        try:
            reset_password(token, form.password.data, ip=request.remote_addr)
        except AccountError as exc:
            db.session.rollback()
            link = None
            form.password.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Đã đặt mật khẩu mới. Mọi phiên đăng nhập cũ đã kết thúc; vui lòng đăng nhập lại."), "success")
            return redirect(url_for("accounts.login"))
    status = 404 if link is None and request.method == "GET" else (422 if form.errors or link is None else 200)
    page = render_template("accounts/reset.html", form=form, link=link)
    return _private(make_response(page, status))


# --- the organiser's account pages ------------------------------------------------------------------


@bp.route("/quan-tri/tai-khoan")
@role_required("organiser")
def admin_users():
    query = (request.args.get("q") or "").strip()[:120]
    users: Sequence[User] = []
    if query and not has_control(query):
        phone = normalize_phone(query)
        condition = (
            User.phone == phone if phone else func.lower(User.full_name).contains(query.lower(), autoescape=True)
        )
        if "@" in query:
            condition = or_(condition, func.lower(User.email) == query.lower())
        users = db.session.scalars(select(User).where(condition).order_by(User.full_name, User.id).limit(50)).all()
    return render_template("accounts/admin_users.html", query=query, users=users)


@bp.route("/quan-tri/tai-khoan/<int:user_id>", methods=["GET", "POST"])
@role_required("organiser")
def admin_user(user_id):
    user = db.session.get(User, user_id) or abort(404)
    form = IssueResetForm()
    issued = None
    problem = None
    if form.validate_on_submit():
        try:
            token, link = issue_reset(user, current_user._get_current_object())
        except AccountError as exc:
            db.session.rollback()
            problem = exc.message
        else:
            db.session.commit()
            issued = {"url": reset_url(token), "expires_at": link.expires_at}
    page = render_template("accounts/admin_user.html", user=user, form=form, issued=issued, problem=problem)
    return _private(make_response(page, 422 if problem else 200))
