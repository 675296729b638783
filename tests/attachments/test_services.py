"""Storing uploads: what is recorded, what is refused (with nothing left behind), and how
objects of failed transactions are removed, at once or by the sweep."""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import scoped_session, sessionmaker
from sqlalchemy.pool import StaticPool

from grants.attachments import services
from grants.attachments.models import StoredFile
from grants.attachments.services import store_upload, sweep_orphans
from grants.attachments.storage import LocalStorage
from grants.core.errors import DomainError
from grants.core.types import utcnow
from grants.extensions import db
from tests.attachments.fixtures import SAMPLES, stored_keys, unfinished_keys
from tests.conftest import database_url

MiB = 1024 * 1024


def stored_file_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredFile))


class Unseekable:
    """An upload whose size is not known in advance (a stream that cannot seek to its end)."""

    def __init__(self, content: bytes):
        self._stream = io.BytesIO(content)
        self._sniffed = False

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        # Rewinding to the start (after sniffing the type) is all such a stream allows.
        if (offset, whence) != (0, 0):
            raise OSError("stream is not seekable")
        return self._stream.seek(0)

    def tell(self) -> int:
        raise OSError("stream is not seekable")


@pytest.fixture
def clock_moved_forward(app, monkeypatch):
    """``clock_moved_forward(minutes)``: the sweep runs as if that much time had passed
    (with a grace period of 60 minutes, whatever the environment sets)."""
    monkeypatch.setitem(app.config, "ORPHAN_SWEEP_GRACE_MINUTES", 60)

    def move(minutes: int) -> None:
        later = utcnow() + timedelta(minutes=minutes)
        monkeypatch.setattr(services, "utcnow", lambda: later)

    return move


# --- what is recorded -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", SAMPLES)
def test_store_upload_records_type_size_and_sha256(app_storage, make_user, kind):
    filename, content, content_type = SAMPLES[kind]
    uploader = make_user()

    stored = store_upload(io.BytesIO(content), filename, uploaded_by=uploader)

    assert stored.id is not None
    assert stored.content_type == content_type
    assert stored.size_bytes == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.original_filename == filename
    assert stored.uploaded_by_id == uploader.id
    with app_storage.open(stored.storage_key) as handle:
        assert handle.read() == content


def test_store_upload_generates_keys_that_never_contain_the_users_filename(app_storage, sample):
    filename, content, _ = sample("pdf")

    first = store_upload(io.BytesIO(content), "../../etc/letter.pdf", uploaded_by=None)
    second = store_upload(io.BytesIO(content), "../../etc/letter.pdf", uploaded_by=None)

    assert first.storage_key != second.storage_key
    for stored in (first, second):
        assert re.fullmatch(r"\d{4}/\d{2}/[0-9a-f]{32}", stored.storage_key)
        assert stored.original_filename == "letter.pdf"
    assert stored_keys(app_storage) == sorted([first.storage_key, second.storage_key])


def test_store_upload_keeps_only_the_name_of_a_windows_path(app_storage, sample):
    _, content, _ = sample("pdf")

    stored = store_upload(io.BytesIO(content), "C:\\Users\\Ama\\Documents\\Board letter.pdf", uploaded_by=None)

    assert stored.original_filename == "Board letter.pdf"


def test_store_upload_accepts_an_extension_in_capitals(app_storage, sample):
    _, content, _ = sample("jpeg")

    stored = store_upload(io.BytesIO(content), "PHOTO.JPEG", uploaded_by=None)

    assert stored.content_type == "image/jpeg"


def test_store_upload_streams_a_file_of_unknown_size(app_storage, sample):
    _, content, _ = sample("csv")

    stored = store_upload(Unseekable(content), "outcomes.csv", uploaded_by=None)

    assert stored.size_bytes == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()


# --- refusals: a clear message and nothing stored --------------------------------------------

def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buffer.getvalue()


