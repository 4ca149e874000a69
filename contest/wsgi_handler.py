"""The gevent WSGI connection handler the server uses (see contest/serve.py)."""
import socket

from gevent import pywsgi


class NoDelayHandler(pywsgi.WSGIHandler):
    """pywsgi writes a response's headers and body in two send() calls. On a keep-alive connection
    (nginx upstream keepalive, browsers, Locust) Nagle's algorithm then holds the body until the
    peer's delayed ACK of the headers: ~40 ms added to every request. TCP_NODELAY sends at once."""

    def handle(self):
        try:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # a Unix socket has no Nagle
            pass
        return super().handle()
