"""Authoring rules: two-person review, versioning of used questions, bulk actions, accent-insensitive search."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from infra.extensions import db
from question_bank.models import Question
from question_bank.normalize import normalize_stem, normalize_text
from question_bank.services import (
    BankError,
    QuestionDraft,
    QuestionFilter,
    add_category,
    approve_questions,
    create_question,
    move_category,
    move_questions,
    retire_questions,
    search_questions,
    update_question,
)
from tests.conftest import create_account


def draft(category_id, stem="Luật Giao thông đường bộ quy định gì về mũ bảo hiểm?", **kw):
    return QuestionDraft(
        stem=stem, category_id=category_id, options=[("Bắt buộc đội", True), ("Không bắt buộc", False)], **kw
    )


@pytest.fixture
def people(app):
    author, _ = create_account(app, role="organiser")
    reviewer, _ = create_account(app, role="organiser")
    return author, reviewer


def test_normalize_strips_vietnamese_diacritics_including_d():
    assert normalize_text("ĐƯỜNG Bộ  Đà Nẵng") == "duong bo da nang"
    assert normalize_stem("Giao thông: đường bộ?") == "giao thong duong bo"


def test_author_cannot_approve_own_question(ctx, people):
    author, reviewer = people
    cat = add_category("Giao thông")
    q = create_question(draft(cat.id), author)
    approved, problems = approve_questions([q.id], author)
    assert approved == 0 and "không được tự duyệt" in problems[0]
    assert db.session.get(Question, q.id).status == "draft"
    approved, problems = approve_questions([q.id], reviewer)
    q = db.session.get(Question, q.id)
    assert (approved, problems, q.status, q.reviewer_id, q.author_id) == (1, [], "approved", reviewer, author)
    assert q.reviewed_at is not None


def test_invalid_draft_is_refused_with_vietnamese_message(ctx, people):
    cat = add_category("Hiến pháp")
    bad = QuestionDraft(stem="", category_id=cat.id, options=[("A", True)])
    with pytest.raises(BankError, match="Thiếu nội dung câu hỏi"):
        create_question(bad, people[0])
    assert db.session.scalar(select(Question.id)) is None


def test_editing_an_unused_question_edits_in_place_and_needs_review_again(ctx, people):
    author, reviewer = people
    cat = add_category("Giao thông")
    q = create_question(draft(cat.id), author)
    approve_questions([q.id], reviewer)
    edited = update_question(q, draft(cat.id, stem="Câu hỏi đã sửa?"), reviewer)
    assert edited.id == q.id and edited.version == 1 and edited.status == "draft" and edited.stem == "Câu hỏi đã sửa?"
    # the editor is now the author of the change: the other organiser must approve it
    assert approve_questions([q.id], reviewer)[0] == 0 and approve_questions([q.id], author)[0] == 1


def test_editing_a_used_question_creates_a_new_version_and_attempts_keep_the_old(ctx, people):
    from contest.rounds.models import Attempt, AttemptQuestion, Contest, Round
    from infra.clock import utcnow

    author, reviewer = people
    cat = add_category("Giao thông")
    q = create_question(draft(cat.id), author)
    approve_questions([q.id], reviewer)
    contest = Contest(slug="thu", title="Thử")
    rnd = Round(contest=contest, title="Tuần 1", opens_at=utcnow(), closes_at=utcnow() + timedelta(days=7))
    attempt = Attempt(round=rnd, user_id=author, seed="s", deadline_at=utcnow() + timedelta(minutes=20))
    db.session.add_all([contest, rnd, attempt])
    db.session.flush()
    db.session.add(
        AttemptQuestion(attempt_id=attempt.id, position=0, question_id=q.id, option_order=[o.id for o in q.options])
    )
    db.session.commit()
    old_id, old_options = q.id, [o.text for o in q.options]

    new = update_question(q, draft(cat.id, stem="Phiên bản 2?"), reviewer)
    assert (
        new.id != old_id and new.family_id == old_id and new.version == 2 and new.is_current and new.status == "draft"
    )
    old = db.session.get(Question, old_id)
    assert old.stem.startswith("Luật Giao thông") and not old.is_current and old.status == "approved"
    assert [o.text for o in old.options] == old_options
    with pytest.raises(BankError):
        update_question(old, draft(cat.id), reviewer)
    # the list shows current versions only
    rows, _more = search_questions(QuestionFilter())
    assert [r.id for r in rows] == [new.id]


def test_search_ignores_accents_and_case_and_filters_subcategories(ctx, people):
    author, reviewer = people
    law = add_category("Pháp luật")
    traffic = add_category("Giao thông", law.id)
    other = add_category("Hôn nhân")
    a = create_question(draft(traffic.id, difficulty="easy", tags=["xe máy", "an toàn"]), author)
    b = create_question(draft(other.id, stem="Tuổi kết hôn của nam là bao nhiêu?", difficulty="hard"), author)
    approve_questions([a.id], reviewer)

    def ids(**kw):
        return [q.id for q in search_questions(QuestionFilter(**kw))[0]]

    assert ids(q="giao thong duong bo") == [a.id]
    assert ids(q="GIAO THÔNG") == [a.id]
    assert ids(q="ket hon") == [b.id]
    assert ids(q="bao hiem giao thong") == [a.id]  # every word, in any order
    assert ids(q="giao thong hon nhan") == []
    assert ids(category_id=law.id) == [a.id]  # includes the subcategory
    assert ids(difficulty="hard") == [b.id]
    assert ids(status="approved") == [a.id]
    assert ids(tag="xe máy") == [a.id] and ids(tag="xe") == []
    assert ids(q="100%_") == []


def test_bulk_retire_move_and_category_tree(ctx, people):
    author, _ = people
    root = add_category("Hiến pháp")
    child = add_category("Quyền con người", root.id)
    other = add_category("Dân sự")
    q1 = create_question(draft(root.id), author)
    q2 = create_question(draft(root.id, stem="Câu khác?"), author)
    assert move_questions([q1.id, q2.id], child.id) == 2
    assert {q.category_id for q in db.session.scalars(select(Question))} == {child.id}
    assert retire_questions([q1.id]) == 1 and db.session.get(Question, q1.id).status == "retired"
    move_category(root.id, other.id)
    assert db.session.get(type(child), child.id).path == f"/{other.id}/{root.id}/{child.id}/"
    with pytest.raises(BankError, match="chính nó"):
        move_category(other.id, child.id)


def test_search_filters_on_both_databases(any_db_app):
    with any_db_app.app_context():
        from question_bank.services import import_questions

        text = (
            "$CATEGORY: $course$/top/Pháp luật/Giao thông\n\n// [tag:xe máy]\n// [tag:100%_an toàn]\n"
            "Đội mũ bảo hiểm khi đi xe máy trên đường bộ? {=Có ~Không}\n\n"
            "$CATEGORY: $course$/top/Hôn nhân\n\nTuổi kết hôn của nữ? {=18 ~16}\n"
        )
        assert not import_questions(text.encode(), "gift").refused
        law = db.session.scalar(select(Question.category_id).where(Question.stem.startswith("Đội")))

        def stems(**kw):
            return [q.stem[:4] for q in search_questions(QuestionFilter(**kw))[0]]

        parent = db.session.get(Question, 1).category.parent_id
        assert stems(q="DUONG bo mu") == ["Đội "]
        assert stems(category_id=parent) == ["Đội "] and stems(category_id=law) == ["Đội "]
        assert stems(tag="xe máy") == ["Đội "] and stems(tag="xe") == [] and stems(tag="100%_an toàn") == ["Đội "]
        assert stems(q="ket hon") == ["Tuổi"]
        assert len(stems(q="%")) == len(stems()) == 2  # punctuation alone is no search, not an error
