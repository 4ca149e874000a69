"""The SQL ranking against a brute-force reference on random data with ties at every level of the rule."""

import random
from dataclasses import fields
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contest.judging import board, ranking
from contest.judging.models import RANKED_COLUMNS, Disqualification, JudgingSettings, RankingEntry, SnapshotEntry
from contest.judging.ranking import Entry, best_attempt, count_perfect, rank_entries
from contest.rounds.ranking_rule import CRITERIA, RankingRuleError, validate_rule
from infra.extensions import db
from tests.contest.judging_data import BASE, add_attempt, make_person, make_round

QUESTIONS = 3
KEYS = list(CRITERIA)
FINISHED = ("submitted", "expired")
# Few distinct values per field, so ties happen on every criterion; offsets in ms straddle whole seconds.
SUBMIT_OFFSETS_MS = [0, 300, 999, 1000, 1999, 2000, 61_000]
TIMES = [None, 1000, 2000, 2500]
REGISTERED = [BASE - timedelta(days=3), BASE - timedelta(days=2)]


def attempt_spec():
    return st.fixed_dictionaries(
        {
            "status": st.sampled_from(["submitted", "submitted", "expired", "in_progress"]),
            "correct": st.integers(0, QUESTIONS),
            "time_ms": st.sampled_from(TIMES),
            "offset_ms": st.sampled_from(SUBMIT_OFFSETS_MS),
            "prediction": st.one_of(st.none(), st.integers(0, 4)),
        }
    )


def person_spec():
    return st.fixed_dictionaries(
        {
            "registered": st.sampled_from(range(len(REGISTERED))),
            "disqualified": st.sampled_from([False, False, False, True]),
            "attempts": st.lists(attempt_spec(), min_size=0, max_size=3),
        }
    )


rules = st.permutations(KEYS).flatmap(lambda keys: st.integers(1, len(keys)).map(lambda k: list(keys[:k])))
datasets = st.fixed_dictionaries(
    {
        "people": st.lists(person_spec(), min_size=1, max_size=7),
        "rule": rules,
        "basis": st.sampled_from(["people", "attempts"]),
        "actual": st.one_of(st.none(), st.integers(0, 4)),
    }
)


def random_dataset(rng: random.Random):
    def attempt():
        return {
            "status": rng.choice(["submitted", "submitted", "expired", "in_progress"]),
            "correct": rng.randint(0, QUESTIONS),
            "time_ms": rng.choice(TIMES),
            "offset_ms": rng.choice(SUBMIT_OFFSETS_MS),
            "prediction": rng.choice([None, 0, 1, 2, 3, 4]),
        }

    keys = KEYS[:]
    rng.shuffle(keys)
    return {
        "people": [
            {
                "registered": rng.randrange(len(REGISTERED)),
                "disqualified": rng.random() < 0.15,
                "attempts": [attempt() for _ in range(rng.randint(0, 3))],
            }
            for _ in range(rng.randint(1, 12))
        ],
        "rule": keys[: rng.randint(1, len(keys))],
        "basis": rng.choice(["people", "attempts"]),
        "actual": rng.choice([None, 0, 1, 2, 3]),
    }


def _none_last(value):
    return (1, 0) if value is None else (0, value)


def reference_ranking(people, rule, target):
    """Brute force: best attempt by pairwise comparison, rank = 1 + number of strictly better entries."""

    def attempt_key(a, person):
        key = []
        for criterion in rule:
            if criterion == "correct_desc":
                key.append(_none_last(None if a["correct"] is None else -a["correct"]))
            elif criterion == "prediction_distance_asc":
                key.append(_none_last(None if a["prediction"] is None else abs(a["prediction"] - target)))
            elif criterion == "time_taken_asc":
                key.append(_none_last(a["time_ms"]))
            elif criterion == "submitted_at_asc":
                key.append(_none_last(a["submitted_at"].replace(microsecond=0)))
            elif criterion == "attempts_used_asc":
                key.append((0, person["finished_count"]))
            elif criterion == "registered_at_asc":
                key.append((0, person["registered_at"]))
        return key

    entries = []
    for person in people:
        finished = [a for a in person["rows"] if a["status"] in FINISHED]
        person["finished_count"] = len(finished)
        if person["disqualified"] or not finished:
            continue
        best = None
        for a in finished:
            if not any(
                attempt_key(b, person) < attempt_key(a, person)
                or (attempt_key(b, person) == attempt_key(a, person) and b["id"] < a["id"])
                for b in finished
            ):
                best = a
        entries.append((attempt_key(best, person), person["user_id"], best["id"]))
    ranked = []
    for key, user_id, attempt_id in entries:
        rank = 1 + sum(1 for other, _, _ in entries if other < key)
        ranked.append((rank, user_id, attempt_id))
    return sorted(ranked)


