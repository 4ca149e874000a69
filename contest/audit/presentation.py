"""The audit log as people read it: translated action names, "field: old → new", Việt Nam time, one name per object.

The log stores codes (`round_update`) and JSON details; this module turns them into labels in the reader's language.
Every action code written anywhere (`record_action(..., "code", ...)`) has a label here: a test walks the code base
and fails on a code without one. A code or a detail key without a label still shows (as itself), never a 500.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import column, select, table

from contest.accounts.models import Unit, User
from contest.audit.models import AuditEntry
from infra.clock import format_vn_time
from infra.extensions import db
from question_bank.models import Category, Question

# Action code -> what happened, as a short phrase (translated when rendered).
ACTION_LABELS = {
    # judges
    "disqualify": _l("Loại bài dự thi"),
    "reinstate": _l("Khôi phục bài dự thi"),
    "publish": _l("Công bố kết quả"),
    "export": _l("Xuất dữ liệu kết quả"),
    "export_full_data": _l("Xuất dữ liệu kết quả kèm thông tin cá nhân đầy đủ"),
    "review_flags": _l("Tính cảnh báo cần xem xét"),
    "review_settings": _l("Đổi ngưỡng cảnh báo"),
    "ranking_rule": _l("Đổi quy tắc xếp hạng"),
    "prize_tiers": _l("Đổi cơ cấu giải"),
    "fix_perfect_count": _l("Chốt đáp án câu dự đoán"),
    "prediction_scope": _l("Đổi cách tính đáp án câu dự đoán"),
    "prediction_target_update": _l("Tính lại đáp án câu dự đoán"),
    # organisers: contests and rounds
    "contest_create": _l("Tạo cuộc thi"),
    "contest_update": _l("Sửa cuộc thi"),
    "contest_publish": _l("Hiện cuộc thi cho thí sinh"),
    "contest_unpublish": _l("Ẩn cuộc thi"),
    "round_create": _l("Tạo vòng thi"),
    "round_update": _l("Sửa vòng thi"),
    "round_stop": _l("Dừng vòng thi"),
    "round_delete": _l("Xoá vòng thi"),
    "unit_create": _l("Thêm đơn vị"),
    # organisers: the question bank
    "question_create": _l("Thêm câu hỏi"),
    "question_update": _l("Sửa câu hỏi"),
    "questions_approve": _l("Duyệt câu hỏi"),
    "questions_retire": _l("Ngừng dùng câu hỏi"),
    "questions_move": _l("Chuyển chủ đề câu hỏi"),
    "questions_import": _l("Nhập câu hỏi từ tệp"),
    "category_create": _l("Thêm chủ đề câu hỏi"),
    "category_move": _l("Chuyển chủ đề câu hỏi sang nhánh khác"),
    "category_rename": _l("Đổi tên chủ đề câu hỏi"),
    "category_delete": _l("Xoá chủ đề câu hỏi"),
    # live finals
    "live.create": _l("Tạo phiên chung kết"),
    "live.show": _l("Chung kết: hiện câu hỏi"),
    "live.close": _l("Chung kết: đóng câu hỏi"),
    "live.reveal": _l("Chung kết: công bố đáp án"),
    "live.rescue": _l("Chung kết: cứu trợ"),
    "live.end": _l("Kết thúc phiên chung kết"),
    "live.disqualify": _l("Chung kết: loại người chơi"),
    "live.reinstate": _l("Chung kết: khôi phục người chơi"),
    "live.publish": _l("Công bố kết quả chung kết"),
    "live.export": _l("Xuất kết quả chung kết"),
    "live.export_full_data": _l("Xuất kết quả chung kết kèm dữ liệu đầy đủ"),
    "question_return": _l("Trả câu hỏi cho người soạn"),
    "password_reset_requested": _l("Yêu cầu đặt lại mật khẩu"),
    "password_reset_throttled": _l("Từ chối gửi thêm liên kết đặt lại mật khẩu"),
    "password_reset_issued": _l("Ban tổ chức tạo liên kết đặt lại mật khẩu"),
    "password_reset": _l("Đặt lại mật khẩu"),
    # accounts and the log itself
    "sessions_ended": _l("Đăng xuất tài khoản khỏi mọi thiết bị"),
    "audit_export": _l("Tải nhật ký thao tác"),
}

# Object types -> their one name (rounds are "Vòng thi" everywhere in the log, whatever a page calls them).
OBJECT_LABELS = {
    "contest": lazy_pgettext("audit object", "Cuộc thi"),
    "round": lazy_pgettext("audit object", "Vòng thi"),
    "unit": lazy_pgettext("audit object", "Đơn vị"),
    "question": lazy_pgettext("audit object", "Câu hỏi"),
    "category": lazy_pgettext("audit object", "Chủ đề câu hỏi"),
    "bank_import": lazy_pgettext("audit object", "Nhập ngân hàng câu hỏi"),
    "live_session": lazy_pgettext("audit object", "Phiên chung kết"),
    "user": lazy_pgettext("audit object", "Tài khoản"),
}

# Detail keys (and the fields inside `changes`) -> label. A key without one shows as written.
FIELD_LABELS = {
    "title": _l("Tiêu đề"),
    "description": _l("Mô tả"),
    "rules_text": _l("Thể lệ"),
    "unit_ids": _l("Đơn vị được dự thi"),
    "banner": _l("Ảnh bìa"),
    "number": _l("Số thứ tự"),
    "opens_at": _l("Mở lúc"),
    "closes_at": _l("Đóng lúc"),
    "closes_at_before": _l("Đóng lúc (trước đó)"),
    "time_limit_minutes": _l("Thời gian làm bài (phút)"),
    "attempts_allowed": _l("Số lượt thi"),
    "blueprint": _l("Cấu trúc đề"),
    "prediction_enabled": _l("Có câu dự đoán"),
    "prediction_text": _l("Câu dự đoán"),
    "prediction_basis": _l("Đáp án dự đoán đếm theo"),
    "prediction_scope": _l("Đáp án dự đoán tính trên"),
    "perfect_count_actual": _l("Đáp án câu dự đoán"),
    "shuffle_questions": _l("Đảo thứ tự câu hỏi"),
    "shuffle_options": _l("Đảo thứ tự phương án"),
    "show_score_after_submit": _l("Cho xem điểm sau khi nộp"),
    "show_key_after_close": _l("Cho xem đáp án sau khi đóng"),
    "ranking_rule": _l("Quy tắc xếp hạng"),
    "rule": _l("Quy tắc xếp hạng"),
    "previous": _l("Trước đó"),
    "contest_id": _l("Cuộc thi"),
    "via": _l("Thực hiện qua"),
    "value": _l("Giá trị"),
    "basis": _l("Đếm theo"),
    "cause": _l("Lý do tính lại"),
    "format": _l("Định dạng"),
    "winners_only": _l("Chỉ danh sách đạt giải"),
    "version": _l("Phiên bản"),
    "digest": _l("Mã SHA-256"),
    "entries": _l("Số bài"),
    "winners": _l("Số giải"),
    "note": _l("Ghi chú"),
    "tiers": _l("Cơ cấu giải"),
    "flagged": _l("Số bài cần xem xét"),
    "min_time_seconds": _l("Thời gian tối thiểu (giây)"),
    "max_accounts_per_ip": _l("Số tài khoản tối đa trên một địa chỉ IP"),
    "max_accounts_per_device": _l("Số tài khoản tối đa trên một thiết bị"),
    "previous_reason": _l("Lý do loại trước đó"),
    "name": _l("Tên"),
    "parent_id": _l("Thuộc"),
    "new_parent_id": _l("Chuyển vào"),
    "code": _l("Mã"),
    "headcount": _l("Quân số"),
    "ids": _l("Mã câu hỏi"),
    "approved": _l("Số câu đã duyệt"),
    "retired": _l("Số câu ngừng dùng"),
    "moved": _l("Số câu đã chuyển"),
    "problems": _l("Vấn đề"),
    "category_id": _l("Chủ đề"),
    "category": _l("Chủ đề"),
    "file": _l("Tệp"),
    "created": _l("Số câu đã thêm"),
    "status": _l("Trạng thái"),
    "difficulty": _l("Độ khó"),
    "mode": _l("Hình thức"),
    "questions": _l("Câu hỏi"),
    "seconds": _l("Số giây mỗi câu"),
    "position": _l("Câu số"),
    "answered": _l("Số người trả lời"),
    "eliminated": _l("Số người bị loại"),
    "rescued": _l("Số người được cứu"),
    "requested": _l("Số người cần cứu"),
    "players": _l("Số người chơi"),
    "filters": _l("Bộ lọc"),
    "rows": _l("Số dòng"),
    "perfect_required": _l("Bắt buộc điểm tuyệt đối"),
    "min_correct": _l("Số câu đúng tối thiểu"),
    "count": _l("Số câu"),
}

# Coded values of some fields -> label (the prediction's basis and scope).
VALUE_LABELS = {
    ("basis", "people"): _l("số người"),
    ("basis", "attempts"): _l("số lượt thi"),
    ("prediction_basis", "people"): _l("số người"),
    ("prediction_basis", "attempts"): _l("số lượt thi"),
    ("prediction_scope", "valid"): _l("bài dự thi hợp lệ"),
    ("prediction_scope", "all"): _l("tất cả bài dự thi"),
}

# How an action was done (the `via` detail) -> label; "cli:NAME" names the server account that ran the command.
VIA_LABELS = {
    "web": _l("trang web"),
    "cli": _l("dòng lệnh"),
    "form": _l("biểu mẫu vòng thi"),
    "emergency_stop": _l("nút dừng khẩn cấp"),
}

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def field_label(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key


def via_label(via) -> str:
    kind, _sep, who = str(via).partition(":")
    label = VIA_LABELS.get(kind)
    if label is None:
        return str(via)
    return f"{label} ({who})" if who else str(label)


def format_value(value, key: str = "") -> str:
    """A detail value for people: times in Việt Nam time, yes/no, lists joined, coded values named, nothing as a
    dash."""
    if isinstance(value, str) and (key, value) in VALUE_LABELS:
        return str(VALUE_LABELS[(key, value)])
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("có") if value else _("không")
    if isinstance(value, datetime):
        return format_vn_time(value, seconds=True)
    if isinstance(value, str) and _ISO_TIME.match(value):
        return format_vn_time(datetime.fromisoformat(value), seconds=True)  # the log stores UTC
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(str(k))}: {format_value(v, str(k))}" for k, v in value.items())
    return str(value)


def detail_lines(details: dict | None) -> list[str]:
    """An entry's details as lines: "field: old → new" for each change, "field: value" for the rest."""
    lines = []
    for key, value in (details or {}).items():
        if key == "changes" and isinstance(value, dict):
            for name, change in value.items():
                if isinstance(change, (list, tuple)) and len(change) == 2:
                    old, new = change
                    lines.append(f"{field_label(name)}: {format_value(old, name)} → {format_value(new, name)}")
                else:
                    lines.append(f"{field_label(name)}: {format_value(change, name)}")
        elif key == "via":
            lines.append(f"{field_label(key)}: {via_label(value)}")
        else:
            lines.append(f"{field_label(key)}: {format_value(value, key)}")
    return lines


