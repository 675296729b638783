"""The allow-list of file types, recognised by their content, not by what the browser says."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]


PDF = FileType("PDF", "application/pdf", (".pdf",))
DOCX = FileType("Word document (DOCX)",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = FileType("Excel workbook (XLSX)",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
CSV = FileType("CSV", "text/csv", (".csv",))
PNG = FileType("PNG image", "image/png", (".png",))
JPEG = FileType("JPEG image", "image/jpeg", (".jpg", ".jpeg"))
ALLOWED_TYPES = (PDF, DOCX, XLSX, CSV, PNG, JPEG)
ALLOWED_EXTENSIONS = tuple(ext for file_type in ALLOWED_TYPES for ext in file_type.extensions)
ALLOWED_LABEL = "PDF, DOCX, XLSX, CSV, PNG or JPEG"

SNIFF_BYTES = 64 * 1024


def type_for_extension(extension: str) -> FileType:
    """The allowed type a file's extension claims (the extension must be on the allow-list)."""
    return next(file_type for file_type in ALLOWED_TYPES if extension in file_type.extensions)


def _zip_flavour(stream: BinaryIO) -> FileType | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sniffed window may cut a multi-byte character in half at its end.
        if exc.start < len(head) - 3:
            return False
    return True


def detect_file_type(stream: BinaryIO) -> FileType | None:
    """The allowed type the content is, or None. Leaves the stream at its start."""
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith(b"PK\x03\x04"):
            return _zip_flavour(stream)
        if _looks_like_text(head):
            return CSV
        return None
    finally:
        stream.seek(0)


def extension_of(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot > 0 else ""