def build(dataset):
    round_ = make_round(questions=QUESTIONS, rule=dataset["rule"], prediction_basis=dataset["basis"])
    round_.perfect_count_actual = dataset["actual"]
    people = []
    for spec in dataset["people"]:
        user = make_person(created_at=REGISTERED[spec["registered"]])
        person = {
            "user_id": user.id,
            "registered_at": user.created_at,
            "disqualified": spec["disqualified"],
            "rows": [],
        }
        for number, a in enumerate(spec["attempts"], start=1):
            submitted = BASE + timedelta(milliseconds=a["offset_ms"])
            row = add_attempt(
                round_,
                user,
                a["correct"],
                time_ms=a["time_ms"],
                submitted_at=submitted,
                prediction=a["prediction"],
                status=a["status"],
                number=number,
            )
            person["rows"].append(
                {
                    "id": row.id,
                    "status": a["status"],
                    "correct": a["correct"],
                    "time_ms": a["time_ms"],
                    "submitted_at": submitted,
                    "prediction": a["prediction"],
                }
            )
        if spec["disqualified"]:
            db.session.add(Disqualification(round_id=round_.id, user_id=user.id, reason="kiểm thử"))
        people.append(person)
    db.session.commit()
    return round_, people


def reference_perfect(people, basis, scope="valid"):
    """The prediction's target by hand: under the default scope a disqualified person's perfect score does not count."""
    perfect = [
        (p["user_id"], a["id"])
        for p in people
        for a in p["rows"]
        if a["status"] in FINISHED and a["correct"] == QUESTIONS and not (scope == "valid" and p["disqualified"])
    ]
    return len(perfect) if basis == "attempts" else len({user for user, _ in perfect})


def check(dataset):
    round_, people = build(dataset)
    expected_perfect = reference_perfect(people, dataset["basis"])
    assert count_perfect(round_) == expected_perfect
    every_entry = JudgingSettings(round_id=round_.id, prediction_scope="all")  # the judges' other choice
    db.session.add(every_entry)
    db.session.commit()
    assert count_perfect(round_) == reference_perfect(people, dataset["basis"], scope="all")
    db.session.delete(every_entry)
    db.session.commit()
    target = dataset["actual"] if dataset["actual"] is not None else expected_perfect
    expected = reference_ranking(people, dataset["rule"], target)
    got = [(e.rank, e.user_id, e.attempt_id) for e in rank_entries(round_)]
    assert got == expected, dataset["rule"]
    assert [e.position for e in rank_entries(round_)] == list(range(1, len(expected) + 1))
    # a page further down ranks in SQL (RANK()) and must agree with the streamed ranks
    pages = [
        (e.rank, e.user_id, e.attempt_id)
        for start in range(0, len(expected), 2)
        for e in rank_entries(round_, limit=2, offset=start)
    ]
    assert pages == expected
    for _rank, user_id, attempt_id in expected:
        assert best_attempt(round_, user_id) == attempt_id
    check_board(round_, expected)


def check_board(round_, expected):
    """The stored ranking (disqualified people kept, skipped when read) reads back as the live ranking, page by
    page; reinstating everyone needs no recomputation either."""
    board.rebuild(round_)

    def read(size, count):
        return [
            (e.rank, e.user_id, e.attempt_id, e.position)
            for start in range(0, count + size, size)
            for e in board.page(round_.id, start, size)
        ]

    assert board.total(round_.id) == len(expected)
    for size in (1, 2, 5):
        assert read(size, len(expected)) == [(r, u, a, i) for i, (r, u, a) in enumerate(expected, start=1)]
    # the whole stored ranking in one stream (what an export of a settled round reads)
    streamed = [(e.rank, e.user_id, e.attempt_id, e.position) for e in board.entries(round_.id)]
    assert streamed == [(r, u, a, i) for i, (r, u, a) in enumerate(expected, start=1)]
    key = board.ranking_key(round_)
    Disqualification.query.filter_by(round_id=round_.id).delete()
    db.session.commit()
    if board.ranking_key(round_) != key:
        # A reinstated perfect score raised the provisional target (valid entries count): the key says the
        # stored ranking is out of date, and it is computed again.
        board.rebuild(round_)
    live = [(e.rank, e.user_id, e.attempt_id, e.position) for e in rank_entries(round_)]
    assert board.total(round_.id) == len(live)
    assert read(2, len(live)) == live


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dataset=datasets)
def test_ranking_matches_brute_force_reference(ctx, dataset):
    check(dataset)


@pytest.fixture
def split_every_ranking(monkeypatch):
    """Every whole ranking on SQLite is read in two halves by user id and merged (ranking._halves); counts merges."""
    monkeypatch.setattr(ranking, "SPLIT_MIN_SPAN", 0)
    merges = []
    merged = ranking._merged
    monkeypatch.setattr(ranking, "_merged", lambda *args: merges.append(args) or merged(*args))
    return merges


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dataset=datasets)
def test_ranking_read_in_two_halves_matches_brute_force_reference(ctx, split_every_ranking, dataset):
    """Ties across the halves, NULLs on every criterion, equal whole seconds: the merged ranking is the whole one."""
    merges = len(split_every_ranking)  # the fixture lives across hypothesis' examples
    check(dataset)
    assert (len(split_every_ranking) > merges) == any(person["attempts"] for person in dataset["people"])


