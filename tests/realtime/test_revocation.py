"""Issue 12: a password change or "sign out everywhere" also closes the account's open sockets, on every process."""

import time

import pytest
import socketio

from tests.conftest import PASSWORD, create_account, make_app
from tests.live import connect_socket, csrf_token, http_login


def test_sign_out_everywhere_closes_open_sockets_on_another_process(server_factory, redis_url):
    first, second = server_factory(), server_factory()
    app = make_app(server_factory.database_url, redis_url)
    _, phone = create_account(app)
    _, other_phone = create_account(app)
    lost_device = http_login(first.url, phone, PASSWORD)
    stolen = connect_socket(first.url, lost_device)
    bystander = connect_socket(first.url, http_login(first.url, other_phone, PASSWORD))
    assert stolen.connected and bystander.connected

    owner = http_login(second.url, phone, PASSWORD)  # the owner, served by the other app process
    token = csrf_token(owner.get(second.url + "/tai-khoan").text)
    response = owner.post(second.url + "/tai-khoan/dang-xuat-moi-noi", data={"csrf_token": token})
    assert response.status_code in (200, 302)

    deadline = time.monotonic() + 10
    while stolen.connected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not stolen.connected
    assert bystander.connected  # another account's socket stays open
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect_socket(first.url, lost_device)  # and the ended session cannot open a new one
    assert connect_socket(second.url, owner).connected  # the owner's own, reissued session still can
    bystander.disconnect()