_rounds = table("rounds", column("id"), column("title"))
_contests = table("contests", column("id"), column("title"))
_live_sessions = table("live_sessions", column("id"), column("title"))


def object_names(entries) -> dict:
    """{(object type, id): name} for the objects a page of entries names (one query per type, by table name:
    the log sits below the packages that own rounds and contests)."""
    wanted: dict[str, set] = {}
    for e in entries:
        if e.round_id:
            wanted.setdefault("round", set()).add(e.round_id)
        if e.object_type and e.object_id:
            wanted.setdefault(e.object_type, set()).add(e.object_id)
    sources = {
        "round": (_rounds.c.id, _rounds.c.title),
        "contest": (_contests.c.id, _contests.c.title),
        "live_session": (_live_sessions.c.id, _live_sessions.c.title),
        "unit": (Unit.id, Unit.name),
        "user": (User.id, User.full_name),
        "category": (Category.id, Category.name),
        "question": (Question.id, Question.stem),
    }
    names = {}
    for kind, ids in wanted.items():
        if kind not in sources:
            continue
        key, name = sources[kind]
        for object_id, text in db.session.execute(select(key, name).where(key.in_(sorted(ids)))):
            text = " ".join((text or "").split())
            names[(kind, object_id)] = text if len(text) <= 80 else text[:79] + "…"
    return names


