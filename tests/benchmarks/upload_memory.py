"""How much a worker's memory grows while it uploads a 200 MB file to S3.

    .venv/bin/python tests/benchmarks/upload_memory.py [--size-mb 200] [--app]

Compares, on the same file, boto3's default ``upload_fileobj`` with the app's S3Storage.save
and the whole store_upload service; ``--app`` adds a multipart POST to the organisation
document page of an app served by werkzeug. Every measurement runs in a fresh process, and
moto's S3 server in a process of its own, so only the uploading worker is counted: its peak
resident memory (VmHWM, reset just before the upload) minus its resident memory then.

Not collected by pytest (the name does not start with test_); the memory test in
tests/attachments/ uses the helpers below.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
BUCKET = "grants-benchmark"
CREDENTIALS = {"aws_access_key_id": "benchmark", "aws_secret_access_key": "benchmark", "region_name": "us-east-1"}


# --- measuring a process ------------------------------------------------------------------

def memory_kib(field: str, pid: int | str = "self") -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE).group(1))


def reset_peak(pid: int | str = "self") -> None:
    # Writing 5 to clear_refs resets VmHWM to the current resident size (Linux >= 4.0).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@contextlib.contextmanager
def peak_growth(pid: int | str = "self") -> Iterator[dict]:
    """Measures the peak resident-memory growth of ``pid`` over the block, in bytes."""
    gc.collect()
    reset_peak(pid)
    before = memory_kib("VmRSS", pid)
    result: dict = {}
    started = time.monotonic()
    yield result
    result["seconds"] = round(time.monotonic() - started, 1)
    result["growth_bytes"] = (memory_kib("VmHWM", pid) - before) * 1024


# --- the pieces every measurement needs ----------------------------------------------------

def write_sample_pdf(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that passes as a PDF: a real header, then incompressible bytes."""
    with path.open("wb") as handle:
        handle.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        while (left := size - handle.tell() - 6) > 0:
            handle.write(os.urandom(min(MiB, left)))
        handle.write(b"%%EOF\n")
    return path


MOTO_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the parent closes it
server.stop()
"""


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 in a process of its own, with the benchmark bucket; yields its endpoint URL."""
    import boto3

    with subprocess.Popen([sys.executable, "-c", MOTO_SERVER], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            endpoint = f"http://127.0.0.1:{int(process.stdout.readline())}"
            boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS).create_bucket(Bucket=BUCKET)
            yield endpoint
        finally:
            process.stdin.close()  # the server stops when its input ends
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def moto_settings(endpoint: str) -> dict:
    """The app's S3 settings for the benchmark's moto server."""
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_REGION": "us-east-1",
        "S3_ENDPOINT_URL": endpoint,
        "S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
    }


def app_overrides(s3_settings: dict, database_uri: str = "sqlite://") -> dict:
    return {"SQLALCHEMY_DATABASE_URI": database_uri, **s3_settings}


# --- what a child process measures ----------------------------------------------------------

def _measure_boto3_default(path: Path, settings: dict, through_app_reader: bool) -> dict:
    import boto3

    from grants.attachments.services import HashingReader

    client = boto3.client("s3", endpoint_url=settings["S3_ENDPOINT_URL"], **CREDENTIALS)
    with path.open("rb") as handle:
        stream = HashingReader(handle, limit=sys.maxsize) if through_app_reader else handle
        with peak_growth() as result:
            client.upload_fileobj(stream, BUCKET, f"boto3-default/{uuid.uuid4().hex}",
                                  ExtraArgs={"ContentType": "application/pdf", "ServerSideEncryption": "AES256"})
    return result


def _measure_storage_save(path: Path, settings: dict) -> dict:
    from grants import create_test_app
    from grants.attachments.services import HashingReader
    from grants.attachments.storage import storage_from_config

    storage = storage_from_config(create_test_app(**settings).config)
    with path.open("rb") as handle:
        stream = HashingReader(handle, limit=sys.maxsize)  # what store_upload hands to save
        with peak_growth() as result:
            storage.save(f"s3storage/{uuid.uuid4().hex}", stream, content_type="application/pdf",
                         metadata={"original-filename": "big.pdf"})
    return result


def _measure_store_upload(path: Path, settings: dict) -> dict:
    from werkzeug.datastructures import FileStorage

    from grants import create_test_app
    from grants.attachments.services import store_upload
    from grants.extensions import db

    app = create_test_app(**app_overrides(settings))
    with app.app_context():
        db.create_all()
        with path.open("rb") as handle:
            upload = FileStorage(stream=handle, filename="Annual report.pdf", content_type="application/pdf")
            with peak_growth() as result:
                stored = store_upload(upload.stream, upload.filename, uploaded_by=None)
                db.session.commit()
        result["size_bytes"] = stored.size_bytes
    return result


