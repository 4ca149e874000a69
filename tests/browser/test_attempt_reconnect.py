"""The network cut: answers chosen while the server is gone are kept by the page and resent once it is back.

The server process is killed (the open WebSocket dies with it, as in a cut) and a new one is started on the
same port, as a restarted process behind the same address would be; Redis keeps the attempt meanwhile."""

import json
import re

import pytest
import redis
from playwright.sync_api import expect

from contest.rounds import worker
from contest.rounds.live_state import ANSWER_STREAM, answers_key, decode_entry, decode_saved
from contest.rounds.models import AttemptAnswer, Round
from infra.extensions import db, get_redis
from tests.browser.session import log_in
from tests.conftest import create_account
from tests.realtime.test_play import setup_round

pytestmark = pytest.mark.browser


def _wrong(question, keys):
    return next(o["id"] for o in question["options"] if o["id"] not in keys[question["id"]])


def test_answers_chosen_offline_are_resent_after_reconnect_and_saved_once(page, server_factory, redis_url):
    app, round_id, keys = setup_round(server_factory, redis_url, time_limit_seconds=900, prediction=False)
    first = server_factory()
    base = first.url
    _, phone = create_account(app)
    log_in(page, base, phone)
    with app.app_context():
        slug = db.session.get(Round, round_id).contest.slug
    page.goto(f"{base}/cuoc-thi/{slug}")
    page.get_by_role("link", name="Bắt đầu thi").click()
    page.get_by_role("dialog").get_by_role("button", name="Xác nhận bắt đầu").click()
    expect(page.locator("#conn")).to_have_text("Đã kết nối")
    state = json.loads(page.locator("#attempt-state").text_content())
    attempt_id, (q1, q2, q3) = state["attempt_id"], state["questions"][:3]

    # question 1 answered while connected: acknowledged
    page.locator(f"#q{q1['id']}o{keys[q1['id']][0]}").check()
    expect(page.locator("#save-status")).to_have_text("Đã lưu câu 1.")

    # the cut
    first.kill()
    offline = "Mất kết nối — câu trả lời sẽ được gửi lại khi có mạng."
    expect(page.locator("#conn")).to_have_text(offline)
    # while cut off: change question 1, answer questions 2 and 3
    page.locator(f"#q{q1['id']}o{_wrong(q1, keys)}").check()
    page.get_by_role("button", name="Câu sau").click()
    page.locator(f"#q{q2['id']}o{keys[q2['id']][0]}").check()
    page.get_by_role("button", name="Câu sau").click()
    page.locator(f"#q{q3['id']}o{_wrong(q3, keys)}").check()
    expect(page.locator("#save-status")).to_have_text(offline)
    expect(page.locator("#navigator .nav-item.pending")).to_have_count(3)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    assert r.hget(answers_key(attempt_id), keys.bank_id(q2["id"])) is None  # nothing reached the server

    # a new server process on the same address; the page reconnects on its own and resends
    server_factory(port=first.port)
    expect(page.locator("#conn")).to_have_text("Đã kết nối", timeout=20000)
    expect(page.locator("#navigator .nav-item.pending")).to_have_count(0, timeout=15000)
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Đã lưu câu [123]\.$"))
    expect(page.get_by_text("Bạn còn 7 câu chưa trả lời.")).to_be_visible()

    # Redis holds each answer once: one stream entry per accepted (question, seq), the latest choice in the hash
    # (the page knows references only; Redis and SQL hold bank ids)
    chosen = {q1["id"]: [_wrong(q1, keys)], q2["id"]: [keys[q2["id"]][0]], q3["id"]: [_wrong(q3, keys)]}
    wanted = dict(keys.to_bank(ref, selected) for ref, selected in chosen.items())
    for qid, selected in wanted.items():
        assert decode_saved(r.hget(answers_key(attempt_id), qid)).selected == selected
    entries = [e for e in (decode_entry(f) for _, f in r.xrange(ANSWER_STREAM)) if e.attempt_id == attempt_id]
    per_question = {}
    for e in entries:
        per_question.setdefault(e.question_id, []).append(e.seq)
    # question 1: the first choice, then the change made offline; 2 and 3 exactly once despite any resend
    bank_ids = [keys.bank_id(q["id"]) for q in (q1, q2, q3)]
    assert {q: len(seqs) for q, seqs in per_question.items()} == dict(zip(bank_ids, [2, 1, 1], strict=True))

    # the worker writes them behind into SQL: one row per question, the latest choice
    with app.app_context():
        worker.ensure_group(get_redis())
        while worker.drain_once("test-consumer", block_ms=None):
            pass
        rows = {a.question_id: a.selected for a in db.session.query(AttemptAnswer).filter_by(attempt_id=attempt_id)}
    assert rows == wanted
