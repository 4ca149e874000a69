"""Ranking and winners exports: CSV (UTF-8 with BOM, for Excel) and XLSX (XlsxWriter constant_memory, typed
cells), both streamed from SQL row by row."""

import os
import re
from bisect import bisect_left
from contextlib import closing
from datetime import date, datetime
from itertools import chain

import xlsxwriter
from sqlalchemy import Integer, cast, func, null, select, text
from xlsxwriter.utility import xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import Worksheet

from contest.accounts.models import User
from contest.audit import record_action
from contest.judging import board
from contest.judging.models import Disqualification, RankingEntry, ResultSnapshot, SnapshotEntry
from contest.judging.prizes import award_prizes, prize_tiers
from contest.judging.publishing import latest_snapshot, snapshot_entries, unit_names
from contest.judging.ranking import PREDICTION_SCOPES, prediction_scope, prediction_target, rank_entries
from contest.judging.settlement import fix_perfect_count, is_settled
from contest.rounds.models import Round
from infra.clock import to_vn_time, utcnow
from infra.csv_text import csv_chunks as write_csv_chunks
from infra.extensions import db
from infra.forked import ForkedPart, can_fork
from infra.prefetch import prefetched
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
        self.stored = snapshot is None and board.is_current(round_)
        self.snapshot_id = snapshot.id if snapshot else None
        self.version = snapshot.version if snapshot else None
        self.digest = snapshot.digest if snapshot else None
        # The "Thông tin" sheet of the XLSX: one (label, value) row each (docs/exports.md).
        rows = [
            ["Nội dung", "Danh sách đạt giải" if winners_only else "Bảng xếp hạng"],
            ["Cuộc thi", round_.contest.title],
            ["Vòng thi", round_.title],
        ]
        if snapshot is not None:
            rows.append(["Trạng thái", "Chính thức (đã công bố)"])
            rows.append(["Phiên bản công bố", snapshot.version])
            rows.append(["Công bố lúc (giờ Việt Nam)", to_vn_time(snapshot.published_at).replace(microsecond=0)])
            rows.append(["Mã kiểm tra SHA-256", snapshot.digest])
        else:
            rows.append(["Trạng thái", "KẾT QUẢ TẠM THỜI — chưa công bố, chưa có mã kiểm tra"])
        rows.append(["Số người đạt điểm tuyệt đối (đáp án câu dự đoán)", self.target])
        rows.append(["Đáp án câu dự đoán tính trên", str(PREDICTION_SCOPES[prediction_scope(round_.id)])])
        rows.append(["Số câu hỏi mỗi lượt thi", round_.question_count])
        rows.append(["Xuất lúc (giờ Việt Nam)", to_vn_time(utcnow()).replace(microsecond=0)])
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
        # A settled round's ranking is stored (by the worker): read it in order instead of ranking again.
        ranked = board.entries(self.round_id) if self.stored else rank_entries(round_, target=self.target)
        for entry in award_prizes(ranked, tiers):
            if self.winners_only:
                if entry.rank > last_prize_rank:
                    break
                if not entry.prize:
                    continue
            yield entry

    def meta_rows(self):
        return self._meta

    def filename(self, extension):
        """What the file holds, since a CSV has no room for it: kind, round, version and the digest's first 12
        characters (or "tam-thoi" for a provisional ranking)."""
        kind = "danh-sach-dat-giai" if self.winners_only else "bang-xep-hang"
        version = f"v{self.version}-sha256-{self.digest[:12]}" if self.version else "tam-thoi"
        return f"{kind}-vong-{self.round_id}-{version}.{extension}"

    def disqualified(self):
        """(full name, date of birth, unit id, phone, reason, decided by, decided at) of the people disqualified
        now, in the order decided."""
        d = Disqualification.__table__
        person = User.__table__.alias("person")
        judge = User.__table__.alias("judge")
        return db.session.execute(
            select(
                person.c.full_name,
                person.c.date_of_birth,
                person.c.unit_id,
                person.c.phone,
                d.c.reason,
                judge.c.full_name,
                d.c.decided_at,
            )
            .join(person, person.c.id == d.c.user_id)
            .outerjoin(judge, judge.c.id == d.c.decided_by_id)
            .where(d.c.round_id == self.round_id)
            .order_by(d.c.decided_at, d.c.id)
        ).all()


