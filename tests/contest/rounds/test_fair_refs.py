"""Finding 1 of issue 11: what a client sees of questions and options gives nothing of the key away.

Bank ids follow authoring order and authors list the correct option first (in the demo bank the lowest id
is the correct option in 63 of 64 single-choice questions), so a client that was sent bank ids could score
~90 % by always picking the lowest id. Clients now see per-attempt random references only; these tests play
the two blind cheats over many attempts of the demo round and require chance-level scores.
"""

import math

from sqlalchemy import select

from contest.accounts.models import User
from contest.rounds.models import Contest
from contest.rounds.services import answer_by_ref, attempt_view, start_attempt, submit_attempt
from infra.extensions import db
from question_bank.models import Question
from server.demo import DEMO_CONTEST_SLUG, seed_demo

ATTEMPTS = 200


def _play(strategy):
    """ATTEMPTS attempts of the demo round by one contestant, each answering every question blindly with
    `strategy(question as the client sees it) -> option reference`. Returns (correct answers, expected correct
    answers at chance, its variance, correct answers the lowest-bank-id cheat would have had, correct positions)."""
    contest = db.session.scalar(select(Contest).where(Contest.slug == DEMO_CONTEST_SLUG))
    (round_,) = contest.rounds
    round_.attempts_allowed = None
    round_.prediction_enabled = False
    assert round_.shuffle_options and round_.shuffle_questions
    db.session.commit()
    user = db.session.scalar(select(User).where(User.phone == "0912345678"))
    bank = {q.id: q for q in db.session.scalars(select(Question))}
    correct = lowest_id_correct = 0
    expected = variance = 0.0
    positions: dict[int, list[int]] = {}  # option count -> correct positions shown (single-choice)
    for _ in range(ATTEMPTS):
        attempt = start_attempt(user, round_)
        view = attempt_view(attempt)
        for seq, (shown, drawn) in enumerate(zip(view["questions"], attempt.questions, strict=True), start=1):
            question = bank[drawn.question_id]
            key = sorted(o.id for o in question.options if o.is_correct)
            # What a blind pick of one option is worth at chance: 1/n for a single-answer question.
            p = 1 / len(question.options) if len(key) == 1 else 0.0
            expected += p
            variance += p * (1 - p)
            lowest_id_correct += [min(o.id for o in question.options)] == key
            if not question.multi_select:
                positions.setdefault(len(drawn.option_order), []).append(drawn.option_order.index(key[0]))
            ack = answer_by_ref(attempt.id, user.id, shown["id"], [strategy(shown)], seq)
            assert ack.selected and ack.question_id == shown["id"]
        correct += submit_attempt(attempt.id, user.id).correct_count
    return correct, expected, variance, lowest_id_correct, positions


def _at_chance(correct, expected, variance):
    # 6 standard deviations: a false alarm about once in 10^9 runs, while the old ~90 % is far outside.
    band = 6 * math.sqrt(variance)
    assert expected - band <= correct <= expected + band, (correct, expected, band)


def test_lowest_reference_cheat_scores_at_chance(ctx):
    seed_demo()
    correct, expected, variance, lowest_id, positions = _play(lambda q: min(o["id"] for o in q["options"]))
    answered = ATTEMPTS * 10
    # The same attempts with bank ids sent to the client: the lowest id was almost always the key.
    assert lowest_id / answered > 0.85
    _at_chance(correct, expected, variance)
    assert correct / answered < 0.4


def test_first_position_cheat_scores_at_chance_and_the_key_position_is_uniform(ctx):
    seed_demo()
    correct, expected, variance, _, positions = _play(lambda q: q["options"][0]["id"])
    _at_chance(correct, expected, variance)
    # With shuffling on, the correct option is shown at each position equally often.
    for n, seen in positions.items():
        if len(seen) < 100:
            continue
        for position in range(n):
            count, mean = seen.count(position), len(seen) / n
            assert abs(count - mean) <= 6 * math.sqrt(mean * (1 - 1 / n)), (n, position, count, mean)
