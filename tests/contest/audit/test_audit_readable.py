"""Issue 14, finding 8: the audit log people can read — translated action names (every code in the code base has
one), changes as "field: old → new" in Việt Nam time, one name per object, filters by person, action and date with
clear errors, CSV of the filtered log."""

import ast
import csv
import io
from datetime import datetime
from pathlib import Path

import pytest

from contest.audit import record_action
from contest.audit.presentation import ACTION_LABELS, FIELD_LABELS, detail_lines
from contest.rounds.models import Round
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.judging_data import make_round

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [p for d in ("contest", "question_bank", "server", "realtime") for p in (ROOT / d).rglob("*.py")]


def _strings(node):
    """The string constants an action argument can take: a literal, or either branch of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return None


def _action_argument(call, position, keyword):
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def recorded_action_codes():
    """Every action code passed to record_action, directly or through a wrapper that passes its own parameter on
    (like the bank's `_audit(action, ...)`): found by walking the syntax trees of the code base."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in SOURCES}
    callers = {"record_action": (1, "action")}  # function name -> (position, keyword) of the action argument
    codes, unknown = set(), []
    changed = True
    while changed:  # wrappers of wrappers
        changed = False
        for tree in trees.values():
            for func in ast.walk(tree):
                if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or func.name in callers:
                    continue
                params = [a.arg for a in func.args.args]
                for call in ast.walk(func):
                    name = getattr(call, "func", None)
                    name = getattr(name, "id", None) or getattr(name, "attr", None)
                    if isinstance(call, ast.Call) and name in callers:
                        arg = _action_argument(call, *callers[name])
                        if isinstance(arg, ast.Name) and arg.id in params:
                            callers[func.name] = (params.index(arg.id), arg.id)
                            changed = True
    for path, tree in trees.items():
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
            if name not in callers:
                continue
            arg = _action_argument(call, *callers[name])
            found = _strings(arg) if arg is not None else None
            if found is None:
                if not (isinstance(arg, ast.Name) and name != "record_action") and arg is not None:
                    enclosing = [
                        f
                        for f in ast.walk(tree)
                        if isinstance(f, ast.FunctionDef) and f.name in callers and call in list(ast.walk(f))
                    ]
                    if not enclosing:
                        unknown.append(f"{path.relative_to(ROOT)}:{call.lineno}")
                continue
            codes |= found
        # accounts may not import the log: its actions travel on the `account_action` signal, recorded by contest.audit
        for call in ast.walk(tree):
            func = getattr(call, "func", None)
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "send"
                and getattr(func.value, "id", None) == "account_action"
            ):
                found = _strings(_action_argument(call, 99, "action"))
                if found is None:
                    unknown.append(f"{path.relative_to(ROOT)}:{call.lineno}")
                else:
                    codes |= found
    return codes, unknown, callers


def test_every_recorded_action_code_has_a_translated_label():
    codes, unknown, callers = recorded_action_codes()
    assert "_audit" in callers  # the bank's wrapper was followed
    assert {
        "disqualify",
        "round_update",
        "export_full_data",
        "questions_import",
        "live.publish",
        "password_reset",
    } <= codes
    assert unknown == [], f"action codes the test cannot read (use a literal): {unknown}"
    missing = sorted(codes - set(ACTION_LABELS))
    assert missing == [], f"add a label to contest/audit/presentation.py ACTION_LABELS for: {missing}"


def test_changes_read_as_field_old_to_new_in_vietnam_time(app):
    with app.test_request_context():
        lines = detail_lines(
            {
                "changes": {"closes_at": ["2026-11-20T10:00:00", "2026-11-21T16:30:00"], "attempts_allowed": [3, 5]},
                "via": "cli:root",
                "winners_only": False,
            }
        )
    assert lines == [
        "Đóng lúc: 20/11/2026 17:00:00 → 21/11/2026 23:30:00",  # UTC in the log, Việt Nam time on the page
        "Số lượt thi: 3 → 5",
        "Thực hiện qua: dòng lệnh (root)",
        "Chỉ danh sách đạt giải: không",
    ]
    assert {"closes_at", "attempts_allowed", "title", "perfect_count_actual"} <= set(FIELD_LABELS)


@pytest.fixture
def logged(app, client):
    organiser_id, phone = create_account(app, role="organiser", full_name="Lê Tổ Chức")
    judge_id, _ = create_account(app, role="judge", full_name="Trần Thẩm Phán")
    with app.app_context():
        round_ = make_round()
        round_.title = "Tuần thi số 1"
        db.session.commit()
        rid = round_.id
        early = datetime(2026, 11, 20, 16, 30)  # 23:30 on 20/11 in Việt Nam
        late = datetime(2026, 11, 20, 17, 30)  # 00:30 on 21/11 in Việt Nam
        for actor, action, at, extra in (
            (organiser_id, "round_update", early, {"object_type": "round", "object_id": rid}),
            (judge_id, "export_full_data", late, {"round_": rid}),
            (judge_id, "disqualify", late, {"round_": rid, "reason": '=HYPERLINK("x")'}),
        ):
            entry = record_action(
                actor,
                action,
                changes={"title": ["Vòng 1", "Tuần thi số 1"]} if action == "round_update" else None,
                **extra,
            )
            entry.at = at
        db.session.commit()
    login(client, phone)
    return dict(organiser_id=organiser_id, judge_id=judge_id, round_id=rid)


