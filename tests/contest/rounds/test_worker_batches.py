"""Issue 17: the worker's batches fill before they flush (bounded, reported lag), and its upsert is compiled once."""

import time

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from contest.accounts.models import User
from contest.rounds import services
from contest.rounds import worker as worker_module
from contest.rounds.models import AttemptAnswer
from contest.rounds.services import save_answer, start_attempt
from contest.rounds.worker import run
from infra import metrics
from infra.clock import utcnow
from infra.extensions import db
from tests.conftest import create_account
from tests.contest.roundkit import key_of, make_round


def worker_samples():
    found = {}
    for family in text_string_to_metric_families(generate_latest(metrics.REGISTRY).decode()):
        for sample in family.samples:
            found[sample.name] = found.get(sample.name, 0) + sample.value
    return found


def test_a_part_full_batch_waits_so_the_next_one_fills_and_the_lag_is_reported(ctx):
    rnd = make_round(prediction=False, count=10)
    user = db.session.get(User, create_account(ctx)[0])
    attempt = start_attempt(user, rnd)
    questions = [aq.question_id for aq in attempt.questions]
    attempt_id, user_id = attempt.id, user.id  # the worker ends the session after every batch
    save_answer(attempt_id, user_id, questions[0], key_of(questions[0]), 1)
    before = worker_samples()
    batches, checks = [], []

    def counted(rows):
        batches.append(len(rows))
        services.upsert_answers(rows)

    started = time.monotonic()

    def stop():
        checks.append(time.monotonic() - started)
        if len(checks) == 2:  # after the first batch (part-full: 1 of 500) and its wait, five more answers
            for seq, qid in enumerate(questions[1:6], start=2):
                save_answer(attempt_id, user_id, qid, key_of(qid), seq)
        return len(checks) > 3

    # The worker imported upsert_answers by name: count its batches there.
    original, worker_module.upsert_answers = worker_module.upsert_answers, counted
    try:
        run(consumer="batches", count=500, block_ms=100, fill_wait_s=0.3, stop=stop)
    finally:
        worker_module.upsert_answers = original
    # The part-full first batch was followed by the 0.3-s wait (answers arriving meanwhile gather into the next
    # batch instead of a transaction each); the next batch took all five.
    assert batches[:2] == [1, 5]
    assert checks[1] - checks[0] >= 0.3
    after = worker_samples()
    assert after["contest_worker_entries_written_total"] - before.get("contest_worker_entries_written_total", 0) == 6
    assert after["contest_worker_lag_seconds_count"] - before.get("contest_worker_lag_seconds_count", 0) == 2
    assert len(db.session.scalars(select(AttemptAnswer)).all()) == 6


def test_the_upsert_statement_is_built_once_and_keeps_the_newest_seq(ctx):
    rnd = make_round(prediction=False, count=3)
    user = db.session.get(User, create_account(ctx)[0])
    attempt = start_attempt(user, rnd)
    qid = attempt.questions[0].question_id
    dialect = db.session.get_bind().dialect.name
    row = {"attempt_id": attempt.id, "question_id": qid, "answered_at": utcnow()}
    services.upsert_answers([{**row, "selected": key_of(qid), "seq": 5}])
    statement = services._UPSERTS[dialect]
    services.upsert_answers([{**row, "selected": [], "seq": 4}])  # older: ignored
    db.session.commit()
    assert services._UPSERTS[dialect] is statement
    stored = db.session.scalars(select(AttemptAnswer)).one()
    assert stored.seq == 5 and stored.selected == key_of(qid)
