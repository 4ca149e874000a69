"""Error pages in Vietnamese; JSON for API-style requests."""

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError


def _wants_json():
    return request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/")


def register_error_handlers(app):
    def page(code, title, message):
        if _wants_json():
            return jsonify(error=message), code
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return page(
            400,
            _("Phiên làm việc đã hết hạn"),
            _("Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại."),
        )

    @app.errorhandler(403)
    def forbidden(exc):
        return page(403, _("Không có quyền truy cập"), _("Tài khoản của bạn không có quyền xem trang này."))

    @app.errorhandler(404)
    def not_found(exc):
        return page(404, _("Không tìm thấy trang"), _("Trang bạn tìm không tồn tại hoặc đã được chuyển đi."))

    @app.errorhandler(429)
    def too_many(exc):
        return page(429, _("Quá nhiều yêu cầu"), _("Bạn đã thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại."))

    @app.errorhandler(500)
    def server_error(exc):
        return page(500, _("Lỗi hệ thống"), _("Đã có lỗi xảy ra. Vui lòng thử lại sau ít phút."))
