"""The shipped demo bank: at least 60 approved questions with their legal basis, loaded once by seed_demo."""

from sqlalchemy import func, select

from contest.accounts.models import User
from infra.extensions import db
from question_bank.demo import DEMO_BANK
from question_bank.draw import BlueprintRule, check_blueprint, draw_questions
from question_bank.formats import gift, validate_question
from question_bank.models import Question
from server.demo import seed_demo


def test_demo_file_is_valid_vietnamese_gift_with_legal_basis(ctx):
    result = gift.parse(DEMO_BANK.read_text(encoding="utf-8"))
    assert result.errors == [] and result.unsupported == []
    assert len(result.questions) >= 60
    for q in result.questions:
        assert validate_question(q) == [], q.line
        assert q.legal_document and q.legal_article and q.explanation, q.line
    # the programme from the seeds is covered: decision 471, the six task groups, the national portal
    stems = " ".join(q.stem for q in result.questions)
    assert "471/QĐ-TTg" in stems and "06 nhóm nhiệm vụ" in " ".join(o.text for q in result.questions for o in q.options)
    assert any("pbgdpl.gov.vn" in o.text for q in result.questions for o in q.options)
    assert {q.difficulty for q in result.questions} == {"easy", "medium", "hard"}
    assert any(q.multi_select for q in result.questions)


def test_seed_demo_loads_the_bank_once_approved_by_a_second_organiser(ctx):
    from question_bank.services import import_questions

    # other demo data may already have put questions in the bank: the demo bank still loads, once
    import_questions("Câu hỏi của phần khác? {=Có ~Không}\n".encode(), "gift")
    other = db.session.scalar(select(Question.id))
    seed_demo()
    seed_demo()
    db.session.delete(db.session.get(Question, other))
    db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(Question))
    assert total == len(gift.parse(DEMO_BANK.read_text(encoding="utf-8")).questions) >= 60
    assert db.session.scalar(select(func.count()).select_from(Question).where(Question.status == "approved")) == total
    author = db.session.scalar(select(User.id).where(User.phone == "0900000002"))
    reviewer = db.session.scalar(select(User.id).where(User.phone == "0900000003"))
    assert {(q.author_id, q.reviewer_id) for q in db.session.scalars(select(Question))} == {(author, reviewer)}
    check_blueprint([BlueprintRule(None, 30)])
    assert len(draw_questions([BlueprintRule(None, 30)], seed="demo")) == 30