def csv_chunks(source: ExportSource, full_data=False, rows_per_chunk=2000, fast=True):
    """The CSV as text chunks: a BOM first so Excel reads UTF-8, then the header row and the table (the metadata is
    in the file name: round, version and the digest's first characters; docs/exports.md).

    A stored ranking or a published version is written line by line (_stored_csv_lines). Otherwise the csv module
    writes None as an empty field and numbers as they are; only the date columns need formatting, so only those are
    touched per row (at 700,000 rows every per-value call counts)."""
    units = unit_names()
    names = headers(full_data)
    if fast and (source.snapshot_id is not None or source.stored):
        return chain(write_csv_chunks(names, ()), _stored_csv_lines(source, units, full_data))  # BOM, header
    date_columns = [i for i, name in enumerate(names) if name in _DATE_COLUMNS]
    # Names and units are typed by contestants: a cell starting like a formula (=, +, -, @) must stay
    # text when a judge opens the file in Excel (the OWASP CSV-injection rule: a leading apostrophe).
    text_columns = [i for i, name in enumerate(names) if name not in _DATE_COLUMNS and name not in _NUMBER_COLUMNS]
    target = source.target
    values_of_rows = (entry_values(entry, units, target, full_data) for entry in source.entries())

    def formatted():
        for values in values_of_rows:
            for i in date_columns:
                value = values[i]
                if value is not None and not isinstance(value, (int, str)):
                    values[i] = _csv_value(value)
            for i in text_columns:
                value = values[i]
                if value and isinstance(value, str) and value[0] in _FORMULA_STARTS:
                    values[i] = quote_formula(value)
            yield values

    return write_csv_chunks(names, formatted(), rows_per_chunk)


_FORMULA_STARTS = frozenset("=+-@\t\r'")


def _sql_formats():
    """(date dd/mm/yyyy, Việt Nam date-time dd/mm/yyyy HH:MM:SS, year) as SQL over a column: the database formats
    700,000 values far faster than Python parses and formats them (seconds are cut, as to_vn_time's are). On
    SQLite the date-time is the stored UTC text to the second, which _VnHours turns into Việt Nam time."""
    if db.engine.dialect.name == "postgresql":
        return (
            lambda c: func.to_char(c, "DD/MM/YYYY"),
            lambda c: func.to_char(func.date_trunc("second", c) + text("interval '7 hours'"), "DD/MM/YYYY HH24:MI:SS"),
            lambda c: cast(func.extract("year", c), Integer),
        )
    return (
        lambda c: func.strftime("%d/%m/%Y", c),
        # The stored text to the second ("YYYY-MM-DD HH:MM:SS", UTC); _VnHours finishes it (strftime cost more).
        lambda c: func.substr(c, 1, 19),
        lambda c: cast(func.substr(c, 1, 4), Integer),
    )


class _VnHours(dict):
    """SQLite's "YYYY-MM-DD HH" (UTC) -> "dd/mm/yyyy HH" in Việt Nam time, worked out once per hour: the offset is
    whole hours, so a time's minutes and seconds are its stored ones (at 700,000 rows SQLite's strftime took 1.4 s)."""

    def __missing__(self, hour):
        value = self[hour] = to_vn_time(datetime.strptime(hour, "%Y-%m-%d %H")).strftime("%d/%m/%Y %H")
        return value


# From this many rows the stored CSV is written by two processes (infra/forked.py; not under gevent).
FORK_MIN_ROWS = 100_000