def test_halves_merge_on_the_whole_second_as_the_database_sorts(ctx, split_every_ranking):
    """One person in each half, equal to the second: the earlier registration comes first, not the earlier
    milliseconds (a merge that compared full times would put the second half's person first)."""
    round_ = make_round(questions=QUESTIONS)
    second = BASE + timedelta(hours=2)
    early = make_person(full_name="Đăng ký trước", created_at=BASE - timedelta(days=9))
    late = make_person(full_name="Đăng ký sau", created_at=BASE - timedelta(days=1))
    add_attempt(round_, early, 3, time_ms=1000, submitted_at=second + timedelta(milliseconds=900))
    add_attempt(round_, late, 3, time_ms=1000, submitted_at=second + timedelta(milliseconds=100))
    db.session.commit()
    assert [(e.position, e.rank, e.user_id) for e in rank_entries(round_)] == [(1, 1, early.id), (2, 2, late.id)]
    assert split_every_ranking


def test_ranking_is_read_whole_after_the_session_has_written(ctx, split_every_ranking):
    """The halves' connections would not see this session's uncommitted rows: then the ranking is read whole."""
    round_ = make_round(questions=QUESTIONS)
    for correct in (1, 3, 2):
        add_attempt(round_, make_person(), correct)
    db.session.commit()
    assert [e.correct_count for e in rank_entries(round_)] == [3, 2, 1]
    merges = len(split_every_ranking)
    assert merges == 1
    add_attempt(round_, make_person(), 0)
    db.session.flush()  # written, not committed
    assert [e.correct_count for e in rank_entries(round_)] == [3, 2, 1, 0]
    assert len(split_every_ranking) == merges
    db.session.rollback()


def test_ranking_matches_reference_on_sqlite_and_postgresql(any_db_app):
    rng = random.Random(20261123)
    with any_db_app.app_context():
        for _ in range(25):
            check(random_dataset(rng))
        db.session.remove()


def test_default_rule_orders_by_domain_rules(ctx):
    """Worked example of DOMAIN.md: score, then prediction distance, then time, then submission second."""
    round_ = make_round(questions=3)
    round_.perfect_count_actual = 2
    people = [make_person(full_name=name) for name in ("An", "Bình", "Chi", "Dũng", "Giang")]
    add_attempt(round_, people[0], 3, time_ms=90_000, prediction=5)  # distance 3
    add_attempt(round_, people[1], 3, time_ms=200_000, prediction=2)  # exact prediction beats speed
    add_attempt(round_, people[2], 3, time_ms=80_000, prediction=5)  # same distance as An, faster
    add_attempt(round_, people[3], 2, time_ms=10_000, prediction=2)  # fewer correct answers: below all perfect
    add_attempt(
        round_,
        people[4],
        3,
        time_ms=80_000,
        prediction=-1,  # same distance and time as Chi...
        submitted_at=BASE + timedelta(hours=1, milliseconds=400),
    )  # ...same second: a tie
    add_attempt(round_, people[4], 1, time_ms=5_000, prediction=2)  # a worse second attempt does not count...
    db.session.commit()
    ranking = [(e.rank, e.full_name) for e in rank_entries(round_)]
    # ...but it was used: the "fewer attempts" fallback puts Giang after Chi.
    assert ranking == [(1, "Bình"), (2, "Chi"), (3, "Giang"), (4, "An"), (5, "Dũng")]
    round_.ranking_rule = ["correct_desc", "prediction_distance_asc", "time_taken_asc", "submitted_at_asc"]
    db.session.commit()
    ranking = [(e.rank, e.full_name) for e in rank_entries(round_)]
    assert ranking == [(1, "Bình"), (2, "Chi"), (2, "Giang"), (4, "An"), (5, "Dũng")]


def test_rule_validation_rejects_unknown_and_duplicate_criteria():
    with pytest.raises(RankingRuleError):
        validate_rule([])
    with pytest.raises(RankingRuleError):
        validate_rule(["correct_desc", "luck_desc"])
    with pytest.raises(RankingRuleError):
        validate_rule(["correct_desc", "correct_desc"])
    assert validate_rule(["time_taken_asc", "correct_desc"]) == ["time_taken_asc", "correct_desc"]


def test_ranked_columns_agree_with_both_tables_and_the_entry():
    """Rows are written by RANKED_COLUMNS and read back into Entry by position: the three must keep one order."""
    assert [c.name for c in RankingEntry.__table__.columns] == ["round_id", *RANKED_COLUMNS]
    assert [c.name for c in SnapshotEntry.__table__.columns] == [
        "snapshot_id",
        *RANKED_COLUMNS,
        "prize",
        "public_name",
        "public_unit",
        "public_province",
    ]
    assert tuple(f.name for f in fields(Entry))[: len(RANKED_COLUMNS)] == RANKED_COLUMNS
