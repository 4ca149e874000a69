"""Configuration classes; every setting that differs between deployments is read from the environment."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONTEST_VAR_DIR", PROJECT_ROOT / "var"))


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class Config:
    SECRET_KEY = _env("SECRET_KEY", "dev-only-secret-change-me")
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
    # Page requests run at most this many at a time per process (0: no limit); see infra/admission.py.
    HTTP_CONCURRENCY = int(_env("HTTP_CONCURRENCY", "4"))
    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6390/0")
    SOCKETIO_MESSAGE_QUEUE = _env("SOCKETIO_MESSAGE_QUEUE")
    SOCKETIO_CORS_ORIGINS = _env("SOCKETIO_CORS_ORIGINS")

    SESSION_TYPE = "redis"
    SESSION_KEY_PREFIX = "sess:"
    SESSION_PERMANENT = True
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 7
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SAMESITE = "Lax"

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session; an exam page may stay open for an hour

    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = _env("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    REGISTER_RATE_LIMIT = _env("REGISTER_RATE_LIMIT", "5 per minute;30 per hour")

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "contest" / "translations")
    LANGUAGES = ("vi", "en")

    LOG_FORMAT = _env("LOG_FORMAT", "text")  # "json" in production
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = _env_bool("WTF_CSRF_ENABLED", True)
    SECRET_KEY = _env("SECRET_KEY", "test-secret")
    CCCD_HASH_KEY = _env("CCCD_HASH_KEY", "test-cccd-key")


class ProductionConfig(Config):
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)

    @classmethod
    def validate(cls):
        if cls.SECRET_KEY.startswith("dev-only") or cls.CCCD_HASH_KEY.startswith("dev-only"):
            raise RuntimeError("SECRET_KEY and CCCD_HASH_KEY must be set in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env():
    return CONFIGS[_env("CONTEST_ENV", "development")]
