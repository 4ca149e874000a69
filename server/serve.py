"""Production-style server: gevent's WSGI server with Flask-SocketIO in gevent mode.

Run as `python -m server.serve` (what `contest serve` execs): monkey-patching must happen
before anything imports socket, ssl or threading.
"""

from gevent import monkey

monkey.patch_all()

import argparse
import logging
import signal
import sys

import gevent
from gevent.util import format_run_info

from infra.wsgi_handler import ContestWSGIHandler


def _dump_greenlets_on_sigusr1():
    """`kill -USR1 <pid>` writes every greenlet's stack to stderr: where a stuck process waits."""

    def dump():
        sys.stderr.write("\n".join(format_run_info()) + "\n")
        sys.stderr.flush()

    gevent.signal_handler(signal.SIGUSR1, dump)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve the contest platform (gevent)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument(
        "--backlog",
        type=int,
        default=4096,
        help="listen queue for connection bursts (the kernel caps it at net.core.somaxconn)",
    )
    args = parser.parse_args(argv)

    # Imported here, after monkey-patching and argument parsing: `--help` answers without building the app.
    from infra.extensions import socketio
    from infra.gc_tuning import policy_from_config
    from infra.profiling import install_from_environment
    from server.app import create_app

    app = create_app()
    _dump_greenlets_on_sigusr1()
    install_from_environment()  # kill -USR2 samples the stacks (CONTEST_PROFILE_DIR, load tests only)
    # Long-lived connection objects leave the collector's full passes (infra/gc_tuning.py).
    gc_policy = policy_from_config(app.config).install()
    if gc_policy.enabled:
        gevent.spawn(gc_policy.run_forever, gevent.sleep)
    logging.getLogger("contest").info("serving on http://%s:%s (gevent)", args.host, args.port)
    socketio.run(
        app,
        host=args.host,
        port=args.port,
        log_output=args.access_log,
        use_reloader=False,
        handler_class=ContestWSGIHandler,
        backlog=args.backlog,
    )


if __name__ == "__main__":
    main()
