"""Configuration classes; every setting that differs between deployments is read from the environment."""

import os
import secrets
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONTEST_VAR_DIR", PROJECT_ROOT / "var"))


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name, default, low, high):
    """An integer setting, range-checked at start-up: a typo must stop the process, not weaken it."""
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise RuntimeError(f"{name} must be an integer from {low} to {high}, not {raw!r}") from None
    if not low <= value <= high:
        raise RuntimeError(f"{name} must be an integer from {low} to {high}, not {value}")
    return value


def _env_list(name):
    return tuple(item.strip() for item in (_env(name) or "").split(",") if item.strip())


def _env_bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


DEVELOPMENT_SECRET_KEY = "dev-only-secret-change-me"


def install_secret(path: Path) -> str:
    """A random secret stored in `path` (created with mode 0600 the first time), the same on every start.

    Processes starting together (`contest dev`: server and worker) agree: only one creates the file (O_EXCL).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process is writing it
            value = path.read_text().strip()
            if len(value) >= 32:
                return value
            time.sleep(0.01)
        raise RuntimeError(f"{path} holds no usable secret: delete it or set SECRET_KEY") from None
    value = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


class Config:
    SECRET_KEY = _env("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    # Keyed hash for ID-card numbers; separate from SECRET_KEY so rotating one does not orphan the other.
    CCCD_HASH_KEY = _env("CCCD_HASH_KEY", "dev-only-cccd-key-change-me")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'contest.db'}")
    # Per process. Under gevent every greenlet that touches SQL holds a connection until its request
    # ends, so the default 5 + 10 ran dry under a login wave; PostgreSQL's max_connections must
    # cover (pool size + overflow) x app processes + workers.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": True,
        "pool_size": int(_env("DB_POOL_SIZE", "10")),
        "max_overflow": int(_env("DB_MAX_OVERFLOW", "20")),
        "pool_timeout": int(_env("DB_POOL_TIMEOUT", "15")),
    }
    LEADERBOARD_PUSH_BUDGET = int(_env("LEADERBOARD_PUSH_BUDGET", "2000"))
    # Garbage collection of the server and the worker (infra/gc_tuning.py, docs/runbook.md): freeze the
    # long-lived objects every N seconds (0: CPython's collector as is); a full collection once the frozen
    # set grew by GC_FULL_GROWTH_PERCENT since the last one.
    GC_FREEZE_EVERY_S = _env_int("GC_FREEZE_EVERY_S", 20, 0, 3600)
    GC_FULL_GROWTH = _env_int("GC_FULL_GROWTH_PERCENT", 50, 10, 1000) / 100 + 1
    # Page requests run at most this many at a time per process (0: no limit); see infra/admission.py.
    HTTP_CONCURRENCY = int(_env("HTTP_CONCURRENCY", "4"))
    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6390/0")
    SOCKETIO_MESSAGE_QUEUE = _env("SOCKETIO_MESSAGE_QUEUE")
    SOCKETIO_CORS_ORIGINS = _env("SOCKETIO_CORS_ORIGINS")

    SESSION_TYPE = "redis"
    SESSION_KEY_PREFIX = "sess:"
    SESSION_PERMANENT = True
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 7
    # A session with nobody logged in (a CSRF token of a form page, a language choice) lives this long in Redis.
    ANONYMOUS_SESSION_LIFETIME = _env_int("ANONYMOUS_SESSION_LIFETIME", 60 * 60 * 24, 60, 60 * 60 * 24 * 7)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 14

    # Reverse proxies in front of the app that are trusted to append X-Forwarded-For/-Proto (nginx: 1).
    # 0 (the default) ignores those headers: with no proxy, anyone could send them.
    PROXY_HOPS = _env_int("PROXY_HOPS", 0, 0, 5)
    # Security headers on every response; HSTS only where the site is served over HTTPS (production).
    CONTENT_SECURITY_POLICY = _env(
        "CONTENT_SECURITY_POLICY",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'",
    )
    HSTS_SECONDS = _env_int("HSTS_SECONDS", 0, 0, 2 * 365 * 24 * 3600)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; an exam page may stay open for an hour

    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    REGISTER_RATE_LIMIT = _env("REGISTER_RATE_LIMIT", "5 per minute;30 per hour")
    # Per account, whatever the address: after this many wrong passwords the account refuses every
    # login (the right password too) until the window since the first failure has passed.
    ACCOUNT_LOGIN_FAILURES = _env_int("ACCOUNT_LOGIN_FAILURES", 10, 1, 1000)
    ACCOUNT_LOCK_SECONDS = _env_int("ACCOUNT_LOCK_SECONDS", 15 * 60, 10, 24 * 3600)
    # Client addresses that no rate limit counts (comma-separated; after PROXY_HOPS is applied). Empty by
    # default; the load-test stack lists its load generator's address. Never list a proxy's address here.
    RATELIMIT_EXEMPT_ADDRESSES = _env_list("RATELIMIT_EXEMPT_ADDRESSES")

    # Password reset (contest.accounts.resets): requests per address, links per account per hour, link lifetime.
    PASSWORD_RESET_RATE_LIMIT = _env("PASSWORD_RESET_RATE_LIMIT", "5 per minute;20 per hour")
    PASSWORD_RESET_PER_ACCOUNT_HOUR = _env_int("PASSWORD_RESET_PER_ACCOUNT_HOUR", 3, 1, 100)
    PASSWORD_RESET_MINUTES = _env_int("PASSWORD_RESET_MINUTES", 30, 5, 24 * 60)
    # An organiser's reset link is handed over by phone or message, so it lives longer (still single-use).
    PASSWORD_RESET_ORGANISER_HOURS = _env_int("PASSWORD_RESET_ORGANISER_HOURS", 24, 1, 7 * 24)
    # The site's public address (https://thi.example.vn): links in e-mails are built from it, never from the
    # request's Host header (which an attacker chooses). Production sends no reset e-mail without it.
    PUBLIC_URL = _env("PUBLIC_URL")

    # Outgoing mail (infra.mail): "console" logs messages (development, tests); "smtp" sends them.
    MAIL_SENDER = _env("MAIL_SENDER", "console")
    MAIL_CONSOLE_FILE = _env("MAIL_CONSOLE_FILE")  # console sender: also append each message here (JSON lines)
    MAIL_FROM = _env("MAIL_FROM", "no-reply@localhost")
    MAIL_FROM_NAME = _env("MAIL_FROM_NAME", "Cuộc thi tìm hiểu pháp luật")
    SMTP_HOST = _env("SMTP_HOST", "localhost")
    SMTP_PORT = _env_int("SMTP_PORT", 587, 1, 65535)
    SMTP_SECURITY = _env("SMTP_SECURITY", "starttls")  # starttls | ssl | none
    SMTP_USERNAME = _env("SMTP_USERNAME")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_TIMEOUT = _env_int("SMTP_TIMEOUT", 10, 1, 120)

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "contest" / "translations")
    LANGUAGES = ("vi", "en")

    # /metrics answers only "Authorization: Bearer <token>" when set; production requires it.
    METRICS_TOKEN = _env("METRICS_TOKEN")
    LOG_FORMAT = _env("LOG_FORMAT", "text")  # "json" in production
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    # Without SECRET_KEY in the environment, `make run` signs cookies with a random key kept in var/secret_key
    # (created once, mode 0600), not with the published development value: a development server reachable
    # from the network (HOST=0.0.0.0) must not accept a remember-me cookie anyone could forge.
    SECRET_KEY_FILE = _env("SECRET_KEY_FILE", str(VAR_DIR / "secret_key"))

    @classmethod
    def finalise(cls, config):
        if config.get("SECRET_KEY") == DEVELOPMENT_SECRET_KEY:
            config["SECRET_KEY"] = install_secret(Path(config["SECRET_KEY_FILE"]))


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = _env_bool("WTF_CSRF_ENABLED", True)
    SECRET_KEY = _env("SECRET_KEY", "test-secret")
    CCCD_HASH_KEY = _env("CCCD_HASH_KEY", "test-cccd-key")


DEVELOPMENT_SECRETS = ("dev-only-secret-change-me", "dev-only-cccd-key-change-me", "test-secret", "test-cccd-key")


class ProductionConfig(Config):
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    # Only the production-like load-test stack on loopback, which has no TLS to terminate, sets this; never a
    # real deployment. Without it every cookie is Secure (and HttpOnly, SameSite) whatever the environment says.
    ALLOW_PLAIN_HTTP = _env_bool("ALLOW_PLAIN_HTTP", False)
    SESSION_COOKIE_SECURE = not ALLOW_PLAIN_HTTP
    REMEMBER_COOKIE_SECURE = not ALLOW_PLAIN_HTTP
    HSTS_SECONDS = 0 if ALLOW_PLAIN_HTTP else _env_int("HSTS_SECONDS", 365 * 24 * 3600, 0, 2 * 365 * 24 * 3600)
    # Production mails for real; the console sender (messages only in the log) needs MAIL_ALLOW_CONSOLE=1.
    MAIL_SENDER = _env("MAIL_SENDER", "smtp")
    MAIL_ALLOW_CONSOLE = _env_bool("MAIL_ALLOW_CONSOLE", False)
    REQUIRE_PUBLIC_URL = True  # reset links are built on PUBLIC_URL only (no Host-header poisoning)

    @classmethod
    def validate(cls, config=None):
        """Refuses to start with development secrets, a public /metrics or cookies without their flags."""
        config = config if config is not None else {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        for name in ("SECRET_KEY", "CCCD_HASH_KEY"):
            value = config.get(name) or ""
            if value.startswith("dev-only") or value in DEVELOPMENT_SECRETS or len(value) < 32:
                raise RuntimeError(f"{name} must be set in production to a random value of 32+ characters")
        token = config.get("METRICS_TOKEN") or ""
        if len(token) < 16:
            raise RuntimeError("METRICS_TOKEN (16+ characters) must be set in production: /metrics is not public")
        flags: tuple[str, ...] = ("SESSION_COOKIE_HTTPONLY", "REMEMBER_COOKIE_HTTPONLY")
        if not config.get("ALLOW_PLAIN_HTTP"):
            flags += ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE")
        if not all(config.get(flag) for flag in flags) or not config.get("SESSION_COOKIE_SAMESITE"):
            raise RuntimeError("session and remember-me cookies must be Secure, HttpOnly and SameSite in production")
        if config.get("MAIL_SENDER") == "console" and not config.get("MAIL_ALLOW_CONSOLE"):
            raise RuntimeError(
                "MAIL_SENDER=console only logs messages (password-reset links): refused in production "
                "unless MAIL_ALLOW_CONSOLE=1"
            )
        if config.get("SMTP_SECURITY") not in ("starttls", "ssl", "none"):
            raise RuntimeError("SMTP_SECURITY must be starttls, ssl or none")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env():
    return CONFIGS[_env("CONTEST_ENV", "development")]
