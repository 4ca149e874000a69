"""Production-style server: gevent's WSGI server with Flask-SocketIO in gevent mode.

Run as `python -m contest.serve` (what `contest serve` execs): monkey-patching must happen
before anything imports socket, ssl or threading.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402


def websocket_closing_handler():
    """gevent's WSGI handler, closing the connection once a WebSocket request is over.

    Without gevent-websocket, simple-websocket takes the socket over from gevent's pywsgi (answering
    the upgrade itself). When the WebSocket ends, pywsgi believes an HTTP/1.1 response went out on a
    keep-alive connection and reads the next "request": the client's last WebSocket frames (its close
    frame, "\\x88\\x82…"), logged as "Invalid HTTP method" with a 400 written into the dead WebSocket.
    An upgraded connection never carries HTTP again, so it is closed instead; other requests keep
    keep-alive and every other client error is still logged."""
    from gevent.pywsgi import WSGIHandler

    class WebSocketClosingHandler(WSGIHandler):
        def handle_one_response(self):
            super().handle_one_response()
            if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                self.close_connection = True

    return WebSocketClosingHandler


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve the contest platform (gevent)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    from contest import create_app
    from contest.extensions import socketio

    app = create_app()
    logging.getLogger("contest").info("serving on http://%s:%s (gevent)", args.host, args.port)
    socketio.run(app, host=args.host, port=args.port, log_output=args.access_log, use_reloader=False,
                 handler_class=websocket_closing_handler())


if __name__ == "__main__":
    main()
