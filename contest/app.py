"""The application factory. Kept out of `contest/__init__.py` so that importing the package
(as `python -m contest.serve` does before it monkey-patches with gevent) imports nothing heavy."""
from flask import Flask, request, session
from flask_babel import gettext
from sqlalchemy import event
from sqlalchemy.engine import Engine

from contest import N_
from contest.config import PROJECT_ROOT, config_from_env
from contest.extensions import (
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


def select_locale():
    lang = session.get("lang") if session else None
    if lang in ("vi", "en"):
        return lang
    return "vi"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # SQLite: enforce foreign keys, let readers proceed during writes, wait instead of failing on a lock.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
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
    config_class = config_class or config_from_env()
    app.config.from_object(config_class)
    app.config.update(overrides)
    if hasattr(config_class, "validate"):
        config_class.validate()

    from contest.logging_setup import configure_logging

    configure_logging(app)

    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    redis_clients.init_app(app)
    app.config["SESSION_REDIS"] = app.extensions["redis_bytes"]

    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    if uri.startswith("sqlite") and (uri.rstrip("/") == "sqlite:" or ":memory:" in uri or "mode=memory" in uri):
        # An in-memory SQLite database lives in one connection (SQLAlchemy's StaticPool): no pool sizes.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            k: v for k, v in app.config["SQLALCHEMY_ENGINE_OPTIONS"].items()
            if k not in ("pool_size", "max_overflow", "pool_timeout")}
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
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

    from contest import admission

    admission.install(app)  # before Flask-SocketIO wraps wsgi_app: Socket.IO traffic bypasses the gate
    socketio.init_app(
        app,
        async_mode="gevent",
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        manage_session=False,  # the Flask session lives in Redis already; share it with sockets
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
    )

    import contest.models  # noqa: F401  (registers every table on db.metadata)
    from contest.accounts import bp as accounts_bp
    from contest.main import bp as main_bp
    from contest.organise import bp as organise_bp
    from contest.play import bp as play_bp
    from contest.units import bp as units_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(units_bp)
    from contest.bank import bp as bank_bp

    app.register_blueprint(bank_bp)
    app.register_blueprint(organise_bp)
    app.register_blueprint(play_bp)
    from contest.judging import bp as judging_bp

    app.register_blueprint(judging_bp)

    from contest import metrics

    metrics.init_app(app)

    import realtime

    realtime.init_app(app)

    from contest.commands import register_commands

    register_commands(app)

    from contest.main.errors import register_error_handlers

    register_error_handlers(app)

    @app.context_processor
    def inject_globals():
        return {"current_lang": select_locale()}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response

    return app
