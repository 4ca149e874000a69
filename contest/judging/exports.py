"""Ranking and winners exports: CSV (UTF-8 with BOM, for Excel) and XLSX (XlsxWriter constant_memory, typed
cells), both streamed from SQL row by row."""

import csv
import io
import os
from datetime import date, datetime

import xlsxwriter
from sqlalchemy import select
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import Worksheet

from contest.accounts.models import Unit
from contest.audit import record_action
from contest.judging.models import ResultSnapshot
from contest.judging.prizes import award_prizes, prize_tiers
from contest.judging.publishing import latest_snapshot, snapshot_entries
from contest.judging.ranking import PREDICTION_SCOPES, prediction_scope, prediction_target, rank_entries
from contest.judging.settlement import fix_perfect_count, is_settled
from contest.rounds.models import Round
from infra.clock import to_vn_time
from infra.extensions import db
from question_bank.formats.table import quote_formula

# (header, width in characters); full_only columns appear only when a judge asks for full data.
COLUMNS = [
    ("STT", 7, False),
    ("Hạng", 7, False),
    ("Họ và tên", 28, False),
    ("Ngày sinh", 12, False),
    ("Đơn vị", 34, False),
    ("Tỉnh/Thành phố", 22, False),
    ("Số điện thoại", 14, False),
    ("Số CCCD", 16, False),
    ("Email", 28, True),
    ("Số câu đúng", 11, False),
    ("Thời gian làm bài (giây)", 14, False),
    ("Thời điểm nộp bài (giờ Việt Nam)", 21, False),
    ("Dự đoán", 10, False),
    ("Chênh lệch dự đoán", 12, False),
    ("Số lượt thi", 10, False),
    ("Giải", 18, False),
]


# How each column's value is typed in XLSX and formatted in CSV (by header; the year of birth of a masked export is a number).
_NUMBER_COLUMNS = {
    "STT",
    "Hạng",
    "Số câu đúng",
    "Thời gian làm bài (giây)",
    "Dự đoán",
    "Chênh lệch dự đoán",
    "Số lượt thi",
}
_DATE_COLUMNS = {"Ngày sinh", "Thời điểm nộp bài (giờ Việt Nam)"}


