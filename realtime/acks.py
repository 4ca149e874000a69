"""What every Socket.IO handler shares: payload checks and the error acknowledgement (docs/realtime.md)."""

import logging
from functools import wraps

from flask_babel import gettext as _

from infra.extensions import db

log = logging.getLogger(__name__)


class BadPayload(Exception):
    pass


def payload_int(data, name, lo=1, hi=2**53 - 1, required=True):
    value = data.get(name)
    if value is None and not required:
        return None
    # bool is an int in Python; a client sending true for an id is a bug, not id 1
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadPayload(name)
    return value


def error_ack(code, message):
    return {"ok": False, "error": code, "message": message}


def guarded(*domain_errors):
    """Decorator: bad payloads and the domain's errors (each with .code and .message) become error acks;
    anything unexpected is logged and acknowledged as server_error."""

    def decorate(handler):
        @wraps(handler)
        def wrapped(data=None, *extra):
            try:
                if not isinstance(data, dict):
                    raise BadPayload("payload")
                return handler(data)
            except BadPayload as exc:
                return error_ack("bad_request", _("Dữ liệu gửi lên không hợp lệ (trường %(field)s).", field=str(exc)))
            except domain_errors as exc:
                db.session.rollback()
                return error_ack(exc.code, exc.message)
            except Exception:
                db.session.rollback()
                log.exception("socket event %s failed", handler.__name__)
                return error_ack("server_error", _("Máy chủ đang bận, vui lòng thử lại."))

        return wrapped

    return decorate
