"""The gevent WSGI connection handler the server uses (see server/serve.py)."""

import socket

from gevent import pywsgi


class ContestWSGIHandler(pywsgi.WSGIHandler):
    """gevent's handler with two fixes for how this app uses connections.

    * TCP_NODELAY: pywsgi writes a response's headers and body in two send() calls. On a
      keep-alive connection (nginx upstream keepalive, browsers, Locust) Nagle's algorithm then
      holds the body until the peer's delayed ACK of the headers: ~40 ms added to every request.
    * WebSocket close: without gevent-websocket, simple-websocket takes the socket over from
      pywsgi (answering the upgrade itself). When the WebSocket ends, pywsgi believes an HTTP/1.1
      response went out on a keep-alive connection and reads the next "request": the client's last
      WebSocket frames (its close frame, "\x88\x82..."), logged as "Invalid HTTP method" with a 400
      written into the dead WebSocket. An upgraded connection never carries HTTP again, so it is
      closed instead; other requests keep keep-alive and every other client error is still logged.
    """

    def handle(self):
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # a Unix socket has no Nagle
            pass
        return super().handle()

    def handle_one_response(self):
        super().handle_one_response()
        if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            self.close_connection = True
