"""What a real S3 implementation (Ceph's RADOS Gateway 16, from scripts/s3-test-server)
does that moto does not, and how the app answers: encryption refused over plain HTTP or
accepted and ignored, boto3's checksum trailer, credentials and expiry really checked.

Every test here skips, saying why, where no server runs (and fails where GRANTS_REQUIRE_S3=1).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import ssl
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from sqlalchemy import func, select

from grants.attachments.models import StoredFile
from grants.attachments.services import store_upload, sweep_unfinished_uploads
from grants.attachments.storage import content_disposition, storage_from_config
from grants.core.errors import StorageMisconfigured, StorageUnavailable
from grants.extensions import db
from tests.attachments.faults import OutageProxy
from tests.attachments.fixtures import SAMPLES, stored_keys, unfinished_keys

PDF_NAME, PDF, _ = SAMPLES["pdf"]
MiB = 1024 * 1024


@pytest.fixture
def plain_http(radosgw_target):
    """The same server and bucket over plain HTTP (its beast frontend listens on both)."""
    return dataclasses.replace(radosgw_target, endpoint_url=os.environ["GRANTS_TEST_S3_ENDPOINT"])


def fetch(url: str, target):
    """(status, headers, body) of a plain GET, as a browser following the link would send it."""
    context = ssl.create_default_context(cafile=target.ca_bundle)
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as refusal:
        with refusal:
            return refusal.code, refusal.headers, refusal.read()


def save(storage, key: str, content: bytes = PDF):
    storage.save(key, io.BytesIO(content), content_type="application/pdf",
                 metadata={"original-filename": quote(PDF_NAME)})


# --- through the app ------------------------------------------------------------------------

def test_organisation_document_uploaded_through_the_app_downloads_from_the_real_server(
        client, login, make_user, make_organisation, use_storage, radosgw_storage, radosgw_target):
    use_storage(radosgw_storage)
    organisation = make_organisation("Eastside Community Health Coalition")
    login(make_user(organisation=organisation))

    uploaded = client.post(f"/organisations/{organisation.id}/documents",
                           data={"title": "IRS determination letter", "file": (io.BytesIO(PDF), PDF_NAME)},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)
    [key] = stored_keys(radosgw_storage)
    page = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    [link] = [part.split('"', 1)[0] for part in page.split('href="')[1:]
              if part.startswith(f"/organisations/{organisation.id}/documents/")]
    redirect = client.get(link)
    status, headers, body = fetch(redirect.headers["Location"], radosgw_target)

    assert redirect.status_code == 303
    assert status == 200
    assert body == PDF
    assert headers["Content-Disposition"] == content_disposition(PDF_NAME)
    head = radosgw_storage.client.head_object(Bucket=radosgw_storage.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"


# --- presigned download links -----------------------------------------------------------------

def test_download_url_of_the_real_server_is_refused_once_it_has_expired(radosgw_target, radosgw_storage):
    storage = radosgw_target.storage(presigned_ttl_seconds=3)
    save(storage, "2026/05/expiring")
    url = storage.download_url("2026/05/expiring", filename=PDF_NAME, content_type="application/pdf")
    issued = time.time()
    assert fetch(url, radosgw_target)[0] == 200

    time.sleep(max(0.0, issued + 4.5 - time.time()))
    status, _, body = fetch(url, radosgw_target)

    assert status == 403
    assert b"AccessDenied" in body


def test_download_url_with_a_tampered_signature_is_refused_by_the_real_server(radosgw_target, radosgw_storage):
    save(radosgw_storage, "2026/05/tampered")
    url = radosgw_storage.download_url("2026/05/tampered", filename=PDF_NAME, content_type="application/pdf")
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    forged = "0" * len(signature) if signature != "0" * len(signature) else "1" * len(signature)

    status, _, body = fetch(url.replace(signature, forged), radosgw_target)

    assert status == 403
    assert b"SignatureDoesNotMatch" in body


def test_download_url_altered_to_display_inline_is_refused_by_the_real_server(radosgw_target, radosgw_storage):
    save(radosgw_storage, "2026/05/inline")
    url = radosgw_storage.download_url("2026/05/inline", filename=PDF_NAME, content_type="application/pdf")

    status, _, _ = fetch(url.replace("response-content-disposition=attachment",
                                     "response-content-disposition=inline"), radosgw_target)

    assert status == 403


# --- server-side encryption -------------------------------------------------------------------

def test_encryption_requested_over_plain_http_is_refused_with_a_clear_message_and_a_logged_cause(
        plain_http, radosgw_storage, caplog):
    storage = plain_http.storage(server_side_encryption="AES256")

    with pytest.raises(StorageMisconfigured, match="refused the encryption this site requires, so nothing was saved"):
        save(storage, "2026/05/over-http")

    assert "refused server-side encryption AES256 (InvalidRequest" in caplog.text
    assert "plain HTTP" in caplog.text
    assert stored_keys(radosgw_storage) == []


def test_aes256_that_the_store_accepts_but_does_not_apply_is_refused_and_not_kept(
        radosgw_target, radosgw_storage, caplog):
    # Ceph 16 has no SSE-S3: it answers 200 to AES256 over HTTPS and stores plaintext.
    storage = radosgw_target.storage(server_side_encryption="AES256")

    with pytest.raises(StorageMisconfigured, match="did not encrypt the file as this site requires, so it was not kept"):
        save(storage, "2026/05/plaintext")

    assert "accepted 2026/05/plaintext without encrypting it (asked for AES256, the store answered no encryption)" \
        in caplog.text
    assert stored_keys(radosgw_storage) == []


def test_upload_without_encryption_requested_works_over_plain_http(plain_http, radosgw_storage):
    storage = plain_http.storage(server_side_encryption=None)

    save(storage, "2026/05/unencrypted")

    head = storage.client.head_object(Bucket=storage.bucket, Key="2026/05/unencrypted")
    assert "ServerSideEncryption" not in head
    assert stored_keys(radosgw_storage) == ["2026/05/unencrypted"]


def test_boto3_default_checksum_trailer_is_refused_over_https_which_the_storage_client_avoids(
        radosgw_target, radosgw_storage):
    # Why the client sets request_checksum_calculation=when_required: with boto3's default
    # every upload to Ceph over HTTPS fails with 411.
    default_client = boto3.client("s3", endpoint_url=radosgw_target.endpoint_url, region_name="us-east-1",
                                  aws_access_key_id=radosgw_target.access_key_id,
                                  aws_secret_access_key=radosgw_target.secret_access_key,
                                  verify=radosgw_target.ca_bundle, config=BotoConfig(signature_version="s3v4"))

    with pytest.raises(ClientError, match="MissingContentLength"):
        default_client.put_object(Bucket=radosgw_target.bucket, Key="2026/05/default", Body=PDF)
    save(radosgw_storage, "2026/05/ours")

    assert stored_keys(radosgw_storage) == ["2026/05/ours"]


def test_start_up_warns_that_encryption_over_plain_http_will_be_refused(app, plain_http, caplog):
    config = {**app.config, **plain_http.app_settings(S3_SERVER_SIDE_ENCRYPTION="AES256")}

    with caplog.at_level(logging.WARNING, logger="grants.attachments"):
        storage_from_config(config)

    assert "S3_SERVER_SIDE_ENCRYPTION=AES256 over plain HTTP" in caplog.text


# --- an outage in the middle of an upload -------------------------------------------------------

def test_outage_mid_upload_leaves_no_row_and_the_sweep_discards_the_parts_already_sent(
        app, use_storage, radosgw_target, radosgw_storage, monkeypatch):
    proxy = OutageProxy(radosgw_target.endpoint_url, budget=20 * MiB)  # down after two 8 MiB parts
    use_storage(radosgw_target.storage(endpoint_url=proxy.endpoint_url))
    content = b"%PDF-1.7\n" + os.urandom(30 * MiB)

    with pytest.raises(StorageUnavailable, match="unavailable; nothing was saved"):
        store_upload(io.BytesIO(content), "Annual report.pdf", uploaded_by=None)
    db.session.rollback()

    assert proxy.is_down
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert stored_keys(radosgw_storage) == []
    [left] = unfinished_keys(radosgw_storage)  # its abort could not reach the store either
    use_storage(radosgw_storage)
    monkeypatch.setitem(app.config, "ORPHAN_SWEEP_GRACE_MINUTES", 0)
    assert sweep_unfinished_uploads() == [left]
    assert unfinished_keys(radosgw_storage) == []


# --- credentials and health -------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "code"), [
    ({"secret_access_key": "not-the-secret"}, "SignatureDoesNotMatch"),
    ({"access_key_id": "GRANTSUNKNOWNKEY0000"}, "InvalidAccessKeyId"),
])
def test_wrong_credentials_are_named_as_such_and_logged_with_the_stores_answer(
        radosgw_target, radosgw_storage, caplog, changes, code):
    storage = radosgw_target.storage(**changes)

    with pytest.raises(StorageMisconfigured, match="refused this site's credentials, so nothing was saved"):
        save(storage, "2026/05/wrong-key")

    assert f"refused the credentials ({code}" in caplog.text
    assert stored_keys(radosgw_storage) == []


@pytest.mark.parametrize(("store", "status", "storage_check"), [
    ("as configured", 200, "ok"),
    ("refusing encryption over plain HTTP", 503, "misconfigured"),
    ("ignoring encryption", 503, "misconfigured"),
    ("with a wrong secret", 503, "misconfigured"),
])
def test_healthz_fails_while_the_store_refuses_uploads(
        client, use_storage, radosgw_target, plain_http, radosgw_storage, store, status, storage_check):
    use_storage({
        "as configured": radosgw_storage,
        "refusing encryption over plain HTTP": plain_http.storage(server_side_encryption="AES256"),
        "ignoring encryption": radosgw_target.storage(server_side_encryption="AES256"),
        "with a wrong secret": radosgw_target.storage(secret_access_key="not-the-secret"),
    }[store])

    response = client.get("/healthz")

    assert response.status_code == status
    assert response.json["checks"]["storage"] == storage_check
    assert stored_keys(radosgw_storage) == []  # the probe leaves nothing behind


def test_demo_load_on_a_store_refusing_encryption_says_so_instead_of_a_traceback(app, use_storage, plain_http):
    # `make run` against Ceph over plain HTTP with the default AES256.
    use_storage(plain_http.storage(server_side_encryption="AES256"))

    result = app.test_cli_runner().invoke(args=["demo", "load"])

    assert result.exit_code == 1
    assert "Demo data not loaded. The file store refused the encryption this site requires" in result.output
