"""Attachment fixtures shared by the storage tests and the pages that upload files:
both backends, the app's storage swapped for a test, and sample files built in code.

The sample files are the smallest content each allowed type is recognised by; building
them here means no binary fixture is kept in the repository.
"""

from __future__ import annotations

import io
import os
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass

import pytest
from moto.server import ThreadedMotoServer

from grants.attachments.storage import LocalStorage, S3Storage

BUCKET = "grants-attachments-test"
MOTO_ACCESS_KEY_ID = "AKIDGRANTSTEST"
MOTO_SECRET_ACCESS_KEY = "grants-test-secret"


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


@dataclass(frozen=True)
class S3Target:
    """An S3 endpoint the tests may use, with the settings the app would be given for it."""

    name: str
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    bucket: str
    server_side_encryption: str | None = "AES256"
    kms_key_id: str | None = None
    ca_bundle: str | None = None

    def storage(self, **changes) -> S3Storage:
        """S3Storage on this target; ``changes`` alter any setting (another bucket, a wrong key)."""
        settings = {"bucket": self.bucket, "region": "us-east-1", "endpoint_url": self.endpoint_url,
                    "access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key,
                    "server_side_encryption": self.server_side_encryption, "kms_key_id": self.kms_key_id,
                    "ca_bundle": self.ca_bundle, **changes}
        return S3Storage(**settings)

    def app_settings(self, **changes) -> dict:
        """The same target as the app's configuration (STORAGE_BACKEND=s3 and S3_*)."""
        settings = {"STORAGE_BACKEND": "s3", "S3_BUCKET": self.bucket, "S3_REGION": "us-east-1",
                    "S3_ENDPOINT_URL": self.endpoint_url, "S3_ACCESS_KEY_ID": self.access_key_id,
                    "S3_SECRET_ACCESS_KEY": self.secret_access_key,
                    "S3_SERVER_SIDE_ENCRYPTION": self.server_side_encryption, "S3_KMS_KEY_ID": self.kms_key_id,
                    "S3_CA_BUNDLE": self.ca_bundle}
        return {**settings, **changes}


def empty_bucket(storage: S3Storage) -> None:
    """Remove every object and unfinished upload, so the next test starts from an empty store."""
    for upload in storage.iter_unfinished():
        storage.discard_unfinished(upload)
    for obj in storage.iter_objects():
        storage.delete(obj.key)


class MotoServer:
    """moto's S3 served over HTTP in this process, started once for the whole session."""

    def __init__(self):
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.target = S3Target(name="moto", endpoint_url=f"http://{host}:{port}",
                               access_key_id=MOTO_ACCESS_KEY_ID, secret_access_key=MOTO_SECRET_ACCESS_KEY,
                               bucket=BUCKET)
        self.target.storage().client.create_bucket(Bucket=BUCKET)

    @property
    def wsgi_app(self):
        return self.server._server.app

    @wsgi_app.setter
    def wsgi_app(self, app):
        self.server._server.app = app  # what serves each request from now on

    def stop(self):
        self.server.stop()


@pytest.fixture(scope="session")
def moto_server():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def radosgw_target():
    """Ceph's RADOS Gateway started by scripts/s3-test-server: HTTPS, SSE-KMS with its test key.

    Skips, saying why, where no server is running; fails instead where GRANTS_REQUIRE_S3=1 (CI).
    """
    target = radosgw_from_environment()
    problem = None if target else "GRANTS_TEST_S3_HTTPS_ENDPOINT is not set"
    if target:
        try:
            target.storage().client.create_bucket(Bucket=target.bucket)
        except Exception as exc:  # noqa: BLE001 - whatever stops it, the reason is shown
            problem = f"the S3 server at {target.endpoint_url} did not answer: {exc}"
    if problem:
        message = f"no real S3 server ({problem}); run `eval \"$(scripts/s3-test-server start)\"`"
        if os.environ.get("GRANTS_REQUIRE_S3") == "1":
            pytest.fail(message)
        pytest.skip(message)
    yield target
    storage = target.storage()
    empty_bucket(storage)
    storage.client.delete_bucket(Bucket=target.bucket)


def radosgw_from_environment(**changes) -> S3Target | None:
    """The real server's HTTPS endpoint as scripts/s3-test-server prints it, with a bucket of
    this session's own (several test runs may share one server)."""
    endpoint = os.environ.get("GRANTS_TEST_S3_HTTPS_ENDPOINT")
    if not endpoint:
        return None
    settings = {"name": "radosgw", "endpoint_url": endpoint,
                "access_key_id": os.environ["GRANTS_TEST_S3_ACCESS_KEY_ID"],
                "secret_access_key": os.environ["GRANTS_TEST_S3_SECRET_ACCESS_KEY"],
                "bucket": f"grants-test-{uuid.uuid4().hex[:12]}", "server_side_encryption": "aws:kms",
                "kms_key_id": os.environ["GRANTS_TEST_S3_KMS_KEY_ID"],
                "ca_bundle": os.environ["GRANTS_TEST_S3_CA_BUNDLE"]}
    return S3Target(**{**settings, **changes})


@pytest.fixture
def moto_storage(moto_server):
    """S3Storage against the session's moto server; its bucket is emptied after the test."""
    storage = moto_server.target.storage()
    yield storage
    empty_bucket(storage)


@pytest.fixture
def radosgw_storage(radosgw_target):
    """S3Storage against the real S3 server; its bucket is emptied after the test."""
    storage = radosgw_target.storage()
    yield storage
    empty_bucket(storage)


@pytest.fixture(params=["moto", "radosgw"])
def s3_target(request):
    """Each S3 test runs against moto and against the real server (skipped where it is absent)."""
    if request.param == "moto":
        return request.getfixturevalue("moto_server").target
    return request.getfixturevalue("radosgw_target")


@pytest.fixture
def s3_storage(s3_target):
    storage = s3_target.storage()
    yield storage
    empty_bucket(storage)


@pytest.fixture
def local_storage(tmp_path):
    return LocalStorage(tmp_path / "attachments")


@pytest.fixture(params=["local", "moto", "radosgw"])
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


def unfinished_keys(storage) -> list[str]:
    return sorted(upload.key for upload in storage.iter_unfinished())