def _stored_csv_lines(source: ExportSource, units, full_data, batch=5000):
    """The CSV lines (CRLF-terminated text, a batch of rows per chunk) of a published snapshot or of the ranking the
    worker stored, read in position order with the dates formatted by the database. The stored ranking keeps the
    disqualified: they are skipped and positions and ranks shifted as board.page does; prizes are awarded as
    award_prizes does. Each line is one f-string with the csv module's quoting rules (_cell): at 700,000 rows the
    module's per-field work was a third of the export (a test compares the bytes with the generic path's)."""
    as_date, as_vn_datetime, as_year = _sql_formats()
    u = User.__table__
    if source.snapshot_id is not None:
        t = SnapshotEntry.__table__
        where = t.c.snapshot_id == source.snapshot_id
        if source.winners_only:
            where = where & t.c.prize.is_not(None)
        prize_column = t.c.prize
    else:
        t = RankingEntry.__table__
        where = t.c.round_id == source.round_id
        prize_column = null()
    query = (
        select(
            t.c.position,
            t.c.rank,
            t.c.user_id,
            u.c.full_name,
            as_date(u.c.date_of_birth) if full_data else as_year(u.c.date_of_birth),
            u.c.unit_id,
            u.c.phone,
            u.c.cccd_last4,
            u.c.email if full_data else null(),
            t.c.correct_count,
            t.c.question_count,
            t.c.time_taken_ms,
            as_vn_datetime(t.c.submitted_at),
            t.c.prediction,
            t.c.attempts_used,
            prize_column,
        )
        .join(u, u.c.id == t.c.user_id)
        .where(where)
        .order_by(t.c.position)
    )
    positions, ranks, removed = [], [], set()
    tiers, bounds, last_prize_rank = [], [], 0
    if source.snapshot_id is None:
        positions, ranks = board.removed(source.round_id)
        removed = set(
            db.session.scalars(select(Disqualification.user_id).where(Disqualification.round_id == source.round_id))
        )
        tiers = prize_tiers(source.round_id)
        for tier in tiers:
            last_prize_rank += tier.winners
            bounds.append((last_prize_rank, tier))
    target = source.target
    winners_only = source.winners_only
    vn_hours = _VnHours() if db.engine.dialect.name == "sqlite" else None
    formula = _FORMULA_STARTS
    needs_quotes = _NEEDS_CSV_QUOTES.search
    unit_cells = {unit_id: f"{_cell(unit)},{_cell(province)}" for unit_id, (unit, province) in units.items()}
    unit_of = unit_cells.get

    def lines(batches):  # the CSV text of the rows, a chunk per batch
        for rows in batches:
            chunk = []
            append = chunk.append
            for row in rows:
                (position, rank, user_id, name, born, unit_id, phone, cccd, email, correct, questions, ms, submitted,
                 prediction, attempts, prize) = row  # fmt: skip
                if removed and user_id in removed:
                    continue
                if positions:
                    position -= bisect_left(positions, position)
                    rank -= bisect_left(ranks, rank)
                if bounds and rank <= last_prize_rank:
                    for bound, tier in bounds:  # award_prizes, for one entry
                        if rank <= bound:
                            enough = tier.min_correct is None or (correct or 0) >= tier.min_correct
                            perfect = bool(questions) and correct == questions
                            if enough and (not tier.perfect_required or perfect):
                                prize = tier.name
                            break
                elif winners_only and source.snapshot_id is None:
                    yield "".join(chunk)  # the winners ended in this batch
                    return
                if winners_only and not prize:
                    continue
                if not full_data:
                    phone = f"{phone[:3]}****{phone[-3:]}" if phone and len(phone) >= 7 else ""
                if vn_hours is not None and submitted is not None:
                    submitted = vn_hours[submitted[:13]] + submitted[13:19]
                if prediction is None:
                    prediction = distance = ""
                else:
                    distance = "" if target is None else abs(prediction - target)
                name, phone, cccd = name or "", phone or "", f"********{cccd}" if cccd else ""
                # One check for the three (usually plain); the masked CCCD starts with "*", never a formula.
                if name[:1] in formula or phone[:1] in formula or needs_quotes(f"{name}{phone}{cccd}"):
                    name, phone, cccd = _cell(name), _cell(phone), _cell(cccd)
                append(
                    f"{position},{rank},{name},{'' if born is None else born},{unit_of(unit_id, ',')},{phone},{cccd},"
                    + (f"{_cell(email)}," if full_data else "")
                    + f"{'' if correct is None else correct},{'' if ms is None else ms / 1000},"
                    f"{'' if submitted is None else submitted},{prediction},{distance},{attempts},"
                    f"{_cell(prize) if prize else ''}\r\n"
                )
            yield "".join(chunk)

    def batches(execute, *part):
        return execute(query.where(*part).execution_options(yield_per=batch)).partitions()

    half = None
    if not winners_only and can_fork(db.engine):
        last = db.session.scalar(select(func.max(t.c.position)).where(where)) or 0
        if last >= FORK_MIN_ROWS:
            half = last // 2
    if half is None:
        # Read a batch ahead: the database joins and formats the next rows while this thread writes these.
        with closing(prefetched(batches(db.session.execute))) as read:
            yield from lines(read)
        return
    # Two processes (infra/forked.py): a child writes the second half of the positions to a file while this
    # process writes the first half, then the child's text follows.
    engine = db.engine

    def write_second_half(out):
        with engine.connect() as connection:
            for chunk in lines(batches(connection.execute, t.c.position > half)):
                out.write(chunk)

    with ForkedPart(write_second_half, [engine]) as second_half:
        with closing(prefetched(batches(db.session.execute, t.c.position <= half))) as read:
            yield from lines(read)
        yield from second_half.chunks()


