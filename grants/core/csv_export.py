"""CSV downloads that stream: rows are encoded and sent in chunks as they are read, so a
worker's memory does not grow with the number of rows (10,000 applications, 150,000 scores).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# ...except a plain negative number, which it reads as the number it is.
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
CHUNK_ROWS = 500


def cell(value):
    """A value as a spreadsheet will not run: text that would start a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _encoded(header: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # The byte-order mark makes Excel read the file as UTF-8 (names with accents stay right).
    buffer.write("\ufeff")
    writer.writerow([cell(value) for value in header])
    for number, row in enumerate(rows, 1):
        writer.writerow([cell(value) for value in row])
        if number % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def filename_slug(text: str) -> str:
    """``"Community Trust 2027!"`` → ``"community-trust-2027"``: safe in a download's file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50].strip("-") or "call"


def csv_download(filename: str, header: list[str], rows: Iterable[list]) -> Response:
    """A streamed CSV attachment. ``rows`` is read lazily while the response is sent, in the
    request's context (so a query behind it runs then, in the request's session); the caller
    records and commits what must be on the record before returning this."""
    return Response(stream_with_context(_encoded(header, rows)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })
