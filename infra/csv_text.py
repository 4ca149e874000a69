"""CSV for spreadsheets, streamed: a UTF-8 BOM (so Excel reads Vietnamese), the header row, then the rows written a
batch at a time, as text chunks for a streamed response (encode as UTF-8). Lines end in CRLF (RFC 4180)."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice


def csv_chunks(header: Sequence, rows: Iterable[Sequence], batch: int = 5000) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    rows = iter(rows)
    while chunk := list(islice(rows, batch)):
        writer.writerows(chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
