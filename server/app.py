"""The application factory: the composition root that wires infrastructure, the domain's
blueprints, the Socket.IO handlers and the CLI into one Flask app, in short `configure_*` steps."""

from flask import Flask, session
from flask_babel import gettext
from sqlalchemy import event

import contest.models  # noqa: F401  (registers every table on db.metadata)
import realtime
from contest.accounts import bp as accounts_bp
from contest.audit import bp as audit_bp
from contest.bank import bp as bank_bp
from contest.judging import bp as judging_bp
from contest.live import bp as live_bp
from contest.main import bp as main_bp
from contest.main.errors import register_error_handlers
from contest.organise import bp as organise_bp
from contest.play import bp as play_bp
from contest.rounds.live_state import ANSWER_STREAM
from contest.units import bp as units_bp
from infra import admission, metrics
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
    return app


def configure_settings(app, config_class, overrides):
    config_class = config_class or config_from_env()
    app.config.from_object(config_class)
    app.config.update(overrides)
    if hasattr(config_class, "validate"):
        config_class.validate()
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
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    # Flask-Login flashes this into the session (which must stay serialisable): translate at flash time.
    login_manager.login_message = N_("Vui lòng đăng nhập để tiếp tục.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "warning"
    admission.install(app)  # before Flask-SocketIO wraps wsgi_app: Socket.IO traffic bypasses the gate

    @app.context_processor
    def inject_globals():
        return {"current_lang": select_locale()}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response


def configure_realtime(app):
    socketio.init_app(
        app,
        async_mode="gevent",
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        manage_session=False,  # the Flask session lives in Redis already; share it with sockets
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
    )
    realtime.init_app(app)
    # /metrics reports the write-behind lag of the stream the answer script appends to and the worker drains.
    metrics.watch_answer_stream(ANSWER_STREAM)


def configure_blueprints(app):
    for bp in (main_bp, accounts_bp, units_bp, bank_bp, organise_bp, play_bp, judging_bp, audit_bp, live_bp):
        app.register_blueprint(bp)
    metrics.init_app(app)
    register_error_handlers(app)


def configure_cli(app):
    register_commands(app)
