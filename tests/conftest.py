"""Fixtures on real parts: a redis-server per session, SQLite and PostgreSQL databases, app servers, Chromium."""

import itertools
import os
import shutil
import tempfile
import uuid
from datetime import date

import pytest
import redis as redis_lib
from flask_migrate import upgrade

from infra.config import TestingConfig
from infra.extensions import db
from infra.localpostgres import postgres_bindir
from infra.localredis import LocalRedis
from server.app import create_app
from tests.harness import PostgresCluster, ServerProcess

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "matkhau123"
_phones = itertools.count(1)


def next_phone():
    """A fresh valid mobile number per call, unique across the session."""
    return f"09{os.getpid() % 100:02d}{next(_phones):06d}"


def make_app(db_url, redis_url, **overrides):
    config = dict(
        SQLALCHEMY_DATABASE_URI=db_url,
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_ENABLED=False,
        WTF_CSRF_ENABLED=False,
        SERVER_NAME=None,
    )
    config.update(overrides)
    return create_app(TestingConfig, **config)


def _migrate(app):
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        db.engine.dispose()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = LocalRedis(tmp_path_factory.mktemp("redis"), appendfsync="always").start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    redis_lib.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, redis_server):
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _migrate(make_app(f"sqlite:///{path}", redis_server.url))
    return path


@pytest.fixture(scope="session")
def postgres():
    if postgres_bindir() is None:
        yield None
        return
    # pytest's temp dirs are private to root; the cluster runs as 'postgres' and needs its own.
    base = tempfile.mkdtemp(prefix="contest-pg-")
    cluster = PostgresCluster(base).start()
    yield cluster
    cluster.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_template(postgres, redis_server):
    if postgres is None:
        return None
    postgres.psql("CREATE DATABASE contest_template")
    _migrate(make_app(postgres.url("contest_template"), redis_server.url))
    return "contest_template"


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    target = tmp_path / "test.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(sqlite_url, redis_url):
    app = make_app(sqlite_url, redis_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request, redis_url):
    """The same test on SQLite and on PostgreSQL (a fresh database cloned from a migrated template)."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
    else:
        postgres = request.getfixturevalue("postgres")
        if postgres is None:
            pytest.skip("PostgreSQL server binaries are not installed (make test installs them)")
        pg_template = request.getfixturevalue("pg_template")
        name = "t_" + uuid.uuid4().hex[:12]
        postgres.psql(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        url = postgres.url(name)
    app = make_app(url, redis_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context for calling domain functions directly."""
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def create_account(app, role="contestant", phone=None, password=PASSWORD, **fields):
    from contest.accounts.services import create_user

    with app.app_context():
        user = create_user(
            phone=phone or next_phone(),
            password=password,
            full_name=fields.pop("full_name", "Nguyễn Văn An"),
            date_of_birth=fields.pop("date_of_birth", date(1995, 3, 2)),
            role=role,
            **fields,
        )
        return user.id, user.phone


def login(client, phone, password=PASSWORD):
    return client.post("/dang-nhap", data={"login": phone, "password": password}, follow_redirects=False)


@pytest.fixture
def server_factory(tmp_path_factory, sqlite_template, redis_url):
    """Starts real app servers (`python -m server.serve`) sharing one database and Redis."""
    started = []
    base = tmp_path_factory.mktemp("live")
    db_file = base / "live.db"
    shutil.copy(sqlite_template, db_file)

    def start(database_url=None, port=None, **env):
        full_env = {
            "CONTEST_ENV": "testing",
            "DATABASE_URL": database_url or f"sqlite:///{db_file}",
            "REDIS_URL": redis_url,
            "SOCKETIO_MESSAGE_QUEUE": redis_url,
            "SECRET_KEY": "live-test-secret",
            "CCCD_HASH_KEY": "live-test-cccd",
            "RATELIMIT_ENABLED": "0",
            **env,
        }
        # port: reuse the port of a killed server, as a restarted process behind the same address would
        server = ServerProcess(full_env, port=port, log_path=base / f"server-{len(started)}.log")
        started.append(server)
        return server.start()

    start.database_url = f"sqlite:///{db_file}"
    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_server(server_factory):
    return server_factory()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium package")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A phone-sized page: most contestants are on mobile."""
    context = browser.new_context(
        locale="vi-VN", viewport={"width": 390, "height": 844}, timezone_id="Asia/Ho_Chi_Minh"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


# --- Test lanes: `make test` runs everything, `make test-fast` runs -m "not browser and not slow" ---
# A test is marked by the fixtures it needs (item.fixturenames is the full closure, so a fixture that
# starts a server through another counts too): a new test lands in its lane without a hand-written marker.
# Modules that start processes themselves (workers, the load-test stack) carry `pytestmark = pytest.mark.slow`.
BROWSER_FIXTURES = frozenset({"browser", "page"})  # headless Chromium through Playwright
SLOW_FIXTURES = frozenset({"server_factory", "live_server"})  # `python -m server.serve` processes


def pytest_collection_modifyitems(items):
    for item in items:
        needed = set(getattr(item, "fixturenames", ()))
        if needed & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if needed & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
