"""Application documents through the pages: one slot per required document (per partner
where the call says so), replacing keeps the earlier version, every refusal stores nothing,
and someone else's application answers 404."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import OrganisationKind, Role
from grants.applications import services
from grants.applications.collaboration_views import DOCUMENT_STALE_MESSAGE
from grants.applications.enums import ApplicationStatus, CollaboratorRole
from grants.applications.models import ApplicationDocument
from grants.attachments.models import StoredFile
from grants.attachments.storage import content_disposition
from grants.audit.models import AuditEvent
from grants.extensions import db
from tests.applications.fixtures import invite_and_accept, make_applicant, make_application, make_call
from tests.attachments.fixtures import SAMPLES, local_storage, stored_keys, use_storage  # noqa: F401 - fixtures
from tests.conftest import fresh

PDF_NAME, PDF, _ = SAMPLES["pdf"]
DOCX_NAME, DOCX, _ = SAMPLES["docx"]


@pytest.fixture
def storage(use_storage, local_storage):
    """A store of this test's own, so "nothing was stored" can be seen."""
    return use_storage(local_storage)


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def partner_user(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                          name="Eastside Alliance")


@pytest.fixture
def application(lead, partner_user, storage):
    """A draft with one partner, to a call with a project narrative and a per-partner letter."""
    application = make_application(make_call(), lead)
    services.add_partner(application, editor=lead, expected_version=None, organisation=partner_user.organisation,
                         contact_name=partner_user.full_name, contact_email=partner_user.email,
                         role_in_project="Outreach")
    db.session.commit()
    return application


@pytest.fixture
def narrative(application):
    return application.call.documents[0]


@pytest.fixture
def letter(application):
    return application.call.documents[1]


@pytest.fixture
def stranger(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Northgate University Hospital")


def upload(client, application, document, *, content: bytes = PDF, filename: str = PDF_NAME,
           version: int | None = None, partner=None):
    data = {"version": fresh(application).version if version is None else version,
            "file": (io.BytesIO(content), filename)}
    if partner is not None:
        data["partner_id"] = partner.id
    return client.post(f"/applications/{application.id}/documents/{document.id}", data=data,
                       content_type="multipart/form-data")


def documents_of(application) -> list[ApplicationDocument]:
    db.session.expire_all()
    return db.session.scalars(select(ApplicationDocument).where(ApplicationDocument.application_id == application.id)
                              .order_by(ApplicationDocument.id)).all()


def stored_file_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredFile))


def download_url(application, document) -> str:
    return f"/applications/{application.id}/documents/file/{document.id}"


def assert_nothing_stored(application, storage):
    assert documents_of(application) == []
    assert stored_file_count() == 0
    assert stored_keys(storage) == []


def test_documents_lists_a_slot_per_document_and_per_partner(client, login, lead, application):
    login(lead)

    page = client.get(f"/applications/{application.id}/documents").get_data(as_text=True)

    assert "Project narrative" in page
    assert "Letter of commitment: Eastside Alliance" in page
    assert page.count('type="file"') == 2
    assert page.count("Missing") >= 2


def test_upload_document_stores_the_file_in_its_slot(client, login, lead, application, narrative, storage):
    login(lead)

    response = upload(client, application, narrative)

    assert response.status_code == 302
    [document] = documents_of(application)
    assert (document.call_document_id, document.partner_id, document.version) == (narrative.id, None, 1)
    assert document.stored_file.original_filename == PDF_NAME
    assert stored_keys(storage) == [document.stored_file.storage_key]
    page = client.get(f"/applications/{application.id}/documents").get_data(as_text=True)
    assert download_url(application, document) in page
    assert document.stored_file.size_label in page and lead.full_name in page


def test_upload_document_again_keeps_the_earlier_version(client, login, lead, application, narrative, storage):
    login(lead)
    assert upload(client, application, narrative).status_code == 302

    response = upload(client, application, narrative, content=DOCX, filename=DOCX_NAME)

    assert response.status_code == 302
    first, second = documents_of(application)
    assert (first.version, second.version) == (1, 2)
    assert fresh(application).current_document(narrative.id, None).id == second.id
    assert len(stored_keys(storage)) == 2
    page = client.get(f"/applications/{application.id}/documents").get_data(as_text=True)
    assert "Earlier versions (1)" in page
    assert download_url(application, first) in page and download_url(application, second) in page
    assert client.get(download_url(application, first)).data == PDF
    assert client.get(download_url(application, second)).data == DOCX


def test_upload_document_per_partner_goes_to_that_partners_slot(client, login, lead, application, letter):
    partner = application.partners[0]
    login(lead)

    response = upload(client, application, letter, partner=partner)

    assert response.status_code == 302
    [document] = documents_of(application)
    assert (document.call_document_id, document.partner_id) == (letter.id, partner.id)


def test_upload_document_per_partner_slot_needs_a_partner(client, login, lead, application, letter, storage):
    login(lead)

    response = upload(client, application, letter)

    assert response.status_code == 400
    assert "is given once for each partner: choose the partner." in response.get_data(as_text=True)
    assert_nothing_stored(application, storage)


def test_upload_document_for_a_partner_of_another_application_is_refused(
        client, login, lead, application, letter, partner_user, storage):
    other = make_application(application.call, lead, title="Another project")
    foreign = services.add_partner(other, editor=lead, expected_version=None, organisation=partner_user.organisation,
                                   contact_name="Jo", contact_email="jo@eastside.example", role_in_project="")
    login(lead)

    response = upload(client, application, letter, partner=foreign)

    assert response.status_code == 400
    assert "choose the partner" in response.get_data(as_text=True)
    assert_nothing_stored(application, storage)
    assert documents_of(other) == []


