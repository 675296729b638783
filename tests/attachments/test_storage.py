"""The storage interface: the local directory and S3 behave the same, and each keeps its
own promises (no path escape; encryption, metadata and short download links on S3)."""

from __future__ import annotations

import io
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from grants.attachments.storage import LocalStorage, S3Storage
from grants.core.errors import DomainError, StorageMisconfigured, StoredObjectMissing, StorageUnavailable
from tests.attachments.faults import StalledStore, closed_port
from tests.attachments.fixtures import BUCKET, stored_keys, unfinished_keys

MiB = 1024 * 1024


def save(storage, key: str, content: bytes, *, filename: str = "letter.pdf", content_type: str = "application/pdf"):
    storage.save(key, io.BytesIO(content), content_type=content_type,
                 metadata={"original-filename": quote(filename)})


class BreaksAfter:
    """A stream that delivers ``good`` bytes, then fails the way a refused upload does."""

    def __init__(self, good: int):
        self._left = good

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            raise DomainError("The file is larger than the limit of 1 MB.")
        size = self._left if size is None or size < 0 else min(size, self._left)
        self._left -= size
        return b"x" * size


# --- both backends ------------------------------------------------------------------------

def test_save_then_open_returns_the_same_bytes(storage, sample):
    _, content, _ = sample("pdf")

    save(storage, "2026/05/a1", content)

    with storage.open("2026/05/a1") as handle:
        assert handle.read() == content


def test_save_of_a_large_file_round_trips_intact(storage):
    # Larger than one 8 MiB part, so S3 takes the multipart path.
    content = bytes(range(256)) * (9 * MiB // 256) + b"tail"

    save(storage, "2026/05/large", content)

    with storage.open("2026/05/large") as handle:
        assert handle.read() == content


def test_exists_tells_a_saved_key_from_an_unknown_one(storage):
    save(storage, "2026/05/present", b"metric,value\n")

    assert storage.exists("2026/05/present")
    assert not storage.exists("2026/05/absent")


def test_delete_removes_the_object(storage):
    save(storage, "2026/05/gone", b"metric,value\n")

    storage.delete("2026/05/gone")

    assert not storage.exists("2026/05/gone")
    assert stored_keys(storage) == []


def test_delete_of_a_missing_key_is_not_an_error(storage):
    storage.delete("2026/05/never-saved")

    assert stored_keys(storage) == []


def test_iter_objects_lists_every_object_with_its_size_and_time(storage):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    save(storage, "2026/05/one", b"a" * 10)
    save(storage, "2026/06/two", b"b" * 20)

    objects = sorted(storage.iter_objects(), key=lambda obj: obj.key)

    assert [(obj.key, obj.size) for obj in objects] == [("2026/05/one", 10), ("2026/06/two", 20)]
    assert all(obj.modified_at.tzinfo is not None and obj.modified_at >= before for obj in objects)


def test_iter_objects_of_an_empty_store_is_empty(storage):
    assert stored_keys(storage) == []


def test_save_that_fails_midway_leaves_nothing_behind(storage):
    with pytest.raises(DomainError):
        storage.save("2026/05/refused", BreaksAfter(9 * MiB), content_type="application/pdf", metadata={})

    assert stored_keys(storage) == []
    assert unfinished_keys(storage) == []  # on S3, the multipart upload was aborted too
    assert not storage.exists("2026/05/refused")


def test_save_again_under_a_key_replaces_the_content(storage):
    save(storage, "2026/05/replaced", b"first version")

    save(storage, "2026/05/replaced", b"second version")

    with storage.open("2026/05/replaced") as handle:
        assert handle.read() == b"second version"
    assert stored_keys(storage) == ["2026/05/replaced"]


def test_open_of_a_missing_key_says_the_file_is_missing(storage):
    with pytest.raises(StoredObjectMissing, match="missing from the file store"):
        storage.open("2026/05/never-saved")


def test_check_passes_on_a_store_that_takes_uploads_and_leaves_nothing_behind(storage):
    # check() stands for "an upload would work now": it raises otherwise (tests below).
    storage.check()

    assert stored_keys(storage) == []
    assert unfinished_keys(storage) == []
    save(storage, "2026/05/after-check", b"metric,value\n")
    assert stored_keys(storage) == ["2026/05/after-check"]


# --- local directory ----------------------------------------------------------------------

@pytest.mark.parametrize("key", ["../outside", "2026/../../outside", "/etc/passwd"])
def test_local_storage_refuses_a_key_escaping_its_root(local_storage, key):
    with pytest.raises(ValueError, match="escapes the storage root"):
        save(local_storage, key, b"x")
    with pytest.raises(ValueError):
        local_storage.open(key)
    with pytest.raises(ValueError):
        local_storage.delete(key)


def test_local_storage_leaves_no_partial_file_when_a_save_fails(local_storage):
    with pytest.raises(DomainError):
        local_storage.save("2026/05/refused", BreaksAfter(3 * MiB), content_type="text/csv", metadata={})

    leftovers = [path for path in local_storage.root.rglob("*") if path.is_file()]
    assert leftovers == []


def test_local_storage_on_an_unwritable_root_reports_unavailable(tmp_path):
    # A file where the directory should be: the same failure as a missing or read-only mount
    # (tests run as root, for whom permissions alone block nothing).
    root = tmp_path / "not-a-directory"
    root.write_bytes(b"")
    storage = LocalStorage(root)

    with pytest.raises(StorageUnavailable, match="unavailable; nothing was saved"):
        save(storage, "2026/05/a1", b"x")
    with pytest.raises(StorageUnavailable, match="not writable"):
        storage.check()


def test_local_storage_streams_instead_of_handing_out_a_link(local_storage):
    save(local_storage, "2026/05/a1", b"x")

    assert local_storage.download_url("2026/05/a1", filename="letter.pdf", content_type="application/pdf") is None


# --- S3 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1024, 9 * MiB], ids=["single-request", "multipart"])
def test_s3_save_stores_the_object_encrypted_as_configured(s3_storage, size):
    # moto is set to AES256, the real server to aws:kms (Ceph 16 has no SSE-S3).
    save(s3_storage, "2026/05/secret", b"%PDF-1.7\n" + b"x" * size)

    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key="2026/05/secret")

    assert head["ServerSideEncryption"] == s3_storage.server_side_encryption


def test_s3_save_keeps_the_original_filename_and_type_as_metadata(s3_storage):
    save(s3_storage, "2026/05/a1", b"%PDF-1.7\n", filename="Lettre d’engagement.pdf")

    head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key="2026/05/a1")

    assert head["ContentType"] == "application/pdf"
    assert head["Metadata"] == {"original-filename": quote("Lettre d’engagement.pdf")}


def test_s3_download_url_lasts_at_most_five_minutes_and_forces_a_download(s3_storage):
    save(s3_storage, "2026/05/a1", b"%PDF-1.7\n")

    url = s3_storage.download_url("2026/05/a1", filename="Budget 2026.pdf", content_type="application/pdf")

    query = parse_qs(urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    disposition = query["response-content-disposition"][0]
    assert disposition.startswith("attachment;")
    assert 'filename="Budget 2026.pdf"' in disposition
    assert query["response-content-type"] == ["application/pdf"]


def test_s3_download_url_never_lasts_longer_than_five_minutes_whatever_is_configured(aws_credentials):
    storage = S3Storage(bucket=BUCKET, region="us-east-1", presigned_ttl_seconds=3600)

    url = storage.download_url("2026/05/a1", filename="letter.pdf", content_type="application/pdf")

    assert int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0]) == 300


@pytest.fixture
def unreachable_s3():
    return S3Storage(bucket=BUCKET, region="us-east-1", endpoint_url=f"http://127.0.0.1:{closed_port()}",
                     access_key_id="test", secret_access_key="test")


@pytest.mark.parametrize("operation", [
    pytest.param(lambda storage: save(storage, "2026/05/a1", b"x"), id="save"),
    pytest.param(lambda storage: storage.open("2026/05/a1"), id="open"),
    pytest.param(lambda storage: storage.exists("2026/05/a1"), id="exists"),
    pytest.param(lambda storage: storage.delete("2026/05/a1"), id="delete"),
    pytest.param(lambda storage: list(storage.iter_objects()), id="iter_objects"),
])
def test_s3_storage_with_an_unreachable_endpoint_reports_unavailable(unreachable_s3, operation):
    with pytest.raises(StorageUnavailable, match="file store is unavailable") as refusal:
        operation(unreachable_s3)

    assert not isinstance(refusal.value, StorageMisconfigured)  # worth trying again later


def test_s3_check_of_an_unreachable_endpoint_reports_unavailable_and_logs_why(unreachable_s3, caplog):
    with pytest.raises(StorageUnavailable, match="unavailable. Try again later"):
        unreachable_s3.check()

    assert f"bucket {BUCKET} at {unreachable_s3.endpoint_url}" in caplog.text
    assert "Could not connect" in caplog.text


@pytest.mark.parametrize("operation", [
    pytest.param(lambda storage: save(storage, "2026/05/a1", b"x"), id="save"),
    pytest.param(lambda storage: storage.exists("2026/05/a1"), id="exists"),
    pytest.param(lambda storage: storage.check(), id="check"),
])
def test_s3_storage_on_a_missing_bucket_names_it_and_says_it_needs_an_administrator(s3_target, operation, caplog):
    storage = s3_target.storage(bucket="grants-no-such-bucket")

    with pytest.raises(StorageMisconfigured, match="no bucket “grants-no-such-bucket”.*needs an administrator"):
        operation(storage)

    assert "bucket grants-no-such-bucket" in caplog.text and "does not exist" in caplog.text


def test_s3_storage_refuses_an_unknown_encryption_setting_at_start_up():
    with pytest.raises(ValueError, match="AES256, aws:kms or none"):
        S3Storage(bucket=BUCKET, region="us-east-1", server_side_encryption="AES-256")


@pytest.fixture
def stalled_store():
    store = StalledStore()
    yield store
    store.close()


def stalled_storage(stalled_store, **settings) -> S3Storage:
    return S3Storage(bucket=BUCKET, region="us-east-1", endpoint_url=stalled_store.endpoint_url,
                     access_key_id="test", secret_access_key="test", **settings)


def test_s3_storage_on_a_stalled_store_tries_twice_then_says_unavailable(stalled_store, caplog):
    storage = stalled_storage(stalled_store, read_timeout_seconds=1)
    started = time.monotonic()

    with pytest.raises(StorageUnavailable, match="unavailable; nothing was saved. Try again later"):
        save(storage, "2026/05/a1", b"x")

    assert time.monotonic() - started < 5  # two waits of 1 s (and a backoff), not boto3's four tries
    assert "Read timeout" in caplog.text


@pytest.mark.slow
def test_s3_storage_on_a_stalled_store_gives_up_within_a_proxys_60_seconds(stalled_store):
    # With the production timeouts; boto3's defaults (60 s × 4 tries) held a request ~4 minutes.
    storage = stalled_storage(stalled_store)
    started = time.monotonic()

    with pytest.raises(StorageUnavailable):
        save(storage, "2026/05/a1", b"x")

    assert time.monotonic() - started < 45


# --- settings -------------------------------------------------------------------------------

@pytest.mark.parametrize(("environment", "requested"), [
    (None, "AES256"),
    ("", None),
    ("none", None),
    ("aws:kms", "aws:kms"),
])
def test_s3_server_side_encryption_setting_can_be_turned_off(monkeypatch, environment, requested):
    from config.settings import _server_side_encryption

    if environment is None:
        monkeypatch.delenv("S3_SERVER_SIDE_ENCRYPTION", raising=False)
    else:
        monkeypatch.setenv("S3_SERVER_SIDE_ENCRYPTION", environment)

    assert _server_side_encryption() == requested
