"""Reads an uploaded file in a child process, so that parsing it cannot stall a live server.

openpyxl and the text readers are pure Python: on a native thread they would still hold the GIL most of the
time, and on the gevent loop every Socket.IO connection of the process waits for them. A child process costs
~0.3 s to start and runs on the other core; the server's greenlet waits for it cooperatively (gevent patches
`subprocess`). The child has a memory and CPU ceiling besides the import limits of `base`, and the parent a
timeout, so even a file that slipped past the limits costs at most that much. The CLI reads in its own process.
"""

import os
import pickle
import resource
import subprocess
import sys

from flask import Flask
from flask_babel import Babel
from flask_babel import gettext as _

from question_bank.formats import ParseIssue, ParseResult, UndecodableFile, read

TIMEOUT_SECONDS = 60
MEMORY_LIMIT = 1024 * 2**20  # address space of the child: a decompression bomb fails there, not in the server
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_isolated(fmt: str, data: bytes, default_category: tuple[str, ...], locale: str) -> ParseResult:
    """formats.read() run in a child process; its messages in `locale` ("vi" or "en")."""
    payload = pickle.dumps((fmt, data, tuple(default_category), locale), protocol=pickle.HIGHEST_PROTOCOL)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_PROJECT_ROOT, os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "question_bank.formats.isolated"],
            input=payload,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            cwd=_PROJECT_ROOT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        message = _("Đọc tệp mất hơn %(n)s giây nên đã dừng; vui lòng chia nhỏ tệp.", n=TIMEOUT_SECONDS)
        return ParseResult(errors=[ParseIssue(0, message)])
    if done.returncode != 0 or not done.stdout:
        # MemoryError or the CPU limit in the child: the file is what is wrong, the server is fine
        tail = done.stderr.decode("utf-8", "replace")[-1000:]
        if "MemoryError" in tail or done.returncode < 0:
            return ParseResult(errors=[ParseIssue(0, _("Tệp cần quá nhiều bộ nhớ để đọc; vui lòng chia nhỏ tệp."))])
        raise RuntimeError(f"the import reader failed ({done.returncode}): {tail}")
    result = pickle.loads(done.stdout)  # written by our own child just above
    if not isinstance(result, ParseResult):
        raise RuntimeError("the import reader returned something else than a ParseResult")
    return result


def _limit_resources():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (TIMEOUT_SECONDS, TIMEOUT_SECONDS))


def main():
    _limit_resources()
    fmt, data, default_category, locale = pickle.load(sys.stdin.buffer)
    # The readers' messages go through Flask-Babel: a bare app with the project's catalog and the caller's locale.
    app = Flask("question_bank.formats.isolated")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(_PROJECT_ROOT, "contest", "translations")
    Babel(app, locale_selector=lambda: locale)
    with app.test_request_context():
        try:
            result = read(fmt, data, default_category)
        except UndecodableFile as exc:
            result = ParseResult(errors=[ParseIssue(0, str(exc))])
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