def object_text(kind: str, object_id: int | None, names: dict) -> str:
    """One name per object: its type's label, its own name when it still exists, and its number."""
    label = OBJECT_LABELS.get(kind)
    label = str(label) if label is not None else kind
    if object_id is None:
        return label
    name = names.get((kind, object_id))
    return f"{label} «{name}» (#{object_id})" if name else f"{label} #{object_id}"


@dataclass
class AuditRow:
    at: datetime
    actor: str
    action: str
    action_label: str
    object: str
    subject: str
    reason: str
    details: list[str] = field(default_factory=list)


def present(entries: Sequence[AuditEntry]) -> list[AuditRow]:
    """Rows for a page or a CSV: everything translated into the reader's language."""
    names = object_names(entries)
    rows = []
    for e in entries:
        if e.round_id:
            target = object_text("round", e.round_id, names)
        elif e.object_type:
            target = object_text(e.object_type, e.object_id, names)
        else:
            target = ""
        details = dict(e.details or {})
        via = details.get("via")
        rows.append(
            AuditRow(
                at=e.at,
                actor=e.actor.full_name if e.actor else (via_label(via) if via else _("hệ thống")),
                action=e.action,
                action_label=action_label(e.action),
                object=target,
                subject=e.subject.full_name if e.subject else "",
                reason=e.reason or "",
                details=detail_lines(details),
            )
        )
    return rows