CHILD_MEASUREMENTS = {
    "boto3-default": lambda path, settings: _measure_boto3_default(path, settings, through_app_reader=False),
    "boto3-default-hashing": lambda path, settings: _measure_boto3_default(path, settings, through_app_reader=True),
    "s3storage-save": _measure_storage_save,
    "store-upload": _measure_store_upload,
}


def measure_in_child(mode: str, path: Path, s3_settings: dict) -> dict:
    """Run one measurement in a fresh interpreter against the store ``s3_settings`` describe
    (the app's S3_* settings); returns its result (growth_bytes, seconds)."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--file", str(path), "--settings", json.dumps(s3_settings)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the app end to end: a multipart POST to a running server --------------------------------

APP_SERVER = """
from werkzeug.serving import make_server
from grants import create_test_app
from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
from grants.accounts.models import Organisation, User, UserRole
from grants.accounts.services import hash_password
from grants.core.types import utcnow
from grants.extensions import db
from tests.benchmarks.upload_memory import app_overrides

app = create_test_app(**app_overrides({settings!r}, {database!r}))
with app.app_context():
    db.create_all()
    organisation = Organisation(name="Benchmark Health Alliance", kind=OrganisationKind.MEMBER_INSTITUTION,
                                status=OrganisationStatus.APPROVED)
    db.session.add(User(email="bench@example.org", full_name="Bench Mark", organisation=organisation,
                        password_hash=hash_password("benchmark password 2026"), status=UserStatus.ACTIVE,
                        active_at=utcnow(), role_rows=[UserRole(role=Role.APPLICANT)]))
    db.session.commit()
    organisation_id = organisation.id
server = make_server("127.0.0.1", 0, app)
print(server.server_port, organisation_id, flush=True)
server.serve_forever()
"""


def _multipart(path: Path, boundary: str) -> tuple[list[bytes], int]:
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nAnnual report\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Annual report.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return [head, tail], len(head) + path.stat().st_size + len(tail)


def measure_app_post(path: Path, s3_settings: dict) -> dict:
    """RSS growth of an app server process while it takes a multipart POST of ``path``."""
    with tempfile.TemporaryDirectory() as scratch:
        database = f"sqlite:///{scratch}/bench.sqlite3"
        code = APP_SERVER.format(settings=s3_settings, database=database)
        with subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) as server:
            try:
                return _post_upload(server, path)
            finally:
                server.terminate()


def _post_upload(server: subprocess.Popen, path: Path) -> dict:
    port, organisation_id = (int(value) for value in server.stdout.readline().split())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request("POST", "/login", body="email=bench%40example.org&password=benchmark+password+2026",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        login = connection.getresponse()
        login.read()
        cookie = login.headers["Set-Cookie"].split(";", 1)[0]
        boundary = uuid.uuid4().hex
        (head, tail), length = _multipart(path, boundary)
        with peak_growth(server.pid) as result:
            connection.putrequest("POST", f"/organisations/{organisation_id}/documents")
            connection.putheader("Cookie", cookie)
            connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            connection.putheader("Content-Length", str(length))
            connection.endheaders()
            connection.send(head)
            with path.open("rb") as handle:
                while chunk := handle.read(MiB):
                    connection.send(chunk)
            connection.send(tail)
            response = connection.getresponse()
            response.read()
    finally:
        connection.close()
    if response.status != 302:
        raise RuntimeError(f"upload answered {response.status}, not a redirect to the page")
    return result


# --- the report ---------------------------------------------------------------------------

def _mb(value: int) -> str:
    return f"{value / MiB:6.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--app", action="store_true", help="also POST the file to a running app server")
    parser.add_argument("--child", choices=CHILD_MEASUREMENTS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--settings", type=json.loads, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(CHILD_MEASUREMENTS[args.child](args.file, args.settings)))
        return

    with tempfile.TemporaryDirectory() as scratch, moto_server() as endpoint:
        path = write_sample_pdf(Path(scratch) / "big.pdf", args.size_mb * MiB)
        modes = list(CHILD_MEASUREMENTS)
        settings = moto_settings(endpoint)
        results = {mode: measure_in_child(mode, path, settings) for mode in modes}
        if args.app:
            results["app-multipart-post"] = measure_app_post(path, settings)

    print(f"Peak resident-memory growth of the uploading process, {args.size_mb} MiB file:")
    for mode, result in results.items():
        print(f"  {mode:22} {_mb(result['growth_bytes'])}  ({result['seconds']} s)")
    ours = results["s3storage-save"]["growth_bytes"]
    for baseline in ("boto3-default", "boto3-default-hashing"):
        print(f"  {baseline} / s3storage-save: {results[baseline]['growth_bytes'] / max(ours, 1):.1f}x")


if __name__ == "__main__":
    main()
