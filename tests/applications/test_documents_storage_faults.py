"""The documents page of a draft while the file store fails: stopped, stalled, refusing the
credentials, missing its bucket, refusing or ignoring the encryption asked for. The user
gets a clear message, the draft and every file already on it stay as they were, and no row
points at a missing object nor any object lacks a row (DESIGN.md, "Nothing lost")."""

from __future__ import annotations

import dataclasses
import io
import os

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import OrganisationKind
from grants.applications import services
from grants.applications.models import ApplicationDocument
from grants.attachments.models import StoredFile
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_application, make_call
from tests.attachments.faults import StalledStore, closed_port
from tests.attachments.fixtures import (  # noqa: F401 - fixtures, found by name
    SAMPLES,
    app_storage,
    local_storage,
    moto_server,
    moto_storage,
    radosgw_storage,
    radosgw_target,
    storage,
    stored_keys,
    use_storage,
)
from tests.conftest import fresh

PDF_NAME, PDF, _ = SAMPLES["pdf"]
DOCX_NAME, DOCX, _ = SAMPLES["docx"]
UNAVAILABLE = "The file store is unavailable; nothing was saved. Try again later."

# fault → (the store that works, how the failing one differs, what the user reads)
FAULTS = {
    "stopped": ("moto", lambda target, stalled: target.storage(endpoint_url=f"http://127.0.0.1:{closed_port()}"),
                UNAVAILABLE),
    "stalled": ("moto", lambda target, stalled: target.storage(endpoint_url=stalled.endpoint_url,
                                                                read_timeout_seconds=1), UNAVAILABLE),
    "refusing the credentials": (
        "radosgw", lambda target, stalled: target.storage(secret_access_key="not-the-secret"),
        "The file store refused this site's credentials, so nothing was saved."),
    "missing its bucket": (
        "radosgw", lambda target, stalled: target.storage(bucket="grants-no-such-bucket"),
        "The file store has no bucket “grants-no-such-bucket”, so nothing was saved."),
    "refusing encryption over plain HTTP": (
        "radosgw", lambda target, stalled: dataclasses.replace(
            target, endpoint_url=os.environ["GRANTS_TEST_S3_ENDPOINT"], server_side_encryption="AES256").storage(),
        "The file store refused the encryption this site requires, so nothing was saved."),
    "ignoring the encryption asked for": (
        "radosgw", lambda target, stalled: target.storage(server_side_encryption="AES256"),
        "The file store did not encrypt the file as this site requires, so it was not kept."),
}
UNREADABLE = ["stopped", "stalled", "refusing the credentials", "missing its bucket"]


@pytest.fixture
def stalled():
    store = StalledStore()
    yield store
    store.close()


@pytest.fixture
def stores(request, stalled):
    """``stores(fault)`` → (working store, failing store, message); the app uses the working one."""

    def pick(fault: str):
        backend, make_failing, message = FAULTS[fault]
        working = request.getfixturevalue(f"{backend}_storage")
        target = request.getfixturevalue("moto_server").target if backend == "moto" \
            else request.getfixturevalue("radosgw_target")
        request.getfixturevalue("use_storage")(working)
        return working, make_failing(target, stalled), message

    return pick


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def application(lead, make_user, make_organisation):
    partner = make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                             name="Eastside Alliance")
    application = make_application(make_call(), lead)
    services.add_partner(application, editor=lead, expected_version=None, organisation=partner.organisation,
                         contact_name=partner.full_name, contact_email=partner.email, role_in_project="Outreach")
    application.summary = "Barbershop health talks in three neighbourhoods."
    db.session.commit()
    return application


@pytest.fixture
def narrative(application):
    return application.call.documents[0]


def upload(client, application, document, *, content: bytes = PDF, filename: str = PDF_NAME):
    return client.post(f"/applications/{application.id}/documents/{document.id}",
                       data={"version": fresh(application).version, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def documents_of(application) -> list[ApplicationDocument]:
    db.session.expire_all()
    return db.session.scalars(select(ApplicationDocument).where(ApplicationDocument.application_id == application.id)
                              .order_by(ApplicationDocument.id)).all()


def download(client, application, document):
    return client.get(f"/applications/{application.id}/documents/file/{document.id}")


def snapshot(application) -> dict:
    application = fresh(application)
    return {"title": application.title, "summary": application.summary, "version": application.version,
            "partners": [partner.organisation_id for partner in application.partners]}


@pytest.mark.parametrize("fault", FAULTS)
def test_upload_document_while_the_store_fails_says_why_and_keeps_the_draft_and_its_files(
        client, login, lead, application, narrative, use_storage, stores, fault, caplog):
    working, failing, message = stores(fault)
    login(lead)
    assert upload(client, application, narrative).status_code == 302
    [earlier] = documents_of(application)
    before, objects_before = snapshot(application), stored_keys(working)

    use_storage(failing)
    response = upload(client, application, narrative, content=DOCX, filename=DOCX_NAME)

    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert message in page.replace("&#34;", '"').replace("&#39;", "'")
    assert 'type="file"' in page and PDF_NAME in page  # the documents page, with the earlier file
    assert snapshot(application) == before
    assert documents_of(application) == [earlier]
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1
    assert stored_keys(working) == objects_before == [earlier.stored_file.storage_key]
    assert any(record.levelname in {"WARNING", "ERROR"} and record.name == "grants.attachments"
               for record in caplog.records)  # the cause is in the log


@pytest.mark.parametrize("fault", UNREADABLE)
def test_download_document_while_the_store_fails_is_a_clear_page_not_a_redirect(
        client, login, lead, application, narrative, use_storage, stores, fault):
    _, failing, _ = stores(fault)
    login(lead)
    assert upload(client, application, narrative).status_code == 302
    [document] = documents_of(application)

    use_storage(failing)
    response = download(client, application, document)

    assert response.status_code == 503
    assert "Location" not in response.headers
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert "The file store is unavailable. Try again later." in page or "needs an administrator" in page


def test_download_document_whose_object_is_gone_from_the_store_says_so(
        client, login, lead, application, narrative, app_storage, caplog):
    login(lead)
    assert upload(client, application, narrative).status_code == 302
    [document] = documents_of(application)
    app_storage.delete(document.stored_file.storage_key)

    response = download(client, application, document)

    assert response.status_code == 404
    assert "Location" not in response.headers
    assert "This file is missing from the file store." in response.get_data(as_text=True)
    assert f"has no object {document.stored_file.storage_key}" in caplog.text
