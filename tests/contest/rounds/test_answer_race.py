"""Finding 4 of issue 11: a submit racing the write-behind worker over the same answers.

The submit read which answers SQL held, the worker inserted them meanwhile, and the submit's INSERT then
failed (IntegrityError: UNIQUE attempt_answers), leaving the attempt in progress in SQL until the sweeper.
Here the worker's batch is run, from another thread and its own connection, at the exact moment the submit
first touches attempt_answers: the race, made deterministic. Both writes are now upserts (highest seq wins).
"""

import threading

from sqlalchemy import event, select

from contest.accounts.models import User
from contest.rounds.models import Attempt, AttemptAnswer
from contest.rounds.services import save_answer, start_attempt, submit_attempt
from contest.rounds.worker import drain_once, ensure_group, upsert_answers
from infra.clock import utcnow
from infra.extensions import db, get_redis
from tests.conftest import create_account
from tests.contest.roundkit import key_of, make_round, wrong_of


def _worker_batch(app, written):
    with app.app_context():
        while n := drain_once("racing-worker", block_ms=None):
            written.append(n)
        db.session.remove()


def test_submit_and_worker_writing_the_same_answers_at_once(any_db_app):
    app = any_db_app
    with app.app_context():
        rnd = make_round(prediction=False)
        user_id, _ = create_account(app)
        attempt = start_attempt(db.session.get(User, user_id), rnd)
        ensure_group(get_redis())
        qids = [aq.question_id for aq in attempt.questions]
        for seq, qid in enumerate(qids[:4], start=1):
            save_answer(attempt.id, user_id, qid, key_of(qid) if seq % 2 else wrong_of(qid), seq)
        save_answer(attempt.id, user_id, qids[0], wrong_of(qids[0]), 5)  # a changed mind: seq 5 must win

        main = threading.get_ident()
        fired, written = [], []

        def race(statement):
            # The first time the submit touches attempt_answers (just after the old code read what SQL held,
            # just before the new upsert writes), the worker writes the same answers from its own connection
            # and commits: SQL then holds rows the submit's own write collides with.
            if fired or threading.get_ident() != main or "attempt_answers" not in statement:
                return
            fired.append(statement.split()[0])
            worker = threading.Thread(target=_worker_batch, args=(app, written))
            worker.start()
            worker.join(30)

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith("SELECT"):
                race(statement)

        def after(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                race(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            closed = submit_attempt(attempt.id, user_id)
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        assert fired and sum(written) == 5, (fired, written)  # the worker wrote all five entries first
        assert closed.status == "submitted" and closed.correct_count == 1  # q2 wrong, q3 right, q4 wrong, q1 changed
        db.session.expire_all()
        assert db.session.get(Attempt, attempt.id).status == "submitted"
        rows = {
            a.question_id: (a.selected, a.seq, a.is_correct)
            for a in db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))
        }
        assert rows == {
            qids[0]: (wrong_of(qids[0]), 5, False),
            qids[1]: (wrong_of(qids[1]), 2, False),
            qids[2]: (key_of(qids[2]), 3, True),
            qids[3]: (wrong_of(qids[3]), 4, False),
        }


def test_upsert_keeps_the_highest_seq_in_either_order(any_db_app):
    with any_db_app.app_context():
        rnd = make_round(prediction=False)
        user_id, _ = create_account(any_db_app)
        attempt = start_attempt(db.session.get(User, user_id), rnd)
        qid = attempt.questions[0].question_id
        row = {"attempt_id": attempt.id, "question_id": qid, "answered_at": utcnow()}
        newer, older = {**row, "selected": key_of(qid), "seq": 7}, {**row, "selected": wrong_of(qid), "seq": 3}
        for first, second in ((newer, older), (older, newer)):
            db.session.query(AttemptAnswer).delete()
            db.session.commit()
            upsert_answers([first])
            db.session.commit()
            upsert_answers([second])
            db.session.commit()
            stored = db.session.scalar(select(AttemptAnswer).where(AttemptAnswer.question_id == qid))
            db.session.refresh(stored)
            assert (stored.selected, stored.seq) == (key_of(qid), 7)
