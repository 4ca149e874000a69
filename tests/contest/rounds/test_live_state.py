"""The live state's format, read back through live_state: codecs, what a start writes, what the scripts append."""

from contest.accounts.models import User
from contest.rounds import live_state
from contest.rounds.live_state import (
    ANSWER_STREAM,
    LiveAttempt,
    LiveQuestion,
    SavedAnswer,
    StreamEntry,
    decode_attempt,
    decode_details,
    decode_entry,
    decode_saved,
    encode_attempt,
    encode_details,
    encode_entry,
    encode_ids,
    encode_saved,
)
from contest.rounds.services import save_answer, start_attempt, submit_attempt
from infra.clock import to_ms
from infra.extensions import db, get_redis
from tests.conftest import create_account
from tests.contest.roundkit import key_of, make_round


def test_codecs_round_trip_and_keep_the_stored_spelling():
    assert encode_ids([5, 3, 5]) == "3,5"
    attempt = LiveAttempt(7, 3, 2_000, 1_000, "open", None, {88: LiveQuestion([351, 349], [349], False)})
    fields = encode_attempt(attempt)
    assert fields == {
        "user": 7,
        "round": 3,
        "deadline": 2_000,
        "started": 1_000,
        "status": "open",
        "o:88": ",351,349,",
        "k:88": "349",
    }
    assert decode_attempt({k: str(v) for k, v in fields.items()}) == attempt
    assert decode_attempt({}) is None
    assert encode_saved(4, [351, 349]) == "4|349,351"
    assert decode_saved("4|349,351") == SavedAnswer(4, [349, 351])
    assert decode_saved("5|") == SavedAnswer(5, [])  # a cleared answer
    entry = StreamEntry(17, 88, [351], 4, 1_763_890_000_123)
    assert encode_entry(entry) == {"a": "17", "q": "88", "s": "351", "n": "4", "t": "1763890000123"}
    assert decode_entry(encode_entry(entry)) == entry
    assert encode_details(8, 312_000, "Nguyễn Văn An", "Sở Tư pháp") == "8|312000|Nguyễn Văn An|Sở Tư pháp"
    assert decode_details("8|312000|Nguyễn Văn An|Sở | Tư pháp") == (8, 312_000, "Nguyễn Văn An", "Sở | Tư pháp")
    assert decode_details(None) == (0, 0, "", "")


def test_a_start_and_an_answer_read_back_through_live_state(ctx):
    rnd = make_round(count=5, multi_every=3, prediction=False)
    user = db.session.get(User, create_account(ctx)[0])
    attempt = start_attempt(user, rnd)
    live = live_state.read_attempt(attempt.id)
    assert live is not None
    assert (live.user_id, live.round_id, live.status) == (user.id, rnd.id, "open")
    assert live.deadline_ms == to_ms(attempt.deadline_at) and live.closed_ms is None
    assert set(live.questions) == {aq.question_id for aq in attempt.questions}
    for aq in attempt.questions:
        question = live.questions[aq.question_id]
        assert sorted(question.option_ids) == sorted(aq.option_order)
        assert question.correct_ids == key_of(aq.question_id)
        assert question.multi == (len(key_of(aq.question_id)) > 1)
    qid = attempt.questions[0].question_id
    ack = save_answer(attempt.id, user.id, qid, key_of(qid), 3)
    assert live_state.read_saved(attempt.id) == {qid: SavedAnswer(3, ack.selected)}
    [(_id, fields)] = get_redis().xrange(ANSWER_STREAM)
    entry = decode_entry(fields)
    assert (entry.attempt_id, entry.question_id, entry.selected, entry.seq) == (attempt.id, qid, key_of(qid), 3)
    assert abs(entry.answered_ms - live_state.server_now_ms()) < 10_000


def test_every_script_runs_by_sha_and_survives_a_script_flush(ctx):
    rnd = make_round(count=3, prediction=False)
    user = db.session.get(User, create_account(ctx)[0])
    r = get_redis()

    def calls(command):
        return int(r.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))

    r.script_flush()  # as after a Redis restart: redis-py loads each script again on NOSCRIPT
    evals = calls("eval")
    attempt = start_attempt(user, rnd)  # start lock released by script
    qid = attempt.questions[0].question_id
    save_answer(attempt.id, user.id, qid, key_of(qid), 1)  # answer script
    submit_attempt(attempt.id, user.id)  # close script, then the leaderboard's record script
    assert calls("eval") == evals  # no script source is sent with every call
    assert calls("evalsha") >= 4
