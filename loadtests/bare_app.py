"""The framework's ceiling: a bare Flask-SocketIO app that only acknowledges, for `make loadtest BARE=1`.

Same stack as the project's app processes (gevent's WSGI server with the project's handler, Flask-SocketIO in
gevent mode, WebSocket through simple-websocket, the same frame limit, the same GC policy) and the same
protocol surface the load generators use (log in, start, join, answer), but no session, database, Redis or
checks: what is left is the cost of the framework itself. Run as `python -m loadtests.bare_app --port N`.
"""

import os

# BARE_ASYNC_MODE=eventlet measures the other async library Flask-SocketIO supports (docs/runbook.md); it is not
# a dependency of the project: `pip install eventlet` first.
ASYNC_MODE = os.environ.get("BARE_ASYNC_MODE", "gevent")
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
else:
    import gevent
    from gevent import monkey

    monkey.patch_all()

import argparse
import itertools
import secrets

from flask import Flask, make_response, redirect
from flask_socketio import SocketIO

from infra.gc_tuning import GcPolicy
from infra.profiling import install_from_environment
from infra.wsgi_handler import ContestWSGIHandler

QUESTIONS = 30
FORM = '<form method="post"><input name="csrf_token" type="hidden" value="bare"></form>'
_attempts = itertools.count(1)


def create_app() -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode=ASYNC_MODE, max_http_buffer_size=16 * 1024)
    state = {
        "questions": [
            {"id": f"q{i}", "text": "?", "options": [{"id": f"o{i}{j}", "text": "-"} for j in range(4)]}
            for i in range(QUESTIONS)
        ],
        "answers": {},
        "seq": 0,
    }

    @app.get("/healthz")
    @app.get("/readyz")
    def health():
        return "ok"

    @app.get("/")
    @app.get("/dang-nhap")
    def page():
        return FORM

    @app.post("/dang-nhap")
    def login():
        response = make_response(redirect("/"))
        response.set_cookie("session", secrets.token_urlsafe(16))
        return response

    @app.post("/vong-thi/<int:round_id>/bat-dau")
    def start(round_id):
        return redirect(f"/luot-thi/{next(_attempts)}")

    @socketio.on("attempt:join")
    def join(data=None):
        return {"ok": True, "state": state}

    @socketio.on("answer")
    def answer(data=None):
        return {"ok": True, "seq": data.get("seq"), "question_id": data.get("question_id")}

    return app, socketio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--backlog", type=int, default=4096)
    args = parser.parse_args(argv)
    app, socketio = create_app()
    install_from_environment()
    freeze = float(os.environ.get("GC_FREEZE_EVERY_S", "20"))
    policy = GcPolicy(freeze_every_s=freeze).install()
    if ASYNC_MODE == "eventlet":
        if policy.enabled:
            eventlet.spawn(policy.run_forever, eventlet.sleep)
        # eventlet.wsgi serves at most max_size (1,024) connections at once unless raised.
        max_size = int(os.environ.get("BARE_EVENTLET_MAX_SIZE", "100000"))
        socketio.run(app, host=args.host, port=args.port, log_output=False, max_size=max_size)
        return
    if policy.enabled:
        gevent.spawn(policy.run_forever, gevent.sleep)
    socketio.run(
        app, host=args.host, port=args.port, log_output=False, handler_class=ContestWSGIHandler, backlog=args.backlog
    )


if __name__ == "__main__":
    main()
