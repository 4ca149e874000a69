"""Ranking and winners exports: CSV (UTF-8 with BOM, for Excel) and XLSX (write-only, typed cells), streamed."""
import csv
import io
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from contest.accounts.models import Unit
from contest.extensions import db
from contest.judging.ranking import rank_entries
from contest.judging.services import (
    award_prizes,
    latest_snapshot,
    prize_tiers,
    record_action,
    snapshot_entries,
)
from contest.judging.models import ResultSnapshot
from contest.rounds.models import Round

VN_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh has no daylight saving time

# (header, width in characters); full_only columns appear only when a judge asks for full data.
COLUMNS = [
    ("STT", 7, False), ("Hạng", 7, False), ("Họ và tên", 28, False), ("Ngày sinh", 12, False),
    ("Đơn vị", 34, False), ("Tỉnh/Thành phố", 22, False), ("Số điện thoại", 14, False),
    ("Số CCCD", 16, False), ("Email", 28, True), ("Số câu đúng", 11, False),
    ("Thời gian làm bài (giây)", 14, False), ("Thời điểm nộp bài (giờ Việt Nam)", 21, False),
    ("Dự đoán", 10, False), ("Chênh lệch dự đoán", 12, False), ("Số lượt thi", 10, False), ("Giải", 18, False),
]


class ExportError(ValueError):
    pass


def to_local(value: datetime | None):
    return value + VN_OFFSET if value else None


def unit_names() -> dict[int, tuple[str, str]]:
    """unit id -> (unit name, province name); the unit tree is small (thousands), the ranking is not."""
    rows = db.session.execute(select(Unit.id, Unit.parent_id, Unit.name)).all()
    parent = {r.id: r.parent_id for r in rows}
    name = {r.id: r.name for r in rows}
    result = {}
    for unit_id in name:
        top, seen = unit_id, 0
        while parent.get(top) is not None and seen < 50:
            top, seen = parent[top], seen + 1
        result[unit_id] = (name[unit_id], name.get(top, ""))
    return result


def mask_phone(phone):
    return f"{phone[:3]}****{phone[-3:]}" if phone and len(phone) >= 7 else ""


def headers(full_data):
    return [header for header, _, full_only in COLUMNS if full_data or not full_only]


def entry_values(entry, units, target, full_data):
    unit, province = units.get(entry.unit_id, ("", ""))
    if full_data:
        born = entry.date_of_birth
        phone = entry.phone
    else:
        born = entry.date_of_birth.year if isinstance(entry.date_of_birth, date) else None
        phone = mask_phone(entry.phone)
    values = [
        entry.position, entry.rank, entry.full_name, born, unit, province, phone,
        f"********{entry.cccd_last4}" if entry.cccd_last4 else None,
    ]
    if full_data:
        values.append(entry.email or None)
    distance = abs(entry.prediction - target) if entry.prediction is not None and target is not None else None
    values += [
        entry.correct_count,
        round(entry.time_taken_ms / 1000, 3) if entry.time_taken_ms is not None else None,
        to_local(entry.submitted_at).replace(microsecond=0) if entry.submitted_at else None,
        entry.prediction, distance, entry.attempts_used, entry.prize,  # None: no XLSX cell at all (cheaper)
    ]
    return values


