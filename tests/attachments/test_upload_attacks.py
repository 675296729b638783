"""Hostile uploads through every upload form of the app (an application's documents, an
organisation's documents, a milestone report's files): each refused with a message that says
why, and nothing stored (no row, no object); a file with a hostile name is kept under a clean
one; downloads are always attachments, never rendered by the browser.

A new upload route (a FileField on a form of a POST route) fails test_every_upload_route_is_attacked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import OrganisationKind
from grants.applications import services
from grants.attachments.models import StoredFile
from grants.core.forms import OneFile
from grants.extensions import db
from tests.applications.fixtures import make_applicant, make_application, make_call
from tests.attachments.fixtures import SAMPLES, local_storage, stored_keys, use_storage  # noqa: F401 - fixtures
from tests.reports.factories import reporting_award

PDF_NAME, PDF, _ = SAMPLES["pdf"]
PNG_NAME, PNG, _ = SAMPLES["png"]
NOT_ACCEPTED = "is not an accepted file type"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 48
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"This program cannot be run in DOS mode"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

# (filename, content, what the refusal says)
ATTACKS = [
    pytest.param("letter.pdf", b"\x89PNX\r\n\x1a\n" + b"\x00" * 64, NOT_ACCEPTED, id="wrong-magic-bytes"),
    pytest.param("letter.pdf", PNG, "is not a real PDF: it contains a PNG image", id="png-named-pdf"),
    pytest.param("letter.pdf", MZ, NOT_ACCEPTED, id="windows-program-named-pdf"),
    pytest.param("letter.pdf", ELF, NOT_ACCEPTED, id="linux-program-named-pdf"),
    pytest.param("setup.exe", MZ, NOT_ACCEPTED, id="windows-program"),
    pytest.param("page.html", HTML, NOT_ACCEPTED, id="html-with-script"),
    pytest.param("page.pdf", HTML, "is not a real PDF", id="html-named-pdf"),
    pytest.param("logo.svg", SVG, NOT_ACCEPTED, id="svg-with-script"),
    pytest.param("logo.png", SVG, "is not a real PNG image", id="svg-named-png"),
    pytest.param("letter.pdf", b"", "The file is empty.", id="zero-bytes"),
    pytest.param("letter.pdf", PDF + b"\x00" * 4096, "larger than the limit", id="oversize"),
    # Right-to-left override: shown as "letterfdp.exe" reversed, so it reads "...exe.pdf".
    pytest.param("letter\u202efdp.exe", MZ, NOT_ACCEPTED, id="rtl-override-program"),
    pytest.param("../../../etc/cron.d/job", b"* * * * * root sh\n", NOT_ACCEPTED, id="traversal-without-extension"),
]
# Accepted content under a hostile name: stored under a generated key, shown by a clean name.
# Names as a browser sends them: it writes ", CR and LF as %22, %0D and %0A (HTML's
# multipart/form-data encoding; Werkzeug reads %22 back), and Werkzeug reads a backslash as an escape.
HOSTILE_NAMES = [
    pytest.param("../../../../etc/passwd.pdf", "passwd.pdf", id="traversal"),
    pytest.param("C:/Users/pat/../../letter.pdf", "letter.pdf", id="drive-and-traversal"),
    pytest.param("..\\..\\windows\\letter.pdf", "....windowsletter.pdf", id="windows-traversal"),
    pytest.param("/etc/letter.pdf", "letter.pdf", id="absolute-path"),
    pytest.param("let\x00ter\t\x7f.pdf", "letter.pdf", id="nul-and-control"),
    pytest.param("let%0D%0Ater.pdf", "let%0D%0Ater.pdf", id="newline"),
    pytest.param("let\u202eter\u200f.pdf", "letter.pdf", id="rtl-override"),
    pytest.param("\x1b[31mletter\x07.pdf", "[31mletter.pdf", id="terminal-escape"),
    pytest.param("%22><img src=x onerror=alert(1)>.pdf", "\"><img src=x onerror=alert(1)>.pdf", id="markup"),
]
SMALL_LIMIT = len(PDF) + 1024


@dataclass
class Surface:
    """One upload form: post files to it as its user; count its rows."""

    post: Callable[[list[tuple[bytes, str]]], object]
    rows: Callable[[], int]
    download: Callable[[], str | None]  # the URL of the last file stored through it
    client: object


@pytest.fixture
def storage(use_storage, local_storage):
    return use_storage(local_storage)


def _application_documents(app, login, make_user, make_organisation) -> Surface:
    from grants.applications.models import ApplicationDocument

    lead = make_applicant(make_user, make_organisation, name="Riverside Medical")
    partner = make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                             name="Eastside Alliance")
    application = make_application(make_call(), lead)
    services.add_partner(application, editor=lead, expected_version=None, organisation=partner.organisation,
                         contact_name=partner.full_name, contact_email=partner.email, role_in_project="Outreach")
    db.session.commit()
    client = app.test_client()
    login(lead, the_client=client)
    document = application.call.documents[0]

    def post(files):
        db.session.expire_all()
        return client.post(f"/applications/{application.id}/documents/{document.id}", content_type="multipart/form-data",
                           data={"version": application.version, "file": [(io.BytesIO(c), n) for c, n in files]})

    def rows():
        return db.session.scalar(select(func.count()).select_from(ApplicationDocument))

    def download():
        row = db.session.scalars(select(ApplicationDocument).order_by(ApplicationDocument.id.desc())).first()
        return row and f"/applications/{application.id}/documents/file/{row.id}"

    return Surface(post, rows, download, client)


def _organisation_documents(app, login, make_user, make_organisation) -> Surface:
    from grants.accounts.models import OrganisationDocument

    organisation = make_organisation("Eastside Community Health Coalition")
    member = make_user(organisation=organisation)
    client = app.test_client()
    login(member, the_client=client)

    def post(files):
        return client.post(f"/organisations/{organisation.id}/documents", content_type="multipart/form-data",
                           data={"title": "Determination letter", "file": [(io.BytesIO(c), n) for c, n in files]})

    def rows():
        return db.session.scalar(select(func.count()).select_from(OrganisationDocument))

    def download():
        row = db.session.scalars(select(OrganisationDocument).order_by(OrganisationDocument.id.desc())).first()
        return row and f"/organisations/{organisation.id}/documents/{row.id}"

    return Surface(post, rows, download, client)


def _report_files(app, login, make_user, make_organisation) -> Surface:
    from grants.reports import services as reporting
    from grants.awards.models import ReportDocument

    award = reporting_award(make_user, make_organisation)
    db.session.commit()
    milestone = award.milestones[0]
    client = app.test_client()
    login(award.application.owner, the_client=client)
    url = f"/awards/{award.id}/milestones/{milestone.id}/report"

    def post(files):
        db.session.expire_all()
        return client.post(url, content_type="multipart/form-data", data={
            "narrative": "Twelve messengers trained.", "basis": reporting.report_basis(milestone), "save": "yes",
            "files": [(io.BytesIO(c), n) for c, n in files]})

    def rows():
        return db.session.scalar(select(func.count()).select_from(ReportDocument))

    def download():
        row = db.session.scalars(select(ReportDocument).order_by(ReportDocument.id.desc())).first()
        return row and f"{url}/files/{row.id}"

    return Surface(post, rows, download, client)


SURFACES = {"applications.upload_document": _application_documents,
            "accounts.add_organisation_document": _organisation_documents,
            "awards.milestone_report": _report_files}


@pytest.fixture(params=sorted(SURFACES))
def surface(request, app, login, make_user, make_organisation, storage) -> Surface:
    return SURFACES[request.param](app, login, make_user, make_organisation)


def _subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def test_every_upload_route_is_attacked(app):
    from flask_wtf import FlaskForm
    from wtforms.fields import FileField
    from wtforms.fields.core import UnboundField

    # Every form class the app has imported (the app is built), with a file field.
    with_files = sorted({form.__name__ for form in _subclasses(FlaskForm) if form.__module__.startswith("grants.")
                         and any(isinstance(value, UnboundField) and issubclass(value.field_class, FileField)
                                 for value in vars(form).values())})
    assert with_files == ["DocumentUploadForm", "OrganisationDocumentForm", "ReportForm"], (
        "a new form takes files: add its route to SURFACES")


def _stored(surface, storage) -> tuple:
    db.session.expire_all()
    return surface.rows(), db.session.scalar(select(func.count()).select_from(StoredFile)), stored_keys(storage)


def _nothing_stored(surface, storage, before):
    rows, files, keys = _stored(surface, storage)
    assert rows == before[0], "a refused upload left a row"
    assert files == before[1], "a refused upload left a file row"
    assert keys == before[2], "a refused upload left an object in the store"


@pytest.mark.parametrize(("filename", "content", "message"), ATTACKS)
def test_hostile_upload_is_refused_with_its_reason_and_nothing_stored(
        app, surface, storage, monkeypatch, filename, content, message):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", SMALL_LIMIT)
    before = _stored(surface, storage)

    response = surface.post([(content, filename)])

    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:300]
    assert message in page
    assert "alert-danger" in page or "invalid-feedback" in page
    assert "<script>alert" not in page
    _nothing_stored(surface, storage, before)


def test_many_files_at_once_with_one_hostile_are_refused_and_none_stored(request, surface, storage):
    before = _stored(surface, storage)

    response = surface.post([(PDF, f"letter-{number}.pdf") for number in range(30)] + [(MZ, "letter-31.pdf")])

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    # A form for one file refuses several outright; the report's takes many, and one bad file refuses them all.
    assert (NOT_ACCEPTED if "milestone_report" in request.node.callspec.id else OneFile.message) in page
    _nothing_stored(surface, storage, before)


@pytest.mark.parametrize(("filename", "shown"), HOSTILE_NAMES)
def test_hostile_filename_is_stored_under_a_clean_name_and_downloaded_as_an_attachment(
        surface, storage, filename, shown):
    files_before = _stored(surface, storage)[1]
    response = surface.post([(PDF, filename)])

    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    assert "<img src=x" not in surface.client.get(response.location).get_data(as_text=True), "the name shown unescaped"
    stored = db.session.scalars(select(StoredFile).order_by(StoredFile.id.desc())).first()
    assert _stored(surface, storage)[1] == files_before + 1
    assert stored.original_filename == shown
    assert "/" not in stored.storage_key.split("/", 2)[-1] and shown not in stored.storage_key
    assert stored.storage_key in stored_keys(storage)
    download = surface.client.get(surface.download())
    assert download.status_code == 200 and download.data == PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert not any(char in disposition for char in "\r\n\x00\u202e")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"
