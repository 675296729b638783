"""Fixtures for the attachment tests; they live in fixtures.py so other packages' tests
(pages that upload documents) can import them too."""

from tests.attachments.fixtures import (  # noqa: F401 - pytest finds fixtures by name here
    app_storage,
    aws_credentials,
    local_storage,
    moto_server,
    moto_storage,
    radosgw_storage,
    radosgw_target,
    s3_storage,
    s3_target,
    sample,
    storage,
    use_storage,
)
