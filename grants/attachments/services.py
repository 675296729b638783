"""Storing uploads: type check, streaming hash, server keys, cleanup when a commit fails."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta
from typing import BinaryIO
from urllib.parse import quote

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from grants.attachments.filetypes import (
    ALLOWED_EXTENSIONS,
    ALLOWED_LABEL,
    CSV,
    detect_file_type,
    extension_of,
    type_for_extension,
)
from grants.attachments.models import StoredFile
from grants.attachments.storage import Storage, get_storage
from grants.core.errors import DomainError, StorageUnavailable
from grants.core.types import utcnow
from grants.extensions import db

log = logging.getLogger("grants.attachments")

class HashingReader:
    """Wraps a stream: counts and hashes what is read, refuses more than ``limit`` bytes."""

    def __init__(self, stream: BinaryIO, limit: int):
        self._stream = stream
        self._limit = limit
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.size += len(chunk)
        if self.size > self._limit:
            raise DomainError(f"The file is larger than the limit of {self._limit // (1024 * 1024)} MB.")
        self.sha256.update(chunk)
        return chunk


def clean_filename(filename: str | None) -> str:
    # Keep the user's name for display, but never a path: browsers on Windows send one.
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255] or "upload"


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        position = stream.tell()
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(position)
        return size
    except (AttributeError, OSError, ValueError):
        return None


def store_upload(stream: BinaryIO, filename: str | None, *, uploaded_by) -> StoredFile:
    """Check, store and record one uploaded file; the row is flushed, not committed.

    Refuses (DomainError, nothing stored) an empty file, one over ATTACHMENT_MAX_BYTES, or
    one whose content is not on the allow-list or does not match its extension. If the
    surrounding transaction does not commit, the stored object is deleted again.
    """
    name = clean_filename(filename)
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    size = _stream_size(stream)
    if size == 0:
        raise DomainError("The file is empty.")
    if size is not None and size > limit:
        raise DomainError(f"The file is larger than the limit of {limit // (1024 * 1024)} MB.")
    file_type = detect_file_type(stream)
    # Any text sniffs as CSV, so an extension off the allow-list (.html, .txt) is refused as
    # such rather than with advice to rename the file to .csv.
    if file_type is None or extension_of(name) not in ALLOWED_EXTENSIONS:
        raise DomainError(f"“{name}” is not an accepted file type. Upload a {ALLOWED_LABEL} file.")
    if extension_of(name) not in file_type.extensions:
        claimed = type_for_extension(extension_of(name))
        if file_type is CSV:
            # Any text sniffs as CSV: a text file named .pdf is not a CSV someone misnamed.
            raise DomainError(f"“{name}” is not a real {claimed.label}: its content is plain text. "
                              f"Upload the {claimed.label} itself (save or export it as {claimed.label}).")
        # Say what was expected (the extension's type) before what the file really is.
        article = "an" if file_type.label[0] in "AEIOU" else "a"
        raise DomainError(
            f"“{name}” is not a real {claimed.label}: it contains {article} {file_type.label}. "
            f"Rename it to end in {file_type.extensions[0]}, or upload the {claimed.label} itself."
        )
    storage = get_storage()
    now = utcnow()
    key = f"{now:%Y/%m}/{uuid.uuid4().hex}"
    reader = HashingReader(stream, limit)
    storage.save(key, reader, content_type=file_type.content_type,
                 metadata={"original-filename": quote(name)})
    _remember(_UNCOMMITTED, storage, key)
    stored = StoredFile(
        storage_key=key,
        original_filename=name,
        content_type=file_type.content_type,
        size_bytes=reader.size,
        sha256=reader.sha256.hexdigest(),
        uploaded_by_id=uploaded_by.id if uploaded_by is not None else None,
        uploaded_at=now,
    )
    db.session.add(stored)
    db.session.flush()
    return stored


# Objects whose fate hangs on a transaction: (owning transaction, storage, key) entries in
# the session's info, under one name per kind (uploads not committed yet; discarded files).
_UNCOMMITTED = "grants_uncommitted_uploads"
_DISCARDED = "grants_discarded_files"


def _remember(kind: str, storage: Storage, key: str) -> None:
    # Each object belongs to the innermost transaction at this moment: it lives or dies with
    # the rows that transaction holds.
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(kind, []).append((transaction, storage, key))


def _committed_entries(session: Session, kind: str) -> list[tuple[Storage, str]]:
    """After a commit: the (storage, key) entries the root's commit made final, taken off
    the list. A released SAVEPOINT (after_commit fires for it too, before it closes) finalises
    nothing: its entries now share the fate of the enclosing transaction."""
    pending = session.info.get(kind)
    if not pending:
        return []
    committed = session.get_nested_transaction() or session.get_transaction()
    if committed is not None and committed.nested:
        session.info[kind] = [(committed.parent if owner is committed else owner, storage, key)
                              for owner, storage, key in pending]
        return []
    session.info.pop(kind, None)
    return [(storage, key) for _owner, storage, key in pending]


def _entries_of_failed(session: Session, kind: str, transaction) -> list[tuple[Storage, str]]:
    """After a transaction ended (runs after after_commit, so entries still listed against it
    were not committed: it rolled back or was closed): its entries, taken off the list."""
    pending = session.info.get(kind)
    if not pending:
        return []
    session.info[kind] = [entry for entry in pending if entry[0] is not transaction]
    return [(storage, key) for owner, storage, key in pending if owner is transaction]


def _delete_objects(entries: list[tuple[Storage, str]], what: str) -> None:
    for storage, key in entries:
        try:
            storage.delete(key)
        except StorageUnavailable:
            log.warning("could not delete %s object %s; `flask attachments sweep` will", what, key)


@event.listens_for(Session, "after_commit")
def _uploads_committed(session: Session) -> None:
    _committed_entries(session, _UNCOMMITTED)  # committed uploads stay


@event.listens_for(Session, "after_transaction_end")
def _delete_uploads_of_failed_transaction(session: Session, transaction) -> None:
    # Their rows are gone, so their objects go too.
    _delete_objects(_entries_of_failed(session, _UNCOMMITTED, transaction), "orphaned")


def discard_stored_files(files) -> None:
    """Delete these files' rows now and their objects once the transaction commits.

    The objects outlive a rollback (their rows come back). If the store is unreachable after
    the commit, the objects are left as orphans: no row refers to them, so `flask attachments
    sweep` deletes them after the grace period.
    """
    for stored in files:
        _remember(_DISCARDED, get_storage(), stored.storage_key)
        db.session.delete(stored)
    db.session.flush()


@event.listens_for(Session, "after_commit")
def _discarded_files_committed(session: Session) -> None:
    _delete_objects(_committed_entries(session, _DISCARDED), "discarded")


@event.listens_for(Session, "after_transaction_end")
def _keep_files_of_failed_transaction(session: Session, transaction) -> None:
    # Rolled back: their rows are back, so their objects must stay.
    _entries_of_failed(session, _DISCARDED, transaction)


def sweep_orphans(*, dry_run: bool = False) -> list[str]:
    """Delete stored objects no StoredFile row refers to, older than the grace period.

    The grace period protects uploads whose transaction is still in flight.
    """
    storage = get_storage()
    cutoff = _sweep_cutoff()
    known = set(db.session.scalars(select(StoredFile.storage_key)))
    orphans = [obj.key for obj in storage.iter_objects() if obj.key not in known and obj.modified_at < cutoff]
    if not dry_run:
        for key in orphans:
            storage.delete(key)
    return orphans


def sweep_unfinished_uploads(*, dry_run: bool = False) -> list[str]:
    """Discard uploads started before the grace period that never completed (an outage
    mid-upload leaves S3 holding the parts sent so far, invisible to a listing of objects)."""
    storage = get_storage()
    cutoff = _sweep_cutoff()
    stale = [upload for upload in storage.iter_unfinished() if upload.started_at < cutoff]
    if not dry_run:
        for upload in stale:
            storage.discard_unfinished(upload)
    return [upload.key for upload in stale]


def _sweep_cutoff():
    return utcnow() - timedelta(minutes=current_app.config["ORPHAN_SWEEP_GRACE_MINUTES"])
