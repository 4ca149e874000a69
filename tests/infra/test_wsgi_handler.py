"""The server turns Nagle off on every connection (headers and body leave in separate sends)."""

import socket

from infra.wsgi_handler import ContestWSGIHandler


class _Server:
    application = None
    environ = {}
    max_accept = 1
    log = None
    error_log = None


class _Recording(ContestWSGIHandler):
    seen = None

    def handle_one_request(self):  # what the socket looks like when the first request is read
        type(self).seen = self.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        return None


def test_handler_sets_tcp_nodelay_on_the_accepted_socket():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, address = listener.accept()
    try:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        _Recording(accepted, address, _Server()).handle()
        assert _Recording.seen != 0
    finally:
        client.close()
        accepted.close()
        listener.close()
