"""A 200 MB upload must not grow the worker's memory by more than ~50 MB (issue #2), on
moto and on the real S3 server.

The worker is a fresh child process that runs store_upload against the store, so only its
own memory is counted. tests/benchmarks/upload_memory.py prints the same figure beside
boto3's default transfer.
"""

from __future__ import annotations

import pytest

from tests.benchmarks.upload_memory import MiB, measure_in_child, write_sample_pdf

UPLOAD_SIZE = 200 * MiB
GROWTH_LIMIT = 50 * MiB


@pytest.mark.slow
def test_store_upload_of_200_mb_to_s3_grows_the_worker_by_at_most_50_mb(tmp_path, s3_target, s3_storage):
    path = write_sample_pdf(tmp_path / "annual-report.pdf", UPLOAD_SIZE)

    result = measure_in_child("store-upload", path, s3_target.app_settings())

    assert result["size_bytes"] == UPLOAD_SIZE
    growth = result["growth_bytes"]
    print(f"store_upload of 200 MiB to {s3_target.name}: worker grew by {growth / MiB:.1f} MiB")  # shown with -rP
    assert growth <= GROWTH_LIMIT, f"the worker grew by {growth / MiB:.1f} MiB on a 200 MiB upload"
    assert [obj.size for obj in s3_storage.iter_objects()] == [UPLOAD_SIZE]
