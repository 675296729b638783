"""Presigned download links over real HTTP: the browser gets the bytes as a download, and a
link that was altered or has outlived its five minutes is refused.

moto's server (5.2) serves a presigned GET without checking its signature or its expiry,
so tests against it alone could not show a refusal. A small front, written from the SigV4
query-string rules rather than with botocore's signer, checks both the way S3 does and
hands valid requests on to moto. test_real_s3.py shows the same refusals by Ceph's
RADOS Gateway itself.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from grants.attachments.storage import content_disposition
from tests.attachments.fixtures import MOTO_SECRET_ACCESS_KEY


class PresignedUrlCheck:
    """WSGI middleware: refuse presigned GETs with a wrong signature or past their expiry."""

    def __init__(self, app, secret_access_key: str):
        self.app = app
        self.secret_access_key = secret_access_key
        self.clock = time.time

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if environ["REQUEST_METHOD"] == "GET" and "X-Amz-Signature=" in query:
            problem = self.problem(environ)
            if problem:
                body = f"<Error><Code>AccessDenied</Code><Message>{problem}</Message></Error>".encode()
                start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                                 ("Content-Length", str(len(body)))])
                return [body]
        return self.app(environ, start_response)

    def problem(self, environ) -> str | None:
        raw_path = environ.get("RAW_URI", environ["PATH_INFO"]).split("?", 1)[0]
        params = parse_qsl(environ["QUERY_STRING"], keep_blank_values=True)
        given = dict(params)
        signed_at = datetime.strptime(given["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        if self.clock() > signed_at.timestamp() + int(given["X-Amz-Expires"]):
            return "Request has expired"
        _, scope_date, region, service, _ = given["X-Amz-Credential"].split("/")

        def encode(value: str) -> str:
            return quote(value, safe="-_.~")

        canonical_query = "&".join(f"{encode(name)}={encode(value)}" for name, value in
                                   sorted(params) if name != "X-Amz-Signature")
        canonical_request = "\n".join([
            "GET", raw_path, canonical_query, f"host:{environ['HTTP_HOST']}", "", "host", "UNSIGNED-PAYLOAD",
        ])
        string_to_sign = "\n".join([
            "AWS4-HMAC-SHA256", given["X-Amz-Date"], f"{scope_date}/{region}/{service}/aws4_request",
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ])
        key = f"AWS4{self.secret_access_key}".encode()
        for part in (scope_date, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given["X-Amz-Signature"]):
            return "The request signature we calculated does not match the signature you provided"
        return None


@pytest.fixture(scope="module")
def front(moto_server):
    """The checking front before the session's moto server, for this module's tests."""
    check = PresignedUrlCheck(moto_server.wsgi_app, MOTO_SECRET_ACCESS_KEY)
    moto_server.wsgi_app = check
    yield check
    moto_server.wsgi_app = check.app


@pytest.fixture
def served_storage(front, moto_storage, monkeypatch):
    """moto's S3 behind the front, with a clock a test may move (restored afterwards)."""
    monkeypatch.setattr(front, "clock", time.time)
    return moto_storage


def fetch(url: str):
    """(status, headers, body) of a plain GET, as a browser following the link would send it."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as refusal:
        with refusal:
            return refusal.code, refusal.headers, refusal.read()


def upload(storage, key: str, content: bytes, filename: str) -> str:
    storage.save(key, io.BytesIO(content), content_type="application/pdf",
                 metadata={"original-filename": quote(filename)})
    return storage.download_url(key, filename=filename, content_type="application/pdf")


@pytest.mark.parametrize(("key", "filename"), [
    ("2026/05/ascii", "Letter of commitment.pdf"),
    ("2026/05/non-ascii", "Lettre d’engagement – Clínica Sí.pdf"),
])
def test_download_url_serves_the_bytes_as_an_attachment_with_the_filename(served_storage, key, filename):
    content = b"%PDF-1.7\n" + bytes(range(256)) * 64
    url = upload(served_storage, key, content, filename)

    status, headers, body = fetch(url)

    assert status == 200
    assert body == content
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == content_disposition(filename)
    assert headers["Content-Disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote(filename)}" in headers["Content-Disposition"]


def test_download_url_with_a_tampered_signature_is_refused(served_storage):
    url = upload(served_storage, "2026/05/tampered", b"%PDF-1.7\n", "letter.pdf")
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    forged = "0" * len(signature) if signature != "0" * len(signature) else "1" * len(signature)

    status, _, body = fetch(url.replace(signature, forged))

    assert status == 403
    assert b"signature" in body


def test_download_url_altered_to_display_inline_is_refused(served_storage):
    # The disposition is part of what is signed: nobody can turn the download into a page.
    url = upload(served_storage, "2026/05/inline", b"%PDF-1.7\n", "letter.pdf")

    status, _, _ = fetch(url.replace("response-content-disposition=attachment", "response-content-disposition=inline"))

    assert status == 403


def test_download_url_is_refused_once_five_minutes_have_passed(served_storage, front):
    url = upload(served_storage, "2026/05/expiring", b"%PDF-1.7\n", "letter.pdf")
    assert fetch(url)[0] == 200
    issued = time.time()

    front.clock = lambda: issued + 301
    status, _, body = fetch(url)

    assert status == 403
    assert b"expired" in body
