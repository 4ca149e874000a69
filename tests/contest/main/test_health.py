"""Liveness and readiness probes."""

from infra.processes import free_port
from tests.conftest import make_app


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"redis": "ok", "database": "ok"}


def test_readyz_reports_unreachable_redis(sqlite_url):
    app = make_app(sqlite_url, f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")
    assert response.json["checks"]["database"] == "ok"
