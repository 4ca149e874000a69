"""/metrics: Prometheus text from this process, fed by the helpers the live-attempt code calls."""

import time

import redis
import requests
from prometheus_client.parser import text_string_to_metric_families

from contest.rounds.live_state import ANSWER_STREAM, StreamEntry, encode_entry
from infra import metrics
from infra.clock import redis_time_ms
from tests.conftest import PASSWORD, create_account, make_app
from tests.live import connect_socket, http_login


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_lists_every_family_and_times_a_redis_ping(client):
    samples = scrape(client)
    names = {name for name, _ in samples}
    for expected in (
        "contest_connected_contestants",
        "contest_answers_accepted_total",
        "contest_answer_ack_seconds_count",
        "contest_write_behind_lag_seconds",
        "contest_write_behind_pending",
    ):
        assert expected in names, expected
    # The scrape itself pinged the real Redis and recorded how long it took.
    first = value(samples, "contest_redis_command_seconds_count", command="ping")
    assert first >= 1
    assert value(scrape(client), "contest_redis_command_seconds_count", command="ping") == first + 1


def test_helpers_move_the_counters_gauge_and_histogram(client):
    before = scrape(client)
    metrics.contestant_connected()
    metrics.contestant_connected()
    metrics.contestant_disconnected()
    metrics.answer_accepted(0.004)
    metrics.answer_accepted(0.3)
    metrics.answer_refused("deadline")
    with metrics.redis_timer("answer_script"):
        pass
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("contest_connected_contestants") == 1
    assert delta("contest_answers_accepted_total") == 2
    assert delta("contest_answers_refused_total", reason="deadline") == 1
    assert delta("contest_answer_ack_seconds_count") == 2
    # 4 ms lands in the 5 ms bucket, 300 ms only above the 250 ms target bucket.
    assert delta("contest_answer_ack_seconds_bucket", le="0.005") == 1
    assert delta("contest_answer_ack_seconds_bucket", le="0.25") == 1
    assert delta("contest_answer_ack_seconds_bucket", le="0.35") == 2
    assert delta("contest_redis_command_seconds_count", command="answer_script") == 1


def test_write_behind_probe_is_read_at_scrape_time(client):
    calls = []

    def probe():
        calls.append(1)
        return 2.5, 17

    metrics.write_behind_probe(probe)
    try:
        samples = scrape(client)
    finally:
        metrics.write_behind_probe(None)
    assert calls == [1]
    assert value(samples, "contest_write_behind_lag_seconds") == 2.5
    assert value(samples, "contest_write_behind_pending") == 17


def test_a_failing_probe_does_not_break_the_scrape(client):
    def probe():
        raise RuntimeError("stream missing")

    metrics.write_behind_probe(probe)
    try:
        assert "contest_write_behind_lag_seconds" in {name for name, _ in scrape(client)}
    finally:
        metrics.write_behind_probe(None)


def test_metrics_token_is_required_when_configured(sqlite_url, redis_url):
    client = make_app(sqlite_url, redis_url, METRICS_TOKEN="s3cret").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and b"contest_answers_accepted_total" in ok.data


def test_metrics_are_served_by_a_real_server_process(live_server):

    response = requests.get(live_server.url + "/metrics", timeout=5)
    assert response.status_code == 200
    assert "contest_connected_contestants" in response.text


def test_write_behind_lag_is_read_from_the_answers_stream(client, redis_url):
    """The app watches the stream the answer script appends to (wired by the composition root)."""

    r = redis.Redis.from_url(redis_url, decode_responses=True)
    assert value(scrape(client), "contest_write_behind_pending") == 0
    assert value(scrape(client), "contest_write_behind_lag_seconds") == 0
    old_ms = redis_time_ms(r.time()) - 3000  # an answer appended 3 s ago, still not in SQL
    r.xadd(ANSWER_STREAM, encode_entry(StreamEntry(1, 2, [3], 1, old_ms)), id=f"{old_ms}-0")
    r.xadd(ANSWER_STREAM, encode_entry(StreamEntry(1, 3, [4], 2, old_ms)))
    samples = scrape(client)
    assert value(samples, "contest_write_behind_pending") == 2
    assert 2.9 <= value(samples, "contest_write_behind_lag_seconds") < 10
    r.delete(ANSWER_STREAM)  # what the worker does once SQL committed (XDEL); the next scrape reads it
    assert value(scrape(client), "contest_write_behind_pending") == 0


def test_socketio_connections_are_counted_by_the_serving_process(live_server, server_factory, redis_url):

    def connections():
        text = requests.get(live_server.url + "/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            if family.name == "contest_socketio_connections":
                return family.samples[0].value
        raise AssertionError("gauge missing")

    assert connections() == 0
    _, phone = create_account(make_app(server_factory.database_url, redis_url))
    client = connect_socket(live_server.url, http_login(live_server.url, phone, PASSWORD))
    try:
        assert connections() == 1
    finally:
        client.disconnect()

    deadline = time.monotonic() + 5
    while connections() != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert connections() == 0
