"""The application factory: the composition root that wires infrastructure, the domain's
blueprints, the Socket.IO handlers and the CLI into one Flask app, in short `configure_*` steps."""

from datetime import timedelta

from flask import Flask, current_app, request, session
from flask_babel import gettext
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

import contest.models  # noqa: F401  (registers every table on db.metadata)
import realtime
from contest.accounts import bp as accounts_bp
from contest.audit import bp as audit_bp
from contest.bank import bp as bank_bp
from contest.judging import bp as judging_bp
from contest.judging.outcome import round_outcome
from contest.live import bp as live_bp
from contest.main import bp as main_bp
from contest.main.errors import register_error_handlers
from contest.main.routes import set_language
from contest.organise import bp as organise_bp
from contest.play import bp as play_bp
from contest.rounds.live_state import ANSWER_STREAM
from contest.units import bp as units_bp
from infra import admission, mail, metrics, web_input
from infra.config import PROJECT_ROOT, config_from_env
from infra.extensions import (
    babel,
    csrf,
    db,
    limiter,
    login_manager,
    migrate,
    redis_clients,
    server_session,
    socketio,
)
from infra.i18n import N_
from infra.logging_setup import configure_logging
from server.commands import register_commands


def select_locale():
    lang = session.get("lang") if session else None
    if lang in ("vi", "en"):
        return lang
    return "vi"


@limiter.request_filter
def rate_limit_exempt():
    """RATELIMIT_EXEMPT_ADDRESSES (empty by default; the load-test stack lists its load generator) skip every limit."""
    return request.remote_addr in (current_app.config.get("RATELIMIT_EXEMPT_ADDRESSES") or ())


def _sqlite_pragmas(dbapi_connection, connection_record):
    # SQLite: enforce foreign keys, let readers proceed during writes, wait instead of failing on a lock.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_app(config_class=None, **overrides):
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    configure_settings(app, config_class, overrides)
    configure_logging(app)
    configure_redis(app)
    configure_database(app)
    configure_web(app)
    configure_realtime(app)
    configure_blueprints(app)
    configure_cli(app)
    configure_proxy(app)
    return app


def configure_settings(app, config_class, overrides):
    config_class = config_class or config_from_env()
    app.config.from_object(config_class)
    app.config.update(overrides)
    if hasattr(config_class, "finalise"):
        config_class.finalise(app.config)  # development: a per-install SECRET_KEY instead of the published one
    if hasattr(config_class, "validate"):
        config_class.validate(app.config)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])


def configure_redis(app):
    redis_clients.init_app(app)
    app.config["SESSION_REDIS"] = app.extensions["redis_bytes"]


def configure_database(app):
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    if uri.startswith("sqlite") and (uri.rstrip("/") == "sqlite:" or ":memory:" in uri or "mode=memory" in uri):
        # An in-memory SQLite database lives in one connection (SQLAlchemy's StaticPool): no pool sizes.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            k: v
            for k, v in app.config["SQLALCHEMY_ENGINE_OPTIONS"].items()
            if k not in ("pool_size", "max_overflow", "pool_timeout")
        }
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)


def configure_web(app):
    """Sessions, CSRF, rate limits, languages, logins, the admission gate and security headers."""
    server_session.init_app(app)
    _shorten_anonymous_sessions(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    mail.init_app(app)  # the password-reset sender: smtp or console (MAIL_SENDER)
    login_manager.login_view = "accounts.login"
    # Flask-Login flashes this into the session (which must stay serialisable): translate at flash time.
    login_manager.login_message = N_("Vui lòng đăng nhập để tiếp tục.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "warning"
    web_input.install(app)  # the bounded `int` URL converter (before the blueprints) and no control characters
    admission.install(app)  # before Flask-SocketIO wraps wsgi_app: Socket.IO traffic bypasses the gate
    # The language switch is a preference, not an account action: it needs no CSRF token, so a page view
    # by an anonymous visitor stores no session (base.html renders the switch without a token).
    csrf.exempt(set_language)

    @app.context_processor
    def inject_globals():
        return {"current_lang": select_locale()}

    csp = app.config.get("CONTENT_SECURITY_POLICY")
    hsts = app.config.get("HSTS_SECONDS") or 0

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if csp and response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", csp)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}; includeSubDomains")
        return response


def _shorten_anonymous_sessions(app):
    """Sessions nobody is logged in to (a form page's CSRF token, a language choice) expire from Redis after
    ANONYMOUS_SESSION_LIFETIME, not the 7 days of a login: requesting form pages cannot fill Redis for a week."""
    interface = app.session_interface
    upsert = interface._upsert_session
    anonymous = timedelta(seconds=app.config["ANONYMOUS_SESSION_LIFETIME"])

    def upsert_session(lifetime, session, store_id):
        if "_user_id" not in session:
            lifetime = min(lifetime, anonymous)
        return upsert(lifetime, session, store_id)

    interface._upsert_session = upsert_session


def configure_proxy(app):
    """With PROXY_HOPS = N > 0, the client address and scheme come from the last N hops of X-Forwarded-For/-Proto.

    Wraps the outermost WSGI app (after Flask-SocketIO and the admission gate), so rate limits, the client_ip
    stored with an attempt, review flags and Socket.IO handlers all see the visitor, not the proxy.
    """
    hops = app.config.get("PROXY_HOPS") or 0
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def configure_realtime(app):
    socketio.init_app(
        app,
        async_mode="gevent",
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        manage_session=False,  # the Flask session lives in Redis already; share it with sockets
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        # Real frames are well under 2 KiB (an answer: ids, references, a seq); a larger one closes the
        # connection (docs/realtime.md states the limit). Engine.IO's default would be 1,000,000 bytes.
        max_http_buffer_size=realtime.MAX_FRAME_BYTES,
    )
    realtime.init_app(app)
    # /metrics reports the write-behind lag of the stream the answer script appends to and the worker drains.
    metrics.watch_answer_stream(ANSWER_STREAM)


def configure_blueprints(app):
    for bp in (main_bp, accounts_bp, units_bp, bank_bp, organise_bp, play_bp, judging_bp, audit_bp, live_bp):
        app.register_blueprint(bp)
    # The contest page (play) shows a closed round's results and prizes, which judging owns; play may not import
    # judging (siblings), so the composition root lends judging's reader to the templates.
    app.add_template_global(round_outcome)
    metrics.init_app(app)
    register_error_handlers(app)


def configure_cli(app):
    register_commands(app)
