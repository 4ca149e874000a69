"""The load clients' view of the live protocol: it refuses malformed acks and leaked answer keys."""

import pytest

from loadtests import protocol


def test_join_ack_is_parsed_into_questions_options_and_saved_answers():
    ack = {
        "ok": True,
        "state": {
            "deadline_ms": 5,
            "server_ms": 1,
            "seq": 4,
            "answers": {"q7": {"seq": 4}},
            "questions": [
                {"id": "q7", "options": [{"id": "o70", "text": "A"}, {"id": "o71"}]},
                {"id": "q8", "options": [{"id": "o80"}, {"id": "o81"}, {"id": "o82"}]},
            ],
        },
    }
    joined = protocol.parse_join(3, ack)
    assert joined.attempt_id == 3 and joined.deadline_ms == 5 and joined.seq == 4 and joined.answered == {"q7"}
    assert [(q.id, q.option_ids) for q in joined.questions] == [("q7", ["o70", "o71"]), ("q8", ["o80", "o81", "o82"])]


@pytest.mark.parametrize(
    "ack",
    [
        None,
        {"ok": False, "error": "attempt_closed"},
        {"ok": True},
        {"ok": True, "state": {"questions": [{"id": "a", "options": []}]}},
        {"ok": True, "state": {"questions": [{"id": "a", "options": [{"id": "b", "is_correct": True}]}]}},
        # bank ids (integers) instead of the attempt's opaque references: the order would give the key away
        {"ok": True, "state": {"questions": [{"id": 1, "options": [{"id": 2}, {"id": 3}]}]}},
        {"ok": True, "state": {"questions": [{"id": "a", "options": [{"id": 2}, {"id": 3}]}]}},
    ],
)
def test_join_refusals_malformed_acks_and_leaked_keys_are_errors(ack):
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_join(1, ack)


def test_answer_ack_accepted_refused_or_malformed():
    assert protocol.answer_accepted({"ok": True, "seq": 4}) is True
    assert protocol.answer_accepted({"ok": False, "error": "deadline_passed"}) is False
    assert protocol.refusal_reason({"ok": False, "error": "deadline_passed"}) == "deadline_passed"
    with pytest.raises(protocol.ProtocolError):
        protocol.answer_accepted("ok")
    assert protocol.answer_payload(1, 2, (3,), 9) == {"attempt_id": 1, "question_id": 2, "selected": [3], "seq": 9}
    assert protocol.submit_payload(5, "12") == {"attempt_id": 5, "prediction": 12}


def test_start_redirect_gives_the_attempt_or_a_refusal():
    assert protocol.attempt_id_from_start("http://h/luot-thi/42") == 42
    assert protocol.start_path(3) == "/vong-thi/3/bat-dau"
    with pytest.raises(protocol.ProtocolError):
        protocol.attempt_id_from_start("/cuoc-thi/thi-thu")


def test_push_server_clock_is_optional():
    assert protocol.push_server_ms({"server_ms": 1234}) == 1234
    assert protocol.push_server_ms({"top": []}) is None
