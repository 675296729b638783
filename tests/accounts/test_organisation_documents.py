"""Organisation documents through the pages: members upload, permitted people download
(streamed from the local store, or redirected to a short-lived S3 link), everyone else
learns nothing, and a refused file leaves nothing behind."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import Role
from grants.accounts.models import OrganisationDocument
from grants.attachments.models import StoredFile
from grants.attachments.storage import content_disposition
from grants.audit.models import AuditEvent
from grants.extensions import db
from tests.attachments.fixtures import (  # noqa: F401 - fixtures, found by name
    SAMPLES,
    local_storage,
    moto_server,
    moto_storage,
    stored_keys,
    use_storage,
)

PDF_NAME, PDF, _ = SAMPLES["pdf"]


@pytest.fixture
def storage(use_storage, local_storage):
    """A store of this test's own (local), so 'nothing was stored' can be seen."""
    return use_storage(local_storage)


@pytest.fixture
def organisation(make_organisation):
    return make_organisation("Eastside Community Health Coalition")


@pytest.fixture
def member(make_user, organisation):
    return make_user(Role.APPLICANT, organisation=organisation)


def upload(client, organisation, *, content: bytes = PDF, filename: str = PDF_NAME,
           title: str = "IRS determination letter"):
    return client.post(f"/organisations/{organisation.id}/documents",
                       data={"title": title, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def documents_of(organisation) -> list[OrganisationDocument]:
    db.session.expire_all()
    return db.session.scalars(select(OrganisationDocument).where(
        OrganisationDocument.organisation_id == organisation.id)).all()


def stored_file_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredFile))


def download_url(organisation, document) -> str:
    return f"/organisations/{organisation.id}/documents/{document.id}"


@pytest.fixture
def client_of(app, login):
    """A browser of its own, logged in as ``user`` (beside the member's)."""

    def open_for(user):
        browser = app.test_client()
        login(user, the_client=browser)
        return browser

    return open_for


@pytest.fixture
def uploaded(client, login, member, organisation, storage):
    """A PDF the member put on file (the member stays logged in)."""
    login(member)
    response = upload(client, organisation)
    assert response.status_code == 302, response.get_data(as_text=True)
    [document] = documents_of(organisation)
    return document


def test_add_organisation_document_by_a_member_lists_it_on_the_organisation_page(client, uploaded, organisation):
    page = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)

    assert "IRS determination letter" in page
    assert PDF_NAME in page
    assert download_url(organisation, uploaded) in page


def test_download_organisation_document_streams_the_file_as_a_download(client, uploaded, organisation):
    response = client.get(download_url(organisation, uploaded))

    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == content_disposition(PDF_NAME)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_download_organisation_document_is_recorded_in_the_audit_log(client, uploaded, organisation, member):
    client.get(download_url(organisation, uploaded))

    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")).one()
    assert event.actor_id == member.id
    assert (event.object_type, event.object_id) == ("StoredFile", str(uploaded.stored_file_id))
    assert event.details == {"organisation_id": organisation.id, "document_id": uploaded.id}


def test_download_organisation_document_by_a_program_officer(client_of, make_user, uploaded, organisation):
    officer = client_of(make_user(Role.PROGRAM_OFFICER))

    response = officer.get(download_url(organisation, uploaded))

    assert response.status_code == 200
    assert response.data == PDF


def test_download_organisation_document_by_another_organisation_is_not_found(
        client_of, make_user, uploaded, organisation):
    outsider = client_of(make_user(Role.APPLICANT))

    response = outsider.get(download_url(organisation, uploaded))

    assert response.status_code == 404
    assert PDF not in response.data
    db.session.expire_all()
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")).all() == []


def test_add_organisation_document_by_another_organisation_is_not_found_and_stores_nothing(
        client, login, make_user, organisation, storage):
    outsider = make_user(Role.APPLICANT)
    login(outsider)

    response = upload(client, organisation)

    assert response.status_code == 404
    assert documents_of(organisation) == []
    assert stored_file_count() == 0
    assert stored_keys(storage) == []


def test_download_organisation_document_under_another_organisations_url_is_not_found(
        client_of, make_user, make_organisation, uploaded, organisation):
    # Both organisations are visible to an officer; the document still belongs to only one.
    other = make_organisation("Westside Food Bank")
    officer = client_of(make_user(Role.PROGRAM_OFFICER))

    response = officer.get(f"/organisations/{other.id}/documents/{uploaded.id}")

    assert response.status_code == 404
    assert PDF not in response.data


@pytest.mark.parametrize(("filename", "content", "message"), [
    pytest.param("setup.exe", b"MZ\x90\x00\x03\x00", "is not an accepted file type", id="program"),
    pytest.param("logo.png", PDF, "is not a real PNG image: it contains a PDF", id="pdf-named-png"),
    pytest.param("letter.pdf", b"", "The file is empty.", id="empty"),
])
def test_add_organisation_document_of_a_refused_file_shows_why_and_stores_nothing(
        client, login, member, organisation, storage, filename, content, message):
    login(member)

    response = upload(client, organisation, content=content, filename=filename)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert documents_of(organisation) == []
    assert stored_file_count() == 0
    assert stored_keys(storage) == []


def test_add_organisation_document_without_a_title_stores_nothing(client, login, member, organisation, storage):
    login(member)

    response = upload(client, organisation, title="")

    assert response.status_code == 400
    assert documents_of(organisation) == []
    assert stored_keys(storage) == []


def test_download_organisation_document_from_s3_redirects_to_a_short_lived_download_link(
        client, login, member, organisation, use_storage, moto_storage):
    use_storage(moto_storage)
    login(member)
    assert upload(client, organisation).status_code == 302
    [document] = documents_of(organisation)

    response = client.get(download_url(organisation, document))

    assert response.status_code == 303
    assert response.headers["Cache-Control"] == "no-store"
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert query["response-content-disposition"] == [content_disposition(PDF_NAME)]
    assert stored_keys(moto_storage) == [document.stored_file.storage_key]
