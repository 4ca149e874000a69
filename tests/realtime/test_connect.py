"""The Socket.IO server refuses anonymous sockets and shares the Redis session with pages."""
import pytest
import socketio

from tests.conftest import PASSWORD, create_account, make_app
from tests.live import connect_socket, http_login


def test_anonymous_socket_is_refused(live_server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect_socket(live_server.url)


def test_logged_in_socket_is_accepted_over_websocket(live_server, server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    user_id, phone = create_account(app)
    http = http_login(live_server.url, phone, PASSWORD)
    client = connect_socket(live_server.url, http)
    try:
        assert client.transport() == "websocket"
        reply = client.call("whoami", {}, timeout=5)
        assert reply == {"ok": True, "user_id": user_id, "role": "contestant"}
    finally:
        client.disconnect()
