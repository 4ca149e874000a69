"""Every infrastructure object is created here once and bound to the app in create_app()."""

from typing import TYPE_CHECKING

import redis
from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_session import Session
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # mypy cannot see through Flask-SQLAlchemy's dynamically built db.Model; it is a subclass of Base.
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()
server_session = Session()
socketio = SocketIO()


class RedisClients:
    """Holds the app's Redis connection pools: text for domain data, bytes for Flask-Session."""

    def init_app(self, app):
        url = app.config["REDIS_URL"]
        app.extensions["redis"] = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
        app.extensions["redis_bytes"] = redis.Redis.from_url(url, health_check_interval=30)


redis_clients = RedisClients()


def get_redis() -> redis.Redis:
    """The shared text-mode Redis client of the current app."""
    return current_app.extensions["redis"]