class ExportError(ValueError):
    pass


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
        entry.position,
        entry.rank,
        entry.full_name,
        born,
        unit,
        province,
        phone,
        f"********{entry.cccd_last4}" if entry.cccd_last4 else None,
    ]
    if full_data:
        values.append(entry.email or None)
    distance = abs(entry.prediction - target) if entry.prediction is not None and target is not None else None
    values += [
        entry.correct_count,
        round(entry.time_taken_ms / 1000, 3) if entry.time_taken_ms is not None else None,
        to_vn_time(entry.submitted_at).replace(microsecond=0) if entry.submitted_at else None,
        entry.prediction,
        distance,
        entry.attempts_used,
        entry.prize,  # None: no XLSX cell at all (cheaper)
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
                snapshot = db.session.scalar(
                    select(ResultSnapshot).where(
                        ResultSnapshot.round_id == round_.id, ResultSnapshot.version == version
                    )
                )
                if snapshot is None:
                    raise ExportError(f"Vòng thi chưa có phiên bản công bố số {version}.")
            else:
                snapshot = latest_snapshot(round_.id)
        if snapshot is not None:
            self.target = snapshot.perfect_count_actual
        else:
            if is_settled(round_) and round_.perfect_count_actual is None:
                fix_perfect_count(round_)
            self.target = prediction_target(round_)
        self.snapshot_id = snapshot.id if snapshot else None
        self.version = snapshot.version if snapshot else None
        self.digest = snapshot.digest if snapshot else None
        title = "Danh sách đạt giải" if winners_only else "Bảng xếp hạng"
        rows = [[f"{title} — {round_.contest.title} — {round_.title}"]]
        if snapshot is not None:
            rows.append(
                [
                    "Phiên bản công bố",
                    snapshot.version,
                    "Công bố lúc (giờ Việt Nam)",
                    to_vn_time(snapshot.published_at).replace(microsecond=0),
                ]
            )
            rows.append(["Mã kiểm tra SHA-256", snapshot.digest])
        else:
            rows.append(["KẾT QUẢ TẠM THỜI — chưa công bố, chưa có mã kiểm tra"])
        rows.append(["Số người đạt điểm tuyệt đối (đáp án câu dự đoán)", self.target])
        rows.append(["Đáp án câu dự đoán tính trên", PREDICTION_SCOPES[prediction_scope(round_.id)]])
        rows.append(["Số câu hỏi mỗi lượt thi", round_.question_count])
        self._meta = rows

    def entries(self):
        if self.snapshot_id is not None:
            yield from snapshot_entries(
                db.session.get(ResultSnapshot, self.snapshot_id), winners_only=self.winners_only
            )
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
    """The CSV as text chunks: a BOM first so Excel reads UTF-8, metadata, a blank line, then the table.

    The csv module writes None as an empty field and numbers as they are; only the date columns need formatting,
    so only those are touched per row (at 700,000 rows every per-value call counts)."""
    units = unit_names()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for row in source.meta_rows():
        writer.writerow([_csv_value(v) for v in row])
    writer.writerow([])
    names = headers(full_data)
    writer.writerow(names)
    date_columns = [i for i, name in enumerate(names) if name in _DATE_COLUMNS]
    # Names and units are typed by contestants: a cell starting like a formula (=, +, -, @) must stay
    # text when a judge opens the file in Excel (the OWASP CSV-injection rule: a leading apostrophe).
    text_columns = [i for i, name in enumerate(names) if name not in _DATE_COLUMNS and name not in _NUMBER_COLUMNS]
    target = source.target
    rows = []
    for entry in source.entries():
        values = entry_values(entry, units, target, full_data)
        for i in date_columns:
            value = values[i]
            if value is not None and not isinstance(value, int):
                values[i] = _csv_value(value)
        for i in text_columns:
            value = values[i]
            if value and isinstance(value, str) and value[0] in _FORMULA_STARTS:
                values[i] = quote_formula(value)
        rows.append(values)
        if len(rows) >= rows_per_chunk:
            writer.writerows(rows)
            rows = []
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(rows)
    yield buffer.getvalue()


_FORMULA_STARTS = frozenset("=+-@\t\r'")


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return quote_formula(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value


def write_csv(source, path, full_data=False):
    with open(path, "w", encoding="utf-8", newline="") as out:
        for chunk in csv_chunks(source, full_data):
            out.write(chunk)


DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
DATE_FORMAT = "dd/mm/yyyy"


class _StreamingWorksheet(Worksheet):
    """XlsxWriter's worksheet with a faster flush of plain rows in constant_memory mode.

    XlsxWriter writes each cell with a few generic XML helper calls (attribute lists, escaping checks, one
    file write per cell); at 10 million cells that is most of an export's time. A row holding only numbers,
    dates and plain strings (what the ranking writes) is built here as one string and written once; any other
    row (formats on the row, comments, formulas, rich strings) goes through XlsxWriter's own code. The XML is
    the same; the tests read the files back with openpyxl.
    """

    _PLAIN = ("Number", "Datetime", "String")

    def _write_single_row(self, current_row_num=0):
        row_num = self.previous_row
        cells = self.table.get(row_num)
        if (
            not cells
            or row_num in self.row_info
            or row_num in self.comments
            or self.excel_version == 2010
            or any(cell.__class__.__name__ not in self._PLAIN for cell in cells.values())
        ):
            return super()._write_single_row(current_row_num)
        self.previous_row = current_row_num
        parts = [f'<row r="{row_num + 1}">']
        append = parts.append
        for col in sorted(cells):
            cell = cells[col]
            ref = xl_rowcol_to_cell_fast(row_num, col)
            if cell.format:
                style = f' s="{cell.format._get_xf_index()}"'
            elif col in self.col_info and self.col_info[col].column_format:
                style = f' s="{self.col_info[col].column_format._get_xf_index()}"'
            else:
                style = ""
            if cell.__class__.__name__ == "String":
                text = self._escape_data(self._escape_control_characters(cell.string))
                space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
                append(f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            else:
                append(f'<c r="{ref}"{style}><v>{cell.number:.16G}</v></c>')
        append("</row>")
        self.fh.write("".join(parts))
        self.table.clear()


def write_xlsx(source: ExportSource, target, full_data=False):
    """Writes the XLSX to a path (or a binary file). XlsxWriter in constant_memory mode flushes each row to a
    temporary file as soon as the next begins, so memory stays flat whatever the size; each value is written
    with its typed call (numbers, Excel dates with a format, inline strings) instead of a type dispatch."""
    units = unit_names()
    options = {"constant_memory": True, "in_memory": False, "tmpdir": _tmpdir(target)}
    workbook = xlsxwriter.Workbook(os.fspath(target) if isinstance(target, (str, os.PathLike)) else target, options)
    try:
        sheet = workbook.add_worksheet(
            "Danh sách đạt giải" if source.winners_only else "Xếp hạng", worksheet_class=_StreamingWorksheet
        )
        bold = workbook.add_format({"bold": True})
        datetime_format = workbook.add_format({"num_format": DATETIME_FORMAT})
        date_format = workbook.add_format({"num_format": DATE_FORMAT})
        columns = [c for c in COLUMNS if full_data or not c[2]]
        for index, (_, width, _) in enumerate(columns):
            sheet.set_column(index, index, width)
        row = 0
        for meta in source.meta_rows():
            for col, value in enumerate(meta):
                _write_any(sheet, row, col, value, bold if col == 0 else None, datetime_format, date_format)
            row += 1
        row += 1  # a blank line between the metadata and the table
        for col, (header, _, _) in enumerate(columns):
            sheet.write_string(row, col, header, bold)
        sheet.freeze_panes(row + 1, 0)
        row += 1

        write_number, write_string, write_datetime = sheet.write_number, sheet.write_string, sheet.write_datetime
        writers = []
        for header, _, _ in columns:
            if header in _NUMBER_COLUMNS:
                writers.append((write_number, None))
            elif header in _DATE_COLUMNS:
                writers.append((None, datetime_format if header.startswith("Thời điểm") else date_format))
            else:
                writers.append((write_string, None))
        target_value = source.target
        for entry in source.entries():
            for col, value in enumerate(entry_values(entry, units, target_value, full_data)):
                if value is None:
                    continue  # no cell at all
                writer, number_format = writers[col]
                if writer is None:  # a date column: a real date, or the year alone when masked
                    if isinstance(value, (datetime, date)):
                        write_datetime(row, col, value, number_format)
                    else:
                        write_number(row, col, value)
                elif writer is write_string and not isinstance(value, str):
                    write_string(row, col, str(value))
                else:
                    writer(row, col, value)
            row += 1
    finally:
        workbook.close()


def _tmpdir(target):
    """XlsxWriter's row files go next to the output (same disk), or to the system's temporary directory."""
    if isinstance(target, (str, os.PathLike)):
        return os.path.dirname(os.path.abspath(os.fspath(target))) or None
    return None


def _write_any(sheet, row, col, value, cell_format, datetime_format, date_format):
    if value is None:
        return
    if isinstance(value, datetime):
        sheet.write_datetime(row, col, value, datetime_format)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, date_format)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        sheet.write_number(row, col, value, cell_format)
    else:
        sheet.write_string(row, col, str(value), cell_format)


def audit_export(actor, round_, fmt, source, full_data, via):
    """Every export is logged; full personal data is the reason the log exists (Decree 13/2023)."""
    record_action(
        actor,
        "export_full_data" if full_data else "export",
        round_,
        format=fmt,
        winners_only=source.winners_only,
        version=source.version,
        via=via,
    )
    db.session.commit()
