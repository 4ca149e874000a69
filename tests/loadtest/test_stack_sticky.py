"""The stack's nginx keeps a client on one app process: long-polling works across 2 processes, WebSocket too."""

import pytest
import socketio

from loadtests.stack import Stack
from tests.live import http_login

pytestmark = pytest.mark.slow  # starts nginx and two app processes


def test_polling_and_websocket_through_nginx_with_two_processes(tmp_path):
    with Stack(tmp_path / "run", procs=2, seed_users=3) as stack:
        for index, transport in enumerate(("polling", "websocket", "polling"), start=1):
            http = http_login(stack.url, f"059900000{index}", "thitai12345")
            # http_session: every poll carries the session cookie, as a browser's requests do; nginx
            # hashes that cookie, so every poll of this Engine.IO session reaches the same process.
            client = socketio.Client(reconnection=False, http_session=http)
            client.connect(stack.url, transports=[transport], wait_timeout=10)
            try:
                assert client.transport() == transport
                for _ in range(5):  # several polls, each would be refused by the other process
                    assert client.call("whoami", {}, timeout=5)["ok"] is True
            finally:
                client.disconnect()
        # Upgrade headers reached the app: the WebSocket client above did not fall back to polling.
        assert "[emerg]" not in (tmp_path / "run" / "nginx" / "error.log").read_text()
