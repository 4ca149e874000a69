"""Issue 12, finding 6: bad input is never a 500. Every route of the URL map, as every role, on SQLite and PostgreSQL:
hostile values in the path (huge and negative numbers, Unicode digits, impossible dates, CR/LF, NUL, very long
strings), in the query string and in form posts (CSRF off in this test, so the forms' own checks are what answers).

A failure lists every request that answered 500 or raised, and every ERROR log record (a traceback) it caused.
"""

import logging
import time
from urllib.parse import quote

import pytest

from contest.accounts.models import User
from contest.rounds.models import Attempt, Round
from infra.extensions import db
from infra.forms import SafeForm
from tests.conftest import create_account, login
from tests.contest.judging_data import add_attempt, make_unit
from tests.contest.roundkit import make_round

ROLES = ["anonymous", "contestant", "organiser", "judge", "admin"]

# Path values: an `<int:...>` must be 404 for all of these but the valid "1"; other converters get the strings.
INT_PATH_VALUES = [
    "99999999999999999999",
    "2147483648",
    "0",
    "-1",
    quote("１"),
    "1%00",
    "1%0D%0A",
]
STRING_PATH_VALUES = [
    "%00",
    "%0D%0ALocation:%20//evil.example",
    quote("\u202e\u200b"),
    "x" * 3000,
    "2024-02-30",
    "..%2F..%2Fetc%2Fpasswd",
    quote("ｅｎ"),
]

# Query-string and form values; NUL is in the form values (a field error) and in the queries (a 400).
HOSTILE_VALUES = [
    "99999999999999999999",
    "-1",
    "0",
    "²",
    "１２",
    "2024-02-30",
    "0001-01-01T00:00",
    "\u202e\u200b",
    "/\t/evil.example",
    "\r\nSet-Cookie: x=1",
    "a\x00b",
    '=HYPERLINK("http://evil.example")',
    "x" * 3000,
]
QUERY_KEYS = [
    "trang",
    "page",
    "ma",
    "category",
    "q",
    "status",
    "difficulty",
    "tag",
    "loai",
    "doi-tuong",
    "dinh-dang",
    "next",
    "version",
    "format",
    "lang",
]
EXTRA_FORM_KEYS = ["next", "ids", "action", "target", "version", "device_id", "published", "lang", "format"]
SKIP_ENDPOINTS = {"static", "accounts.logout"}  # logging out would end the role's session mid-sweep


