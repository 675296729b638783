"""Discarding a draft: only its owner, only a draft, after a confirmation page that works
without JavaScript; everything in it goes, its stored files too, and the log says what it was."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import OrganisationKind
from grants.applications import services
from grants.applications.enums import ApplicationStatus, CollaboratorRole
from grants.applications.models import Application, ApplicationDocument, BudgetLine, Collaborator, Partner
from grants.attachments.models import StoredFile
from grants.attachments.services import sweep_orphans
from grants.audit.models import AuditEvent
from grants.core.errors import DomainError, StorageUnavailable
from grants.extensions import db
from tests.applications.fixtures import (
    complete_application,
    invite_and_accept,
    make_applicant,
    make_application,
    make_call,
)
from tests.attachments.fixtures import local_storage, stored_keys, use_storage  # noqa: F401 - fixtures
from tests.conftest import fresh


@pytest.fixture
def storage(use_storage, local_storage):
    return use_storage(local_storage)


@pytest.fixture
def lead(make_user, make_organisation):
    return make_applicant(make_user, make_organisation, name="Riverside Medical")


@pytest.fixture
def partner_users(make_user, make_organisation):
    return [make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT,
                           name=f"Eastside Alliance {n}") for n in (1, 2)]


@pytest.fixture
def draft(lead, partner_users, storage):
    """A complete draft: partners who signed off (collaborators), a budget, uploaded documents."""
    application = make_application(make_call(), lead)
    complete_application(application, partner_users)
    db.session.commit()
    return application


def count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return db.session.scalar(query)


def parts_of(application_id: int) -> dict:
    return {model.__name__: count(model, application_id=application_id)
            for model in (Partner, BudgetLine, ApplicationDocument, Collaborator)}


# --- the service ------------------------------------------------------------------------

def test_discard_application_deletes_the_draft_its_parts_and_its_files(draft, lead, storage):
    application_id = draft.id
    assert stored_keys(storage)

    services.discard_application(draft, discarded_by=lead)
    db.session.commit()

    assert db.session.get(Application, application_id) is None
    assert set(parts_of(application_id).values()) == {0}
    assert count(StoredFile) == 0
    assert stored_keys(storage) == []


def test_discard_application_records_what_the_draft_was(draft, lead):
    application_id = draft.id

    services.discard_application(draft, discarded_by=lead)
    db.session.commit()

    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "application.discarded")).one()
    assert (event.object_type, event.object_id, event.actor_id) == ("Application", str(application_id), lead.id)
    assert event.details["title"] == "Trusted messengers for heart health"
    assert event.details["partners"] == ["Eastside Alliance 1", "Eastside Alliance 2"]
    assert event.details["documents"] == ["letter.pdf"] * 3


def test_discard_application_that_rolls_back_keeps_the_files(draft, lead, storage):
    keys = stored_keys(storage)

    services.discard_application(draft, discarded_by=lead)
    db.session.rollback()

    assert fresh(draft).is_draft
    assert count(StoredFile) == len(keys)
    assert stored_keys(storage) == keys


def test_discard_application_leaves_objects_to_the_sweep_when_the_store_is_down(
        app, draft, lead, storage, monkeypatch):
    keys = stored_keys(storage)

    def down(key):
        raise StorageUnavailable("The file store is unavailable.")

    with monkeypatch.context() as patch:
        patch.setattr(storage, "delete", down)
        services.discard_application(draft, discarded_by=lead)
        db.session.commit()

    assert count(StoredFile) == 0
    assert stored_keys(storage) == keys
    monkeypatch.setitem(app.config, "ORPHAN_SWEEP_GRACE_MINUTES", -1)
    assert sorted(sweep_orphans()) == keys
    assert stored_keys(storage) == []


@pytest.mark.parametrize("status", [ApplicationStatus.SUBMITTED, ApplicationStatus.WITHDRAWN])
def test_discard_application_refuses_anything_but_a_draft(lead, partner_users, storage, status):
    application = make_application(make_call(), lead, submitted=True, partner_users=partner_users)
    if status is ApplicationStatus.WITHDRAWN:
        services.withdraw_application(application, withdrawn_by=lead)
    db.session.commit()
    keys = stored_keys(storage)

    with pytest.raises(DomainError, match="only a draft can be discarded"):
        services.discard_application(application, discarded_by=lead)

    db.session.rollback()
    assert fresh(application).status is status
    assert stored_keys(storage) == keys


# --- the pages --------------------------------------------------------------------------

def test_discard_page_says_what_goes_and_asks_to_confirm(client, login, draft, lead):
    login(lead)

    page = client.get(f"/applications/{draft.id}").get_data(as_text=True)
    assert f'href="/applications/{draft.id}/discard"' in page

    response = client.get(f"/applications/{draft.id}/discard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Discarding cannot be undone" in page
    assert "2 partners (Eastside Alliance 1, Eastside Alliance 2)" in page
    assert "3 uploaded documents" in page
    assert 'method="post"' in page and 'name="csrf_token"' in page
    assert fresh(draft).is_draft


def test_discard_through_the_page_goes_to_my_applications(client, login, draft, lead, storage):
    login(lead)

    response = client.post(f"/applications/{draft.id}/discard", follow_redirects=True)

    assert response.request.path == "/applications"
    assert "The draft “Trusted messengers for heart health” is discarded." in response.get_data(as_text=True)
    assert count(Application, id=draft.id) == 0
    assert stored_keys(storage) == []
    assert client.get(f"/applications/{draft.id}").status_code == 404


def test_discard_is_refused_to_an_editor_who_is_not_the_owner(client, login, draft, make_user, make_organisation):
    editor = make_applicant(make_user, make_organisation, kind=OrganisationKind.COMMUNITY_NONPROFIT)
    invite_and_accept(draft, editor, CollaboratorRole.EDITOR)
    db.session.commit()
    login(editor)

    assert f"/applications/{draft.id}/discard" not in client.get(f"/applications/{draft.id}").get_data(as_text=True)
    assert client.get(f"/applications/{draft.id}/discard").status_code == 403
    assert client.post(f"/applications/{draft.id}/discard").status_code == 403
    assert fresh(draft).is_draft


def test_discard_of_someone_elses_draft_is_not_found(client, login, draft, make_user, make_organisation):
    login(make_applicant(make_user, make_organisation))

    assert client.post(f"/applications/{draft.id}/discard").status_code == 404
    assert fresh(draft).is_draft


def test_discard_of_a_submitted_application_is_refused_and_changes_nothing(
        client, login, lead, partner_users, storage):
    application = make_application(make_call(), lead, submitted=True, partner_users=partner_users)
    db.session.commit()
    keys = stored_keys(storage)
    login(lead)

    assert "/discard" not in client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert client.post(f"/applications/{application.id}/discard").status_code == 403
    assert fresh(application).status is ApplicationStatus.SUBMITTED
    assert stored_keys(storage) == keys