@pytest.mark.parametrize(("filename", "content", "message"), [
    pytest.param("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "“setup.exe” is not an accepted file type. "
                 "Upload a PDF, DOCX, XLSX, CSV, PNG or JPEG file.", id="windows-program"),
    pytest.param("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "“report.pdf” is not an accepted file type",
                 id="program-named-pdf"),
    pytest.param("page.html", b"<!doctype html><script>alert(1)</script>", "“page.html” is not an accepted file type",
                 id="html-page"),
    pytest.param("notes.zip", _zip("notes.txt"), "“notes.zip” is not an accepted file type", id="plain-zip"),
    pytest.param("budget.xlsx", _zip("notes.txt"), "“budget.xlsx” is not an accepted file type",
                 id="zip-named-xlsx"),
    pytest.param("logo.png", SAMPLES["pdf"][1], "“logo.png” is not a real PNG image: it contains a PDF. "
                 "Rename it to end in .pdf, or upload the PNG image itself.", id="pdf-named-png"),
    pytest.param("narrative.docx", SAMPLES["xlsx"][1], "“narrative.docx” is not a real Word document (DOCX): it contains an Excel "
                 "workbook (XLSX)",
                 id="xlsx-named-docx"),
    pytest.param("letter.pdf", b"", "The file is empty.", id="empty"),
    # Any text sniffs as CSV; a text file named .pdf must not be told to become a .csv.
    pytest.param("letter.pdf", b"Dear programme officer,\nwe commit to the partnership.\n",
                 "“letter.pdf” is not a real PDF: its content is plain text. Upload the PDF itself",
                 id="text-named-pdf"),
])
def test_store_upload_refuses_and_stores_nothing(app_storage, filename, content, message):
    with pytest.raises(DomainError) as refusal:
        store_upload(io.BytesIO(content), filename, uploaded_by=None)

    assert message in refusal.value.message
    assert stored_file_count() == 0
    assert stored_keys(app_storage) == []


def test_store_upload_refuses_a_file_over_the_size_limit(app, app_storage, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1 * MiB)
    content = b"%PDF-1.7\n" + b"x" * MiB

    with pytest.raises(DomainError, match="larger than the limit of 1 MB"):
        store_upload(io.BytesIO(content), "letter.pdf", uploaded_by=None)

    assert stored_file_count() == 0
    assert stored_keys(app_storage) == []


def test_store_upload_cuts_off_a_stream_of_unknown_size_at_the_limit(app, app_storage, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1 * MiB)
    content = b"%PDF-1.7\n" + b"x" * (2 * MiB)

    with pytest.raises(DomainError, match="larger than the limit of 1 MB"):
        store_upload(Unseekable(content), "letter.pdf", uploaded_by=None)

    assert stored_file_count() == 0
    assert stored_keys(app_storage) == []


# --- a transaction that does not commit leaves no object -------------------------------------

def test_store_upload_then_commit_keeps_the_object(app_storage, sample):
    filename, content, _ = sample("pdf")
    stored = store_upload(io.BytesIO(content), filename, uploaded_by=None)

    db.session.commit()
    db.session.rollback()  # a later transaction failing must not touch committed uploads

    assert stored_keys(app_storage) == [stored.storage_key]


def test_store_upload_then_rollback_leaves_no_object(app_storage, sample):
    filename, content, _ = sample("pdf")
    stored = store_upload(io.BytesIO(content), filename, uploaded_by=None)
    assert app_storage.exists(stored.storage_key)

    db.session.rollback()

    assert stored_keys(app_storage) == []
    assert stored_file_count() == 0


def test_store_upload_then_a_commit_failing_on_a_constraint_leaves_no_object(app_storage, sample):
    filename, content, _ = sample("pdf")
    stored = store_upload(io.BytesIO(content), filename, uploaded_by=None)
    db.session.add(StoredFile(storage_key=stored.storage_key, original_filename="clash.pdf",
                              content_type="application/pdf", size_bytes=1, sha256="0" * 64))

    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    assert stored_keys(app_storage) == []
    assert stored_file_count() == 0


def test_store_upload_in_a_session_closed_without_commit_leaves_no_object(app_storage, sample):
    # What the end of a request does when its view raised before committing.
    filename, content, _ = sample("pdf")
    store_upload(io.BytesIO(content), filename, uploaded_by=None)

    db.session.remove()

    assert stored_keys(app_storage) == []


