"""One application, two requests at once, on PostgreSQL: the submit button clicked twice (or
in two tabs) submits once; two people saving the same answers form keep one save and tell
the other, with what they typed kept.

Each request runs in a real thread with its own client, app context and connection, on a
database of its own whose data is really committed. The first request to reach the service
pauses there, so the second arrives while the first still holds its transaction.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import OrganisationKind
from grants.applications import services
from grants.applications.enums import ApplicationStatus
from grants.applications.models import Answer, Application, ReferenceCounter
from grants.audit.models import AuditEvent
from grants.extensions import db
from grants.notifications.models import OutboxMessage
from tests.applications.fixtures import complete_application, make_applicant, make_call
from tests.concurrency import committed_app, form_version, run_in_threads, separate_postgresql_database
from tests.conftest import PASSWORD

WHY = "two requests racing for one application need PostgreSQL: SQLite lets one writer at a time into the file"


@pytest.fixture
def database():
    """Overrides tests/conftest.py's rolled-back transaction (see tests/concurrency.py)."""
    yield None


@pytest.fixture
def racing_app(tmp_path):
    with separate_postgresql_database("applications", WHY) as uri, committed_app(uri, tmp_path) as app:
        yield app


@pytest.fixture
def draft(racing_app, make_user, make_organisation):
    """Committed: a complete draft, ready to submit, of the first application to its call."""
    with racing_app.app_context():
        partners = [make_applicant(make_user, make_organisation, kind=kind)
                    for kind in (OrganisationKind.COMMUNITY_NONPROFIT, OrganisationKind.PUBLIC_HEALTH_AGENCY)]
        owner = make_applicant(make_user, make_organisation)
        application = services.start_application(make_call(), owner=owner, title="Trusted messengers")
        complete_application(application, partners)
        db.session.commit()
        ids = {"application": application.id, "owner": owner.email, "question": application.call.questions[0].id,
               "people": len(services.people_to_tell(application))}
        db.session.remove()
    return ids


def _pause_first_call(monkeypatch, name: str) -> None:
    """The first request into ``services.<name>`` waits there (inside its transaction)."""
    original = getattr(services, name)
    first = threading.Lock()

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        if first.acquire(blocking=False):
            time.sleep(0.5)
        return result

    monkeypatch.setattr(services, name, paused)


def _tabs(app, email: str, count: int = 2) -> list:
    """``count`` clients sharing one logged-in session, as tabs of one browser do."""
    first = app.test_client()
    assert first.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    cookie = first.get_cookie("session")
    tabs = [first]
    for _ in range(count - 1):
        tab = app.test_client()
        tab.set_cookie("session", cookie.value, domain=cookie.domain)
        tabs.append(tab)
    return tabs


def _version(client, url: str) -> str:
    return form_version(client.get(url).get_data(as_text=True))


def test_submitting_one_application_twice_at_once_submits_it_once(racing_app, draft, monkeypatch):
    application_url = f"/applications/{draft['application']}"
    tabs = _tabs(racing_app, draft["owner"])
    versions = [_version(tab, application_url + "/check") for tab in tabs]
    _pause_first_call(monkeypatch, "submitted_content")
    pages: list[str] = []

    def click_submit(tab, version) -> None:
        response = tab.post(f"{application_url}/submit", data={"version": version}, follow_redirects=True)
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True))

    assert run_in_threads(racing_app, click_submit, list(zip(tabs, versions))) == []
    assert sum("Application submitted" in page and "Your reference number" in page for page in pages) == 1
    assert sum("This application is submitted; its content can no longer change." in page for page in pages) == 1
    with racing_app.app_context():
        try:
            application = db.session.get(Application, draft["application"])
            assert application.status is ApplicationStatus.SUBMITTED
            assert application.reference_number.endswith("-0001")
            assert db.session.get(ReferenceCounter, application.call_id).last_number == 1
            assert db.session.scalar(select(func.count(AuditEvent.id))
                                     .where(AuditEvent.action == "application.submitted")) == 1
            assert db.session.scalar(select(func.count(OutboxMessage.id))
                                     .where(OutboxMessage.kind == "application_submitted")) == draft["people"]
        finally:
            db.session.remove()


def test_two_saves_of_the_same_answers_form_at_once_keep_one_and_tell_the_other(racing_app, draft, monkeypatch):
    answers_url = f"/applications/{draft['application']}/answers"
    tabs = _tabs(racing_app, draft["owner"])
    versions = [_version(tab, answers_url) for tab in tabs]
    _pause_first_call(monkeypatch, "save_answers")
    field = f"answer_{draft['question']}"
    texts = ["Monthly listening sessions with residents.", "A community advisory board meets each quarter."]
    answers: list[tuple[str, int, str]] = []

    def save(tab, version, text) -> None:
        response = tab.post(answers_url, data={"version": version, field: text})
        answers.append((text, response.status_code, response.get_data(as_text=True)))

    assert run_in_threads(racing_app, save, list(zip(tabs, versions, texts))) == []
    [(saved_text, _, _)] = [answer for answer in answers if answer[1] == 302]
    [(refused_text, _, refused_page)] = [answer for answer in answers if answer[1] == 409]
    assert "Someone else saved this application after you opened this page" in refused_page
    assert refused_text in refused_page  # what they typed is still in the form
    with racing_app.app_context():
        try:
            answer = db.session.scalar(select(Answer).where(Answer.application_id == draft["application"],
                                                            Answer.question_id == draft["question"]))
            assert answer.text == saved_text
            assert db.session.get(Application, draft["application"]).version == int(versions[0]) + 1
        finally:
            db.session.remove()
