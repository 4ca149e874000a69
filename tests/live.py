"""Helpers for talking to a live server as a real client does: HTTP with CSRF, then Socket.IO."""

import re

import requests
import socketio

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


def http_login(base_url: str, phone: str, password: str) -> requests.Session:
    http = requests.Session()
    token = csrf_token(http.get(base_url + "/dang-nhap").text)
    response = http.post(
        base_url + "/dang-nhap", data={"login": phone, "password": password, "csrf_token": token}, allow_redirects=False
    )
    assert response.status_code == 302, response.text[:500]
    return http


def connect_socket(base_url: str, http: requests.Session | None = None, transports=("websocket",)) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    headers = {}
    if http is not None:
        headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    client.connect(base_url, headers=headers, transports=list(transports), wait_timeout=10)
    return client
