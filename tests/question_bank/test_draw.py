"""The draw: distinct approved questions, reproducible per seed, least-seen first, cached per bank version."""

import pytest
from sqlalchemy import event, select

from infra.extensions import db
from question_bank.draw import BlueprintError, BlueprintRule, bank_version, check_blueprint, draw_questions
from question_bank.models import Question, QuestionOption
from question_bank.services import add_category, approve_questions, import_questions, retire_questions


def _bank(n_easy=40, n_hard=20, status="approved"):
    root = add_category("Pháp luật")
    sub = add_category("Giao thông", root.id)
    lines = []
    for i in range(n_easy):
        lines.append(f"// [difficulty:easy]\nCâu dễ số {i}? {{=Đúng {i} ~Sai {i} ~Sai nữa {i} ~Sai hẳn {i}}}\n")
    lines.append("$CATEGORY: $course$/top/Pháp luật/Giao thông\n")
    for i in range(n_hard):
        lines.append(f"// [difficulty:hard]\nCâu khó số {i}? {{=Đúng {i} ~Sai {i}}}\n")
    report = import_questions("\n".join(lines).encode(), "gift", default_category=["Pháp luật"], status=status)
    assert not report.refused, report.errors
    return root, sub


def test_draw_is_distinct_approved_and_reproducible(ctx):
    root, sub = _bank()
    blueprint = [BlueprintRule(sub.id, 5, "hard"), BlueprintRule(root.id, 10, None)]
    first = draw_questions(blueprint, seed="attempt-1")
    assert first == draw_questions(blueprint, seed="attempt-1")
    assert first != draw_questions(blueprint, seed="attempt-2")
    ids = [d.question_id for d in first]
    assert len(ids) == 15 == len(set(ids))
    hard = set(db.session.scalars(select(Question.id).where(Question.difficulty == "hard")))
    assert len(hard & set(ids)) >= 5
    for d in first:  # options are that question's own, shuffled per attempt
        own = set(db.session.scalars(select(QuestionOption.id).where(QuestionOption.question_id == d.question_id)))
        assert set(d.option_order) == own
    unshuffled = draw_questions(blueprint, seed="attempt-1", shuffle_options=False)
    assert all(list(d.option_order) == sorted(d.option_order) for d in unshuffled)


def test_least_seen_questions_come_first(ctx):
    root, sub = _bank(n_easy=0, n_hard=20)
    all_ids = list(db.session.scalars(select(Question.id)))
    seen = dict.fromkeys(all_ids[:15], 1)
    seen[all_ids[0]] = 3
    drawn = {d.question_id for d in draw_questions([BlueprintRule(sub.id, 8)], seed=7, seen_counts=seen)}
    assert set(all_ids[15:]) <= drawn  # the 5 never-seen ones
    assert all_ids[0] not in drawn  # the most-seen one is last in line


def test_large_pool_sampling_avoids_seen_questions(ctx):
    root, _sub = _bank(n_easy=200, n_hard=0)
    all_ids = list(db.session.scalars(select(Question.id)))
    seen = dict.fromkeys(all_ids[:60], 2)
    for seed in range(20):
        drawn = [d.question_id for d in draw_questions([BlueprintRule(None, 30)], seed=seed, seen_counts=seen)]
        assert len(set(drawn)) == 30 and not set(drawn) & set(seen)


def test_only_approved_current_questions_and_cache_follows_every_change(ctx, app):
    from tests.conftest import create_account

    reviewer, _ = create_account(app, role="organiser")
    _bank(n_easy=3, n_hard=0, status="draft")
    rule = [BlueprintRule(None, 2)]
    with pytest.raises(BlueprintError, match="chỉ còn 0"):
        check_blueprint(rule)
    ids = list(db.session.scalars(select(Question.id)))
    token = bank_version()
    approve_questions(ids[:2], reviewer)
    assert bank_version() != token
    check_blueprint(rule)
    assert {d.question_id for d in draw_questions(rule, seed=1)} == set(ids[:2])
    retire_questions([ids[0]])
    with pytest.raises(BlueprintError, match="chỉ còn 1"):
        check_blueprint(rule)
    # a plain ORM change (as another part of the app might make) also invalidates the cache on commit
    q = db.session.get(Question, ids[2])
    q.status = "approved"
    db.session.flush()  # even before the commit, this session's draws see the change
    assert {d.question_id for d in draw_questions(rule, seed=1)} == {ids[1], ids[2]}
    db.session.commit()
    assert {d.question_id for d in draw_questions(rule, seed=1)} == {ids[1], ids[2]}


def test_pending_unflushed_questions_are_seen_like_autoflush_would(ctx):
    root, _sub = _bank(n_easy=2, n_hard=0)
    check_blueprint([BlueprintRule(root.id, 2)])
    q = Question(category_id=root.id, stem="Chưa flush?", status="approved", is_current=True)
    q.options = [QuestionOption(position=0, text="Có", is_correct=True), QuestionOption(position=1, text="Không")]
    db.session.add(q)
    check_blueprint([BlueprintRule(root.id, 3)])
    assert q.id in {d.question_id for d in draw_questions([BlueprintRule(root.id, 3)], seed=1)}


def test_warm_draw_runs_no_sql(ctx):
    _bank()
    blueprint = [BlueprintRule(None, 30)]
    draw_questions(blueprint, seed="warm-up")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        for seed in range(10):
            draw_questions(blueprint, seed=f"s{seed}")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert statements == []  # answered from the in-memory snapshot of the bank


def test_blueprint_errors_are_clear(ctx):
    root, _sub = _bank(n_easy=5, n_hard=0)
    with pytest.raises(BlueprintError, match="Quy tắc 1: số câu phải lớn hơn 0"):
        check_blueprint([BlueprintRule(None, 0)])
    with pytest.raises(BlueprintError, match="Không tìm thấy chủ đề #999"):
        check_blueprint([BlueprintRule(999, 1)])
    with pytest.raises(BlueprintError, match="Quy tắc 2: cần 3 câu nhưng ngân hàng chỉ còn 1"):
        check_blueprint([BlueprintRule(root.id, 4), BlueprintRule(None, 3)])
    check_blueprint([])  # an empty blueprint is the round form's business; the bank has nothing to refuse
    assert BlueprintRule.from_dict(BlueprintRule(root.id, 3, "easy").to_dict()) == BlueprintRule(root.id, 3, "easy")


def test_a_redis_outage_never_fails_a_bank_write(sqlite_url, redis_url, caplog):
    from infra.processes import free_port
    from tests.conftest import make_app

    app = make_app(sqlite_url, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with app.app_context():
        report = import_questions("Câu hỏi khi Redis vắng mặt? {=Có ~Không}\n".encode(), "gift")
        assert report.created == 1
        assert db.session.scalar(select(Question.stem)) == "Câu hỏi khi Redis vắng mặt?"
        assert "could not bump the question bank version" in caplog.text
        db.session.remove()


def test_draw_on_both_databases(any_db_app):
    with any_db_app.app_context():
        root, sub = _bank(n_easy=10, n_hard=10)
        blueprint = [BlueprintRule(sub.id, 3, "hard"), BlueprintRule(root.id, 5)]
        drawn = draw_questions(blueprint, seed="pg")
        assert drawn == draw_questions(blueprint, seed="pg") and len({d.question_id for d in drawn}) == 8
        hard = set(db.session.scalars(select(Question.id).where(Question.difficulty == "hard")))
        assert len(hard & {d.question_id for d in drawn}) >= 3
        assert all(len(d.option_order) in (2, 4) for d in drawn)
        db.session.remove()