@pytest.mark.parametrize(("filename", "content", "message"), [
    pytest.param("setup.exe", b"MZ\x90\x00\x03\x00", "“setup.exe” is not an accepted file type. Upload a PDF",
                 id="program"),
    pytest.param("letter.png", PDF, "“letter.png” is not a real PNG image: it contains a PDF",
                 id="pdf-named-png"),
    pytest.param("letter.pdf", b"", "The file is empty.", id="empty"),
    # A text file named .pdf: say it is not a PDF, never advise renaming it to .csv.
    pytest.param("letter.pdf", b"Dear officer,\nwe commit.\n",
                 "“letter.pdf” is not a real PDF: its content is plain text",
                 id="text-named-pdf"),
])
def test_upload_document_of_a_refused_file_shows_why_and_stores_nothing(
        client, login, lead, application, narrative, storage, filename, content, message):
    login(lead)
    version = fresh(application).version

    response = upload(client, application, narrative, content=content, filename=filename)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "end in .csv" not in response.get_data(as_text=True)
    assert_nothing_stored(application, storage)
    assert fresh(application).version == version


def test_upload_document_without_a_file_asks_for_one(client, login, lead, application, narrative, storage):
    login(lead)

    response = client.post(f"/applications/{application.id}/documents/{narrative.id}",
                           data={"version": application.version}, content_type="multipart/form-data")

    assert response.status_code == 400
    assert "Choose a file to upload." in response.get_data(as_text=True)
    assert_nothing_stored(application, storage)


def test_upload_document_from_a_stale_page_is_refused(client, login, lead, application, narrative, storage):
    login(lead)
    opened = fresh(application).version
    services.update_overview(fresh(application), editor=lead, expected_version=None, title="Changed meanwhile",
                             summary="")
    db.session.commit()

    response = upload(client, application, narrative, version=opened)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert DOCUMENT_STALE_MESSAGE in page
    # The page offers the next try against the application as it is now.
    assert f'name="version" value="{fresh(application).version}"' in page
    assert_nothing_stored(application, storage)


def test_upload_document_by_a_viewer_is_forbidden_and_stores_nothing(
        client, login, application, narrative, make_user, storage):
    viewer = make_user(Role.APPLICANT, organisation=application.lead_organisation)
    invite_and_accept(application, viewer, CollaboratorRole.VIEWER)
    login(viewer)

    page = client.get(f"/applications/{application.id}/documents")
    response = upload(client, application, narrative)

    assert page.status_code == 200 and 'type="file"' not in page.get_data(as_text=True)
    assert response.status_code == 403
    assert_nothing_stored(application, storage)


def test_upload_document_to_a_submitted_application_is_forbidden(
        client, login, lead, application, narrative, storage):
    row = fresh(application)
    row.status, row.reference_number, row.submitted_at = ApplicationStatus.SUBMITTED, "PG-TEST-1", row.created_at
    db.session.commit()
    login(lead)

    response = upload(client, application, narrative)

    assert response.status_code == 403
    assert_nothing_stored(application, storage)


def test_upload_document_of_another_calls_document_is_not_found(client, login, lead, application, storage):
    foreign_document = make_call(title="Another call").documents[0]
    login(lead)

    response = upload(client, application, foreign_document)

    assert response.status_code == 404
    assert_nothing_stored(application, storage)


def test_download_document_streams_the_file_and_records_the_download(client, login, lead, application, narrative):
    login(lead)
    upload(client, application, narrative)
    [document] = documents_of(application)

    response = client.get(download_url(application, document))

    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Disposition"] == content_disposition(PDF_NAME)
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")).one()
    assert event.actor_id == lead.id
    assert (event.object_type, event.object_id) == ("StoredFile", str(document.stored_file_id))
    assert event.details == {"application_id": application.id, "document_id": document.id}


def test_download_document_under_another_applications_url_is_not_found(
        client, login, lead, application, narrative):
    # The user may see both applications; the document still belongs to only one.
    other = make_application(application.call, lead, title="Another project")
    db.session.commit()
    login(lead)
    upload(client, application, narrative)
    [document] = documents_of(application)

    response = client.get(download_url(other, document))

    assert response.status_code == 404
    assert PDF not in response.data


def test_documents_of_someone_elses_application_are_not_found(
        app, client, login, lead, stranger, application, narrative, letter, storage):
    login(lead)
    upload(client, application, narrative)
    [document] = documents_of(application)
    keys = stored_keys(storage)
    outsider = app.test_client()
    login(stranger, the_client=outsider)

    answers = [outsider.get(f"/applications/{application.id}/documents"),
               upload(outsider, application, narrative, content=DOCX, filename=DOCX_NAME),
               upload(outsider, application, letter, partner=application.partners[0]),
               outsider.get(download_url(application, document))]

    for response in answers:
        assert response.status_code == 404
        assert application.title not in response.get_data(as_text=True)
        assert PDF not in response.data
    assert documents_of(application) == [document]
    assert stored_keys(storage) == keys
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")).all() == []


def test_download_document_by_a_program_officer_once_submitted(
        app, client, login, lead, application, narrative, make_user):
    login(lead)
    upload(client, application, narrative)
    [document] = documents_of(application)
    officer = app.test_client()
    login(make_user(Role.PROGRAM_OFFICER), the_client=officer)
    assert officer.get(download_url(application, document)).status_code == 404  # a draft is private
    row = fresh(application)
    row.status, row.reference_number, row.submitted_at = ApplicationStatus.SUBMITTED, "PG-TEST-2", row.created_at
    db.session.commit()

    response = officer.get(download_url(application, document))

    assert response.status_code == 200 and response.data == PDF
