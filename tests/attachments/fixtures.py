"""Attachment fixtures shared by the storage tests and the pages that upload files:
both backends, the app's storage swapped for a test, and sample files built in code.

The sample files are the smallest content each allowed type is recognised by; building
them here means no binary fixture is kept in the repository.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from moto import mock_aws

from grants.attachments.storage import LocalStorage, S3Storage

BUCKET = "grants-attachments-test"


def _pdf() -> bytes:
    return (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _jpeg() -> bytes:
    # SOI, a JFIF APP0 segment, EOI: enough for a reader to recognise the format.
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def _office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml",
                         '<?xml version="1.0" encoding="UTF-8"?>'
                         '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr(part, '<?xml version="1.0" encoding="UTF-8"?><root/>')
    return buffer.getvalue()


SAMPLES = {
    "pdf": ("letter.pdf", _pdf(), "application/pdf"),
    "png": ("logo.png", _png(), "image/png"),
    "jpeg": ("photo.jpg", _jpeg(), "image/jpeg"),
    "docx": ("narrative.docx", _office("word/document.xml"),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("budget.xlsx", _office("xl/workbook.xml"),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("outcomes.csv", "metric,value\nCommunity members reached,1250\nTrusted messengers,18\n".encode(),
            "text/csv"),
}


@pytest.fixture
def sample():
    """``sample("pdf")`` → (filename, content bytes, expected content type)."""
    return SAMPLES.__getitem__


@pytest.fixture
def aws_credentials(monkeypatch):
    # Never let a developer's real AWS settings reach a test, even by mistake.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def s3_storage(aws_credentials):
    """S3Storage against moto's in-process S3, with its bucket created."""
    with mock_aws():
        storage = S3Storage(bucket=BUCKET, region="us-east-1")
        storage.client.create_bucket(Bucket=BUCKET)
        yield storage


@pytest.fixture
def local_storage(tmp_path):
    return LocalStorage(tmp_path / "attachments")


@pytest.fixture(params=["local", "s3"])
def storage(request):
    """Each test that asks for this runs once on each backend: they must behave the same."""
    return request.getfixturevalue(f"{request.param}_storage")


@pytest.fixture
def use_storage(app):
    """``use_storage(storage)`` makes the app store attachments there until the test ends."""
    with pytest.MonkeyPatch.context() as patch:
        def use(storage):
            patch.setitem(app.extensions, "grants_storage", storage)
            return storage

        yield use


@pytest.fixture
def app_storage(use_storage, storage):
    """The app storing its attachments in ``storage`` (each backend in turn)."""
    return use_storage(storage)


def stored_keys(storage) -> list[str]:
    return sorted(obj.key for obj in storage.iter_objects())