@pytest.fixture
def plain_session(monkeypatch):
    """db.session as in production: its own connection, no outer test transaction."""
    url = database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, poolclass=StaticPool)
        db.metadata.create_all(engine)
    else:
        engine = create_engine(url)
    session = scoped_session(sessionmaker(bind=engine))
    monkeypatch.setattr(db, "session", session)
    yield session
    session.remove()
    engine.dispose()


def test_store_upload_then_rollback_in_a_plain_session_leaves_no_object(plain_session, app_storage, sample):
    filename, content, _ = sample("pdf")
    store_upload(io.BytesIO(content), filename, uploaded_by=None)

    plain_session.rollback()

    assert stored_keys(app_storage) == []


def test_store_upload_then_a_failing_commit_in_a_plain_session_leaves_no_object(plain_session, app_storage, sample):
    filename, content, _ = sample("pdf")
    stored = store_upload(io.BytesIO(content), filename, uploaded_by=None)
    plain_session.add(StoredFile(storage_key=stored.storage_key, original_filename="clash.pdf",
                                 content_type="application/pdf", size_bytes=1, sha256="0" * 64))

    with pytest.raises(IntegrityError):
        plain_session.commit()
    plain_session.rollback()

    assert stored_keys(app_storage) == []


def test_store_upload_inside_a_savepoint_rolled_back_leaves_no_object(app_storage, sample):
    filename, content, _ = sample("pdf")
    kept = store_upload(io.BytesIO(content), "kept.pdf", uploaded_by=None)

    savepoint = db.session.begin_nested()
    store_upload(io.BytesIO(content), filename, uploaded_by=None)
    savepoint.rollback()
    db.session.commit()

    assert stored_keys(app_storage) == [kept.storage_key]


def test_store_upload_then_a_released_savepoint_then_rollback_leaves_no_object(app_storage, sample):
    # A savepoint used for something else (e.g. get-or-create) commits on its own; the upload
    # still belongs to the outer transaction, which then fails.
    filename, content, _ = sample("pdf")
    store_upload(io.BytesIO(content), filename, uploaded_by=None)
    with db.session.begin_nested():
        pass

    db.session.rollback()

    assert stored_keys(app_storage) == []


def test_store_upload_inside_a_released_savepoint_then_commit_keeps_the_object(app_storage, sample):
    filename, content, _ = sample("pdf")

    with db.session.begin_nested():
        stored = store_upload(io.BytesIO(content), filename, uploaded_by=None)
    db.session.commit()

    assert stored_keys(app_storage) == [stored.storage_key]


def test_store_upload_inside_a_released_savepoint_then_rollback_leaves_no_object(app_storage, sample):
    filename, content, _ = sample("pdf")

    with db.session.begin_nested():
        store_upload(io.BytesIO(content), filename, uploaded_by=None)
    db.session.rollback()

    assert stored_keys(app_storage) == []


def test_store_upload_as_the_first_thing_in_a_fresh_session_is_still_cleaned_up(plain_session, app_storage, sample):
    filename, content, _ = sample("pdf")
    plain_session.remove()  # no transaction has begun when the object is stored

    store_upload(io.BytesIO(content), filename, uploaded_by=None)
    plain_session.rollback()

    assert stored_keys(app_storage) == []


# --- the sweep --------------------------------------------------------------------------------

def _orphan(storage, key: str = "2026/01/0123456789abcdef0123456789abcdef") -> str:
    """An object whose row never committed and whose cleanup never ran (the worker died)."""
    storage.save(key, io.BytesIO(SAMPLES["pdf"][1]), content_type="application/pdf", metadata={})
    return key


def test_sweep_orphans_deletes_an_old_unreferenced_object_and_keeps_referenced_ones(
        app_storage, sample, clock_moved_forward):
    filename, content, _ = sample("pdf")
    referenced = store_upload(io.BytesIO(content), filename, uploaded_by=None)
    db.session.commit()
    orphan = _orphan(app_storage)
    clock_moved_forward(61)

    swept = sweep_orphans()

    assert swept == [orphan]
    assert stored_keys(app_storage) == [referenced.storage_key]


