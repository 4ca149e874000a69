"""The load clients' view of the live protocol: it refuses malformed acks and leaked answer keys."""
import pytest

from loadtests import protocol


def test_join_ack_is_parsed_into_questions_and_options():
    ack = {"ok": True, "deadline_ms": 5, "server_ms": 1,
           "questions": [{"id": 7, "options": [{"id": 70}, {"id": 71}]}, {"id": 8, "options": [80, 81, 82]}]}
    joined = protocol.parse_join(3, ack)
    assert joined.attempt_id == 3 and joined.deadline_ms == 5
    assert [(q.id, q.option_ids) for q in joined.questions] == [(7, [70, 71]), (8, [80, 81, 82])]


@pytest.mark.parametrize("ack", [
    None, {"ok": False, "error": "attempt_closed"}, {"ok": True, "questions": [{"id": 1, "options": []}]},
    {"ok": True, "questions": [{"id": 1, "options": [{"id": 2, "is_correct": True}]}]},
])
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


def test_push_latency_needs_the_server_clock():
    assert protocol.push_server_ms({"server_ms": 1234}) == 1234
    assert protocol.push_server_ms({"top": []}) is None
    with pytest.raises(protocol.ProtocolError):
        protocol.attempt_id_from_start({"id": 1})