_NEEDS_CSV_QUOTES = re.compile('[",\r\n]')  # what makes the csv module (excel dialect, QUOTE_MINIMAL) quote a field


def _cell(value):
    """A text field as the generic path writes it: formula-safe (quote_formula), then in double quotes if it holds a
    comma, a double quote or a line break (csv.writer, excel dialect); None and "" are empty."""
    if not value:
        return ""
    if value[0] in _FORMULA_STARTS:
        value = quote_formula(value)
    if _NEEDS_CSV_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


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
        # The header row first (row 1), frozen and with an auto-filter; the metadata is on its own sheet.
        for col, (header, _, _) in enumerate(columns):
            sheet.write_string(0, col, header, bold)
        sheet.freeze_panes(1, 0)
        row = 1

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
        sheet.autofilter(0, 0, max(row - 1, 1), len(columns) - 1)

        info = workbook.add_worksheet(INFO_SHEET)
        info.set_column(0, 0, 48)
        info.set_column(1, 1, 70)
        for info_row, meta in enumerate(source.meta_rows()):
            for col, value in enumerate(meta):
                _write_any(info, info_row, col, value, bold if col == 0 else None, datetime_format, date_format)

        out = workbook.add_worksheet(DISQUALIFIED_SHEET)
        for col, (header, width) in enumerate(DISQUALIFIED_COLUMNS):
            out.set_column(col, col, width)
            out.write_string(0, col, header, bold)
        out.freeze_panes(1, 0)
        out_row = 1
        for name, born, unit_id, phone, reason, judge, decided_at in source.disqualified():
            unit, province = units.get(unit_id, ("", ""))
            if not full_data:
                born = born.year if isinstance(born, date) else None
                phone = mask_phone(phone)
            values = (name, born, unit, province, phone, reason, judge, to_vn_time(decided_at).replace(microsecond=0))
            for col, value in enumerate(values):
                _write_any(out, out_row, col, value, None, datetime_format, date_format)
            out_row += 1
        out.autofilter(0, 0, max(out_row - 1, 1), len(DISQUALIFIED_COLUMNS) - 1)
    finally:
        workbook.close()


INFO_SHEET = "Thông tin"
DISQUALIFIED_SHEET = "Bài bị loại"
DISQUALIFIED_COLUMNS = [
    ("Họ và tên", 28),
    ("Ngày sinh", 12),
    ("Đơn vị", 34),
    ("Tỉnh/Thành phố", 22),
    ("Số điện thoại", 14),
    ("Lý do", 50),
    ("Người quyết định", 24),
    ("Thời điểm quyết định (giờ Việt Nam)", 21),
]


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
