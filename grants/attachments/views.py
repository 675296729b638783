"""Handing a stored file to a user who has already passed the owner's permission check."""

from __future__ import annotations

import logging

from flask import Response, redirect, stream_with_context

from grants.attachments.models import StoredFile
from grants.attachments.storage import MISSING_MESSAGE, content_disposition, get_storage
from grants.core.errors import StoredObjectMissing

log = logging.getLogger("grants.attachments")

STREAM_CHUNK = 256 * 1024


def serve_stored_file(stored: StoredFile) -> Response:
    """A redirect to a presigned URL (S3, at most 5 minutes) or the file streamed (local).

    Callers check permission on the owning object first; this function never does. A file
    the store has lost is a clear 404 page (and logged), an unreachable store a 503, never a
    redirect to the store's own XML error.
    """
    storage = get_storage()
    if not storage.exists(stored.storage_key):
        log.error("stored file %s (%s) has no object %s in the store", stored.id, stored.original_filename,
                  stored.storage_key)
        raise StoredObjectMissing(MISSING_MESSAGE)
    url = storage.download_url(stored.storage_key, filename=stored.original_filename,
                               content_type=stored.content_type)
    if url is not None:
        response = redirect(url, code=303)
        response.headers["Cache-Control"] = "no-store"
        return response
    handle = storage.open(stored.storage_key)

    def chunks():
        with handle:
            while chunk := handle.read(STREAM_CHUNK):
                yield chunk

    response = Response(stream_with_context(chunks()), mimetype=stored.content_type)
    response.headers["Content-Disposition"] = content_disposition(stored.original_filename)
    response.headers["Content-Length"] = str(stored.size_bytes)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