def _table(page):
    return page[page.index('<table class="audit-log">') : page.index("</table>")]


def test_log_page_is_readable_and_names_each_round_once(client, logged):
    page = _table(client.get("/quan-tri/nhat-ky").get_data(as_text=True))
    assert "round_update" not in page.replace('title="round_update"', "")  # the code only as a tooltip
    assert "Sửa vòng thi" in page and "Xuất dữ liệu kết quả kèm thông tin cá nhân đầy đủ" in page
    assert "Tiêu đề: Vòng 1 → Tuần thi số 1" in page
    rid = logged["round_id"]
    name = f"Vòng thi «Tuần thi số 1» (#{rid})"
    assert page.count(name) == 3  # a round edit (object) and two judging entries (round): one name
    assert "Tuần thi #" not in page and "Vòng thi #" not in page
    assert "20/11/2026 23:30:00" in page and "21/11/2026 00:30:00" in page  # Việt Nam time


def test_log_filters_by_person_action_and_day(client, logged):
    def actions(**query):
        response = client.get("/quan-tri/nhat-ky", query_string=query)
        assert response.status_code == 200
        text = _table(response.get_data(as_text=True))
        return [
            label for label in ("Sửa vòng thi", "Xuất dữ liệu kết quả kèm", "Loại bài dự thi") if f">{label}" in text
        ]

    assert actions(nguoi=logged["judge_id"]) == ["Xuất dữ liệu kết quả kèm", "Loại bài dự thi"]
    assert actions(**{"thao-tac": "disqualify"}) == ["Loại bài dự thi"]
    # days are Việt Nam days: 23:30 on the 20th and 00:30 on the 21st fall on different days
    assert actions(**{"tu-ngay": "2026-11-20", "den-ngay": "2026-11-20"}) == ["Sửa vòng thi"]
    assert actions(**{"tu-ngay": "2026-11-21"}) == ["Xuất dữ liệu kết quả kèm", "Loại bài dự thi"]
    assert actions(**{"doi-tuong": "round", "ma": logged["round_id"]}) == ["Sửa vòng thi"]


@pytest.mark.parametrize(
    "query, message",
    [
        ({"tu-ngay": "20/11/2026"}, "Từ ngày không hợp lệ: hãy chọn một ngày (năm-tháng-ngày)."),
        ({"den-ngay": "2026-02-30"}, "Đến ngày không hợp lệ"),
        ({"tu-ngay": "1900-01-01"}, "Từ ngày phải trong khoảng năm 2000 đến 2100."),
        ({"tu-ngay": "2026-11-21", "den-ngay": "2026-11-20"}, "“Từ ngày” phải trước hoặc bằng “Đến ngày”."),
        ({"nguoi": "abc"}, "Người thực hiện không hợp lệ."),
        ({"nguoi": "9" * 30}, "Người thực hiện không hợp lệ."),
        ({"thao-tac": "drop_table"}, "Thao tác không có trong danh sách."),
        ({"doi-tuong": "bomb"}, "Loại đối tượng không có trong danh sách."),
    ],
)
def test_bad_filters_get_a_clear_error_not_a_500(client, logged, query, message):
    response = client.get("/quan-tri/nhat-ky", query_string=query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#34;", '"')
    csv_response = client.get("/quan-tri/nhat-ky", query_string={**query, "dinh-dang": "csv"})
    assert csv_response.status_code == 400 and csv_response.mimetype == "text/html"


def test_log_csv_follows_the_filters(app, client, logged):
    response = client.get("/quan-tri/nhat-ky", query_string={"nguoi": logged["judge_id"], "dinh-dang": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:4] == ["Thời điểm (giờ Việt Nam)", "Người thực hiện", "Thao tác", "Mã thao tác"]
    assert [(r[0], r[1], r[2], r[3]) for r in rows[1:]] == [
        ("21/11/2026 00:30:00", "Trần Thẩm Phán", "Loại bài dự thi", "disqualify"),
        (
            "21/11/2026 00:30:00",
            "Trần Thẩm Phán",
            "Xuất dữ liệu kết quả kèm thông tin cá nhân đầy đủ",
            "export_full_data",
        ),
    ]
    assert rows[1][6] == '\'=HYPERLINK("x")'  # a reason that looks like a formula stays text in a spreadsheet
    with app.app_context():
        from contest.audit.models import AuditEntry

        export = AuditEntry.query.filter_by(action="audit_export").one()
        assert export.actor_id == logged["organiser_id"] and export.details["filters"] == {
            "nguoi": str(logged["judge_id"])
        }
        assert db.session.get(Round, logged["round_id"]) is not None
