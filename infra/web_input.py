"""Untrusted web input, checked once for every page: ids in URLs, integers in query strings, redirect targets,
and NUL or other control characters in form fields.

Every rule here refuses rather than repairs: an id that cannot exist is a 404, an integer out of range falls back
to its default (or is a field error in a form), a `next` that is not a plain path on this site is ignored.
"""

import re
import unicodedata

from flask import abort, request
from werkzeug.routing import IntegerConverter

# The largest value of a PostgreSQL INTEGER column (every id and count in the schema): a bigger number in a URL or a
# form would be an error from the database (psycopg: "integer out of range") instead of "not found".
MAX_DB_INT = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits only, 1..2**31-1, else 404 (never a database error).

    Registered as the app's `int` converter by the composition root, so no route can forget it. Werkzeug's own
    accepts any Unicode digit (`\\d`) and any size.
    """

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_DB_INT, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)  # never signed: ids are positive


_ASCII_INT = re.compile(r"[+-]?[0-9]{1,10}")


def parse_int(raw, lo=1, hi=MAX_DB_INT):
    """`raw` as an int when it is a plain ASCII integer within lo..hi, else None (no exception on any input)."""
    if raw is None:
        return None
    raw = str(raw).strip()
    if not _ASCII_INT.fullmatch(raw):
        return None
    value = int(raw)
    return value if lo <= value <= hi else None


def int_arg(args, name, default=None, lo=1, hi=MAX_DB_INT):
    """An integer from a query string or form (a MultiDict) within lo..hi; the default when absent or out of range.

    Use instead of `request.args.get(name, type=int)`, which accepts any size and Unicode digits.
    """
    value = parse_int(args.get(name), lo, hi)
    return default if value is None else value


def int_list(args, name, lo=1, hi=MAX_DB_INT, limit=10_000):
    """Every valid integer among a repeated field (checkbox ids), at most `limit` of them; invalid ones are dropped."""
    values = []
    for raw in args.getlist(name)[:limit]:
        value = parse_int(raw, lo, hi)
        if value is not None:
            values.append(value)
    return values


def safe_next(target):
    """`target` when it is a path on this site (`/...`), else None: the one check of every `next` redirect.

    Refused: empty, anything not starting with a single `/`, `//` and `/\\` (browsers read both as another host),
    a scheme or host, and any control character or whitespace anywhere (browsers drop tab, CR and LF inside a
    URL, so `/\\t/evil.example` becomes `//evil.example`).
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    for ch in target:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Zs"):
            return None
    return target


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control(value):
    """True when a submitted string holds a control character other than tab, CR and LF (NUL above all:
    PostgreSQL refuses it in text, so it must never reach SQL)."""
    return isinstance(value, str) and _CONTROL.search(value) is not None


def install(app):
    """Registers the bounded `int` converter (before any blueprint adds its rules) and refuses a path (404) or a
    query string (400) holding control characters before any view reads it."""
    app.url_map.converters["int"] = DatabaseIdConverter

    @app.before_request
    def refuse_control_characters_in_query():
        if has_control(request.path):  # no page has such a name (and PostgreSQL refuses NUL in a lookup)
            abort(404)
        for key, values in request.args.lists():
            if has_control(key) or any(has_control(v) for v in values):
                abort(400)


def choice_id(value):
    """A SelectField `coerce` for ids whose choices the field does not check: an id (or the 0 some selects use for
    "none" or "all") as an int, and -1 for anything else (a 30-digit number, Unicode digits, text). No row has
    id -1, so the service answers "does not exist" instead of the database failing, and nothing is silently
    read as 0."""
    value = parse_int(value, 0)
    return -1 if value is None else value