def _form_keys():
    """Every field name of every form in the project (and the raw names some views read)."""
    names = set(EXTRA_FORM_KEYS)
    pending = list(SafeForm.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            if getattr(unbound, "_formfield", False):
                names.add(name)
    for i in range(2):  # FieldList rows (the round form's blueprint and ranking rule)
        names.update({f"blueprint-{i}-count", f"blueprint-{i}-category_id", f"blueprint-{i}-difficulty"})
        names.add(f"ranking_rule-{i}")
    names.discard("csrf_token")
    return sorted(names)


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _seed(app):
    with app.app_context():
        round_ = make_round()
        unit = make_unit("Sở Tư pháp Nghệ An")
        db.session.commit()
        round_id, contest_id, unit_id = round_.id, round_.contest_id, unit.id
        slug = round_.contest.slug
    accounts = {role: create_account(app, role=role, unit_id=unit_id) for role in ROLES if role != "anonymous"}
    with app.app_context():
        user = db.session.get(User, accounts["contestant"][0])
        add_attempt(db.session.get(Round, round_id), user, correct=5, status="in_progress", questions=10)
        db.session.commit()
        attempt_id = db.session.scalar(db.select(Attempt.id))
    return accounts, {
        "round_id": round_id,
        "contest_id": contest_id,
        "attempt_id": attempt_id,
        "question_id": 1,
        "user_id": accounts["contestant"][0],
        "slug": slug,
        "lang": "en",
        "fmt": "gift",
        "name": "x.png",
    }


def _replace_arg(path, arg, value):
    start = 0
    while True:
        i = path.find("<", start)
        if i < 0:
            return path
        j = path.find(">", i)
        inner = path[i + 1 : j]
        if inner.split(":")[-1] == arg:
            return path[:i] + value + path[j + 1 :]
        start = j


def _hostile_paths(rule, ids):
    """(path, expected-404) for each hostile value in each argument, the other arguments valid."""
    for arg in rule.arguments:
        is_int = type(rule._converters[arg]).__name__ == "DatabaseIdConverter"
        for value in INT_PATH_VALUES if is_int else STRING_PATH_VALUES:
            path = rule.rule
            for other in rule.arguments:
                path = _replace_arg(path, other, value if other == arg else str(ids.get(other, 1)))
            yield path, is_int


@pytest.fixture
def sweep_app(any_db_app):
    return any_db_app


def test_no_route_answers_500_to_hostile_input(sweep_app):
    app = sweep_app
    accounts, ids = _seed(app)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP_ENDPOINTS]
    form_keys = _form_keys()
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    failures, count, started = [], 0, time.monotonic()

    spent = {}

    def call(client, method, path, **kwargs):
        nonlocal count
        count += 1
        t0 = time.monotonic()
        try:
            response = client.open(path, method=method, **kwargs)
            response.get_data()  # streamed bodies (exports) run here
            response.close()
        except Exception as exc:  # TESTING propagates what would be a 500
            failures.append(f"{method} {path[:120]} raised {exc.__class__.__name__}: {str(exc)[:200]}")
            return None
        finally:
            key = f"{method} {path.split('?')[0][:60]}"
            spent[key] = spent.get(key, 0) + time.monotonic() - t0
        if response.status_code >= 500 and not (path.startswith("/readyz") and response.status_code == 503):
            failures.append(f"{method} {path[:120]} answered {response.status_code}")
        return response

    try:
        for role in ROLES:
            client = app.test_client()
            if role != "anonymous":
                assert login(client, accounts[role][1]).status_code == 302
            for rule in rules:
                methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
                # the path: one hostile value at a time in each argument (routing is the same for every role, so
                # the admin, who passes every guard, suffices); an int argument out of range is a 404 for anyone
                if role == "admin":
                    for path, must_404 in _hostile_paths(rule, ids):
                        response = call(client, methods[0], path)
                        if must_404 and response is not None and response.status_code != 404:
                            failures.append(f"{methods[0]} {path[:80]} answered {response.status_code}, not 404")
                path = _valid_path(rule, ids)
                # every value as the admin (whose role passes every guard, so every view reads its input); the other
                # roles reach fewer views (a redirect or a 403 first), a third of the values each
                values = HOSTILE_VALUES if role == "admin" else HOSTILE_VALUES[::3]
                if "GET" in methods:
                    for value in values:
                        query = dict.fromkeys(QUERY_KEYS, value)
                        response = call(client, "GET", path, query_string=query)
                        if response is not None and "\x00" in value and response.status_code != 400:
                            failures.append(f"GET {path} with NUL in the query answered {response.status_code}")
                if "POST" in methods:
                    for value in values:
                        call(client, "POST", path, data=dict.fromkeys(form_keys, value))
                        if rule.endpoint == "bank.bulk":  # valid ids and action, hostile target and next
                            data = {"ids": [value, "1"], "next": value, "action": "move", "target": value}
                            call(client, "POST", path, data=data)
    finally:
        logging.getLogger().removeHandler(errors)
    elapsed = time.monotonic() - started
    tracebacks = [f"{r.name}: {r.getMessage()[:200]}" for r in errors.records]
    assert not failures and not tracebacks, "\n".join(failures[:60] + tracebacks[:20])
    assert count > 2000, count  # it really walked the map
    slowest = sorted(spent.items(), key=lambda kv: -kv[1])[:8]
    assert elapsed < 100, f"{count} requests took {elapsed:.0f} s; slowest: {slowest}"


def _valid_path(rule, ids):
    path = rule.rule
    for arg in rule.arguments:
        path = _replace_arg(path, arg, str(ids.get(arg, 1)))
    return path
