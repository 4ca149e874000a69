"""Import is all or nothing with line numbers; export then import into an empty bank gives the same questions."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from infra.extensions import db
from question_bank.models import Category, Question, QuestionOption
from question_bank.services import export_questions, import_questions, to_parsed
from tests.conftest import create_account

FILES = Path(__file__).parent / "files"

GOOD_GIFT = """$CATEGORY: $course$/top/Hiến pháp/Quyền con người

// [tag:hiến pháp]
// [difficulty:easy]
// [legal_document:Hiến pháp năm 2013]
// [legal_article:Điều 20]
::Thân thể::Ai có quyền bất khả xâm phạm về thân thể? {
\t=Mọi người
\t~Chỉ công dân
\t####Điều 20 Hiến pháp 2013.
}

$CATEGORY: $course$/top/Giao thông

Người điều khiển xe mô tô phải đội mũ bảo hiểm. {T}
"""


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_creates_drafts_with_categories_and_metadata(ctx):
    report = import_questions(GOOD_GIFT.encode(), "gift")
    assert not report.refused and report.created == 2
    q = db.session.scalar(select(Question).where(Question.title == "Thân thể"))
    assert q.status == "draft" and q.family_id == q.id and q.is_current
    assert q.category.names() == ["Hiến pháp", "Quyền con người"]
    assert q.category.path == f"{q.category.parent.path}{q.category.id}/"
    assert (q.difficulty, q.legal_document, q.legal_article, q.tags) == (
        "easy",
        "Hiến pháp năm 2013",
        "Điều 20",
        "hiến pháp",
    )
    assert q.stem_normalized == "ai co quyen bat kha xam pham ve than the"
    assert [o.text for o in q.options] == ["Mọi người", "Chỉ công dân"] and q.correct_positions == [0]


def test_one_bad_question_writes_nothing_and_lists_every_error(ctx):
    bad = GOOD_GIFT + "\nCâu thiếu đáp án\n\nCâu bảy phương án {=1 ~2 ~3 ~4 ~5 ~6 ~7}\n"
    report = import_questions(bad.encode(), "gift")
    assert report.refused and report.created == 0
    assert [e.line for e in report.errors] == [17, 19]
    assert "Dòng 19" in report.errors[1].message and "từ 2 đến 6" in report.errors[1].message
    assert count(Question) == 0 and count(Category) == 0


def test_unsupported_refuses_unless_skipped_and_dry_run_writes_nothing(ctx):
    data = (FILES / "moodle.gift").read_bytes()
    refused = import_questions(data, "gift")
    assert refused.refused and not refused.errors and [u.line for u in refused.unsupported] == [25, 27]
    assert count(Question) == 0
    dry = import_questions(data, "gift", skip_unsupported=True, dry_run=True)
    assert not dry.refused and dry.parsed == 4 and dry.created == 0 and count(Question) == 0
    done = import_questions(data, "gift", skip_unsupported=True)
    assert done.created == 4 and count(Question) == 4


def test_near_duplicates_are_reported(ctx):
    import_questions(GOOD_GIFT.encode(), "gift")
    again = "Ai có quyền bất khả xâm phạm về THÂN THỂ {=Mọi người ~Không ai}\n\nai co quyen bat kha xam pham ve than the? {=a ~b}\n"
    report = import_questions(again.encode(), "gift", dry_run=True)
    messages = [d.message for d in report.duplicates]
    assert report.duplicates[0].line == 1 and "#" in messages[0]
    assert any("dòng 1" in m for m in messages)  # the second is a duplicate of the first within the file


def test_not_utf8_is_refused_with_line(ctx):
    report = import_questions(b"Cau mot {=A ~B}\n\nC\xe2u hai {=A ~B}\n", "gift")  # a Windows-1258 byte on line 3
    assert report.refused and "UTF-8" in report.errors[0].message and "Dòng 3" in report.errors[0].message


@pytest.mark.parametrize("fmt", ["gift", "csv", "xlsx", "aiken"])
def test_export_import_round_trip_through_the_database(any_db_app, fmt):
    with any_db_app.app_context():
        assert not import_questions((FILES / "moodle.gift").read_bytes(), "gift", skip_unsupported=True).refused
        import_questions(GOOD_GIFT.encode(), "gift")
        before = _bank()
        data, left_out = export_questions(fmt)
        db.session.query(QuestionOption).delete()
        db.session.query(Question).delete()
        db.session.query(Category).filter(Category.parent_id.isnot(None)).delete()
        db.session.query(Category).delete()
        db.session.commit()
        report = import_questions(data, fmt, default_category=["Nhập Aiken"])
        assert not report.refused, report.errors
        after = _bank()
        if fmt == "aiken":  # Aiken carries stem, options and the one answer; the multi-answer question stays out
            assert left_out == 1
            carry = lambda k: (k[2], k[4])  # noqa: E731
            assert sorted(map(carry, after), key=repr) == sorted((carry(k) for k in before if k[3] is False), key=repr)
        else:
            assert left_out == 0 and after == before


def _bank():
    cache = {}
    return sorted((to_parsed(q, cache).key() for q in db.session.scalars(select(Question))), key=repr)


def test_cli_import_refuses_non_zero_then_imports_and_exports(app, runner, tmp_path):
    _uid, phone = create_account(app, role="organiser")
    broken = tmp_path / "broken.gift"
    broken.write_text("Câu thiếu đáp án\n", encoding="utf-8")
    result = runner.invoke(args=["questions", "import", str(broken)])
    assert result.exit_code != 0 and "Dòng 1" in result.output and "Không có câu nào được ghi" in result.output

    moodle = FILES / "moodle.gift"
    result = runner.invoke(args=["questions", "import", str(moodle)])
    assert result.exit_code != 0 and "--skip-unsupported" in result.output

    result = runner.invoke(args=["questions", "import", str(moodle), "--skip-unsupported", "--dry-run"])
    assert result.exit_code == 0 and "sẽ tạo 4 câu hỏi" in result.output

    result = runner.invoke(args=["questions", "import", str(moodle), "--skip-unsupported", "--author-phone", phone])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 4 câu hỏi" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question).where(Question.author_id == _uid)) == 4

    out = tmp_path / "hp.xlsx"
    result = runner.invoke(args=["questions", "export", "--format", "xlsx", "--category", "Hiến pháp", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        report = import_questions(out.read_bytes(), "xlsx", dry_run=True)
    # only the subtree: the three Hiến pháp questions, not the Giao thông one
    assert report.parsed == 3 and all(q.category[0] == "Hiến pháp" for q in report.preview)
    result = runner.invoke(args=["questions", "export", "--format", "csv", "--category", "Không có", "-o", str(out)])
    assert result.exit_code != 0 and "Không tìm thấy chủ đề" in result.output


def test_near_duplicates_in_a_big_file_are_found_by_one_pass(ctx):
    import_questions(GOOD_GIFT.encode(), "gift")
    lines = [f"Câu hỏi riêng số {i}? {{=a ~b}}\n" for i in range(250)]
    lines.insert(100, "AI CÓ QUYỀN bất khả xâm phạm về thân thể? {=a ~b}\n")
    report = import_questions("\n".join(lines).encode(), "gift", dry_run=True)
    assert [d.line for d in report.duplicates] == [201] and "#" in report.duplicates[0].message