class ExportSource:
    """What one export contains: a published snapshot (default, when there is one) or the provisional ranking.

    Everything but the rows is read up front into plain values: a streamed response outlives the request's
    ORM objects, so the rows are read by ids through whatever session is current then.
    """

    def __init__(self, round_, version=None, provisional=False, winners_only=False):
        self.round_id = round_.id
        self.winners_only = winners_only
        snapshot = None
        if not provisional:
            if version is not None:
                snapshot = db.session.scalar(select(ResultSnapshot).where(
                    ResultSnapshot.round_id == round_.id, ResultSnapshot.version == version))
                if snapshot is None:
                    raise ExportError(f"Vòng thi chưa có phiên bản công bố số {version}.")
            else:
                snapshot = latest_snapshot(round_.id)
        if snapshot is not None:
            self.target = snapshot.perfect_count_actual
        else:
            from contest.judging.ranking import prediction_target
            from contest.judging.services import fix_perfect_count, is_settled

            if is_settled(round_) and round_.perfect_count_actual is None:
                fix_perfect_count(round_)
            self.target = prediction_target(round_)
        self.snapshot_id = snapshot.id if snapshot else None
        self.version = snapshot.version if snapshot else None
        self.digest = snapshot.digest if snapshot else None
        title = "Danh sách đạt giải" if winners_only else "Bảng xếp hạng"
        rows = [[f"{title} — {round_.contest.title} — {round_.title}"]]
        if snapshot is not None:
            rows.append(["Phiên bản công bố", snapshot.version,
                         "Công bố lúc (giờ Việt Nam)", to_local(snapshot.published_at).replace(microsecond=0)])
            rows.append(["Mã kiểm tra SHA-256", snapshot.digest])
        else:
            rows.append(["KẾT QUẢ TẠM THỜI — chưa công bố, chưa có mã kiểm tra"])
        rows.append(["Số người đạt điểm tuyệt đối (đáp án câu dự đoán)", self.target])
        rows.append(["Số câu hỏi mỗi lượt thi", round_.question_count])
        self._meta = rows

    def entries(self):
        if self.snapshot_id is not None:
            yield from snapshot_entries(db.session.get(ResultSnapshot, self.snapshot_id), winners_only=self.winners_only)
            return
        round_ = db.session.get(Round, self.round_id)
        tiers = prize_tiers(self.round_id)
        last_prize_rank = sum(t.winners for t in tiers)
        for entry in award_prizes(rank_entries(round_, target=self.target), tiers):
            if self.winners_only:
                if entry.rank > last_prize_rank:
                    break
                if not entry.prize:
                    continue
            yield entry

    def meta_rows(self):
        return self._meta

    def filename(self, extension):
        kind = "danh-sach-dat-giai" if self.winners_only else "bang-xep-hang"
        version = f"v{self.version}" if self.version else "tam-thoi"
        return f"{kind}-vong-{self.round_id}-{version}.{extension}"


def csv_chunks(source: ExportSource, full_data=False, rows_per_chunk=2000):
    """The CSV as text chunks: a BOM first so Excel reads UTF-8, metadata, a blank line, then the table."""
    units = unit_names()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for row in source.meta_rows():
        writer.writerow([_csv_value(v) for v in row])
    writer.writerow([])
    writer.writerow(headers(full_data))
    pending = 0
    for entry in source.entries():
        writer.writerow([_csv_value(v) for v in entry_values(entry, units, source.target, full_data)])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value


def write_csv(source, path, full_data=False):
    with open(path, "w", encoding="utf-8", newline="") as out:
        for chunk in csv_chunks(source, full_data):
            out.write(chunk)


def write_xlsx(source: ExportSource, target, full_data=False):
    """Writes the XLSX to a path or binary file; write-only mode keeps memory flat whatever the size."""
    units = unit_names()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh sách đạt giải" if source.winners_only else "Xếp hạng")
    columns = [c for c in COLUMNS if full_data or not c[2]]
    for index, (_, width, _) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    for row in source.meta_rows():
        sheet.append([_xlsx_cell(sheet, v, bold if i == 0 else None) for i, v in enumerate(row)])
    sheet.append([])
    sheet.append([_xlsx_cell(sheet, header, bold) for header, _, _ in columns])
    for entry in source.entries():
        # Plain Python values: openpyxl types them (ints, floats, dates and datetimes with a date format);
        # a styled cell per value would triple the time at a million rows.
        sheet.append(entry_values(entry, units, source.target, full_data))
    workbook.save(target)


def _xlsx_cell(sheet, value, font=None):
    cell = WriteOnlyCell(sheet, value=value)
    if font is not None:
        cell.font = font
    if isinstance(value, datetime):
        cell.number_format = "dd/mm/yyyy hh:mm:ss"
    return cell


def audit_export(actor, round_, fmt, source, full_data, via):
    """Every export is logged; full personal data is the reason the log exists (Decree 13/2023)."""
    record_action(actor, "export_full_data" if full_data else "export", round_, format=fmt,
                  winners_only=source.winners_only, version=source.version, via=via)
    db.session.commit()