def test_sweep_orphans_keeps_an_object_younger_than_the_grace_period(app_storage, clock_moved_forward):
    # Its upload may still be on its way to a commit.
    orphan = _orphan(app_storage)
    clock_moved_forward(59)

    swept = sweep_orphans()

    assert swept == []
    assert stored_keys(app_storage) == [orphan]


def test_sweep_orphans_dry_run_lists_without_deleting(app_storage, clock_moved_forward):
    orphan = _orphan(app_storage)
    clock_moved_forward(61)

    swept = sweep_orphans(dry_run=True)

    assert swept == [orphan]
    assert stored_keys(app_storage) == [orphan]


def _unfinished(storage, key: str = "2026/01/feedfacefeedfacefeedfacefeedface") -> str:
    """What an outage mid-upload leaves: on S3 a multipart upload holding the parts sent so
    far (invisible to a listing of objects); locally the partial file of a worker that died."""
    if isinstance(storage, LocalStorage):
        path = storage.root / "2026/01/.part-k3x9q1"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7\n" + b"x" * 1024)
        # Dated by the process clock, as the store dates its files: under a moved test clock
        # the kernel's own stamp would make a fresh part look months old.
        os.utime(path, (time.time(), time.time()))
        return "2026/01/.part-k3x9q1"
    started = storage.client.create_multipart_upload(Bucket=storage.bucket, Key=key)
    storage.client.upload_part(Bucket=storage.bucket, Key=key, UploadId=started["UploadId"], PartNumber=1,
                               Body=b"x" * (5 * MiB))
    return key


def test_sweep_unfinished_uploads_discards_one_older_than_the_grace_period(app_storage, clock_moved_forward):
    unfinished = _unfinished(app_storage)
    clock_moved_forward(61)

    swept = services.sweep_unfinished_uploads()

    assert swept == [unfinished]
    assert unfinished_keys(app_storage) == []


def test_sweep_unfinished_uploads_keeps_one_younger_than_the_grace_period(request, app_storage, clock_moved_forward):
    # It may be an upload still on its way.
    if request.node.callspec.params["storage"] == "moto":
        pytest.skip("moto (5.2) reports every multipart upload as started in 2010; the real server shows this")
    unfinished = _unfinished(app_storage)
    clock_moved_forward(59)

    swept = services.sweep_unfinished_uploads()

    assert swept == []
    assert unfinished_keys(app_storage) == [unfinished]


def test_sweep_command_discards_unfinished_uploads_and_reports_them(app, app_storage, clock_moved_forward):
    unfinished = _unfinished(app_storage)
    clock_moved_forward(61)

    result = app.test_cli_runner().invoke(args=["attachments", "sweep"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["0 orphaned object(s) deleted.", f"{unfinished} (unfinished upload)",
                                          "1 unfinished upload(s) discarded."]
    assert unfinished_keys(app_storage) == []


def test_sweep_command_deletes_orphans_and_reports_them(app, app_storage, sample, clock_moved_forward):
    filename, content, _ = sample("pdf")
    referenced = store_upload(io.BytesIO(content), filename, uploaded_by=None)
    db.session.commit()
    orphan = _orphan(app_storage)
    clock_moved_forward(61)

    result = app.test_cli_runner().invoke(args=["attachments", "sweep"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [orphan, "1 orphaned object(s) deleted.", "0 unfinished upload(s) discarded."]
    assert stored_keys(app_storage) == [referenced.storage_key]


def test_sweep_command_dry_run_deletes_nothing(app, app_storage, clock_moved_forward):
    orphan = _orphan(app_storage)
    clock_moved_forward(61)

    result = app.test_cli_runner().invoke(args=["attachments", "sweep", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [orphan, "1 orphaned object(s) found.", "0 unfinished upload(s) found."]
    assert stored_keys(app_storage) == [orphan]
