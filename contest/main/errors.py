"""Error pages in Vietnamese (every HTTP error, not only the common ones); JSON for API-style requests.

An error page must never fail itself: the database session is rolled back before rendering (a failed flush
leaves it unusable, and the page's layout loads the current user), and if rendering still fails, a plain
page is returned.
"""

from flask import jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from infra.extensions import db


def _wants_json():
    return request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/")


def _texts(code):
    """(title, message) of an HTTP error code; the generic pair for codes without their own."""
    texts = {
        400: (_("Yêu cầu không hợp lệ"), _("Dữ liệu gửi lên không hợp lệ. Vui lòng kiểm tra lại và thử lại.")),
        403: (_("Không có quyền truy cập"), _("Tài khoản của bạn không có quyền xem trang này.")),
        404: (_("Không tìm thấy trang"), _("Trang bạn tìm không tồn tại hoặc đã được chuyển đi.")),
        405: (_("Thao tác không được hỗ trợ"), _("Trang này không nhận loại yêu cầu vừa gửi.")),
        413: (
            _("Tệp quá lớn"),
            _("Tệp hoặc dữ liệu gửi lên vượt quá giới hạn cho phép. Vui lòng chọn tệp nhỏ hơn."),
        ),
        429: (_("Quá nhiều yêu cầu"), _("Bạn đã thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại.")),
        500: (_("Lỗi hệ thống"), _("Đã có lỗi xảy ra. Vui lòng thử lại sau ít phút.")),
    }
    if code in texts:
        return texts[code]
    if code >= 500:
        return texts[500]
    return _("Yêu cầu không thực hiện được"), _("Không thể thực hiện yêu cầu này. Vui lòng quay lại và thử lại.")


def _rollback():
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone; the page must still render
        db.session.remove()


def page(code, title, message):
    _rollback()
    if _wants_json():
        return jsonify(error=message), code
    try:
        return render_template("error.html", code=code, title=title, message=message), code
    except Exception:  # the layout needs the session, the user, the catalog: fall back to bare text
        _rollback()
        return f"{code} {title}\n{message}\n", code, {"Content-Type": "text/plain; charset=utf-8"}


def register_error_handlers(app):
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return page(
            400,
            _("Phiên làm việc đã hết hạn"),
            _("Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại."),
        )

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code is None or exc.code < 400:  # redirects raised as exceptions (RequestRedirect) pass through
            return exc
        title, message = _texts(exc.code)
        response = make_response(page(exc.code, title, message))
        for key, value in exc.get_headers():  # 405's Allow, 429's and 503's Retry-After
            if key.lower() in ("allow", "retry-after"):
                response.headers[key] = value
        return response

    @app.errorhandler(500)
    def server_error(exc):
        title, message = _texts(500)
        return page(500, title, message)
