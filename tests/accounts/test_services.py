"""Rules of registration, approval, roles, passwords and sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grants.accounts import services
from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
from grants.accounts.models import Organisation, PasswordResetToken, User
from grants.audit.models import AuditEvent
from grants.core.errors import DomainError, TransitionNotAllowed
from grants.extensions import db
from tests.conftest import PASSWORD


def _actions(target) -> list[str]:
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == type(target).__name__,
                                        AuditEvent.object_id == str(target.id)).order_by(AuditEvent.id)))


def test_register_applicant_joining_existing_organisation_is_pending(make_organisation, make_user, outbox):
    admin = make_user(Role.ADMIN)
    organisation = make_organisation("Riverside Medical")
    user = services.register_applicant(email=" New.Person@Example.org ", full_name="New Person",
                                       password=PASSWORD, organisation=organisation)
    assert user.email == "new.person@example.org"
    assert user.status is UserStatus.PENDING and not user.is_active
    assert user.roles == {Role.APPLICANT}
    assert "user.registered" in _actions(user)
    assert [m.recipient for m in outbox(kind="registration_pending")] == [admin.email]


def test_register_applicant_proposing_organisation_creates_proposed_organisation():
    user = services.register_applicant(
        email="a@food.example", full_name="A", password=PASSWORD,
        new_organisation=dict(name="Harbor  Food Bank", kind=OrganisationKind.COMMUNITY_NONPROFIT))
    assert user.organisation.name == "Harbor Food Bank"
    assert user.organisation.status is OrganisationStatus.PROPOSED


def test_register_applicant_refuses_duplicate_email_and_changes_nothing(make_user):
    existing = make_user(email="taken@example.org")
    before = db.session.scalar(select(func.count()).select_from(User))
    with pytest.raises(DomainError, match="already exists"):
        services.register_applicant(email="TAKEN@example.org", full_name="X", password=PASSWORD,
                                    organisation=existing.organisation)
    assert db.session.scalar(select(func.count()).select_from(User)) == before


@pytest.mark.parametrize("password, message", [
    ("short", "at least 12"),
    ("alice-secret-password", "e-mail"),
])
def test_register_applicant_refuses_weak_password(make_organisation, password, message):
    with pytest.raises(DomainError, match=message):
        services.register_applicant(email="alice@example.org", full_name="Alice", password=password,
                                    organisation=make_organisation())


def test_register_applicant_refuses_unapproved_organisation(make_organisation):
    proposed = make_organisation(status=OrganisationStatus.PROPOSED)
    with pytest.raises(DomainError, match="not open"):
        services.register_applicant(email="b@example.org", full_name="B", password=PASSWORD, organisation=proposed)


def test_propose_organisation_refuses_name_already_registered(make_organisation):
    make_organisation("Eastside Alliance")
    with pytest.raises(DomainError, match="already registered"):
        services.propose_organisation(name="eastside alliance", kind=OrganisationKind.OTHER)


def test_approve_registration_activates_user_and_proposed_organisation(make_user, outbox):
    admin = make_user(Role.ADMIN)
    user = services.register_applicant(
        email="c@example.org", full_name="C", password=PASSWORD,
        new_organisation=dict(name="Lakeside Clinic", kind=OrganisationKind.COMMUNITY_NONPROFIT))
    services.approve_registration(user, approved_by=admin)
    assert user.status is UserStatus.ACTIVE and user.active_at is not None
    assert user.organisation.status is OrganisationStatus.APPROVED
    assert "user.approved" in _actions(user)
    assert "organisation.approved" in _actions(user.organisation)
    assert outbox(kind="registration_approved")[0].recipient == "c@example.org"


def test_approve_registration_twice_is_refused(make_user):
    admin = make_user(Role.ADMIN)
    user = make_user(status=UserStatus.ACTIVE)
    with pytest.raises(TransitionNotAllowed, match="is active"):
        services.approve_registration(user, approved_by=admin)


def test_reject_registration_needs_reason_and_rejects_lone_proposed_organisation(make_user, outbox):
    admin = make_user(Role.ADMIN)
    user = services.register_applicant(
        email="d@example.org", full_name="D", password=PASSWORD,
        new_organisation=dict(name="Unknown Org", kind=OrganisationKind.OTHER))
    with pytest.raises(DomainError, match="reason"):
        services.reject_registration(user, rejected_by=admin, reason="  ")
    services.reject_registration(user, rejected_by=admin, reason="Not a partner organisation")
    assert user.status is UserStatus.REJECTED
    assert user.organisation.status is OrganisationStatus.REJECTED
    assert "Not a partner organisation" in outbox(kind="registration_rejected")[0].body


def test_deactivate_user_rotates_session_token(make_user):
    admin = make_user(Role.ADMIN)
    user = make_user()
    token = user.session_token
    services.deactivate_user(user, deactivated_by=admin)
    assert user.status is UserStatus.DEACTIVATED
    assert user.session_token != token


def test_deactivate_user_refuses_own_account(make_user):
    admin = make_user(Role.ADMIN)
    with pytest.raises(DomainError, match="your own"):
        services.deactivate_user(admin, deactivated_by=admin)


def test_set_roles_records_change_and_refuses_empty_or_self_demotion(make_user):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.APPLICANT)
    services.set_roles(user, {Role.REVIEWER, Role.APPLICANT}, changed_by=admin)
    assert user.roles == {Role.REVIEWER, Role.APPLICANT}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.roles_changed"))
    assert event.details == {"from": ["applicant"], "to": ["applicant", "reviewer"]}
    with pytest.raises(DomainError, match="at least one role"):
        services.set_roles(user, set(), changed_by=admin)
    with pytest.raises(DomainError, match="own admin role"):
        services.set_roles(admin, {Role.APPLICANT}, changed_by=admin)


def test_authenticate_answers_none_alike_for_unknown_and_wrong_and_says_why_to_the_right_password(make_user):
    make_user(email="active@example.org")
    make_user(email="pending@example.org", status=UserStatus.PENDING)
    assert services.authenticate("nobody@example.org", PASSWORD) is None
    assert services.authenticate("active@example.org", "wrong password!!") is None
    with pytest.raises(services.AccountNotActive, match="waiting for an administrator's approval"):
        services.authenticate("pending@example.org", PASSWORD)
    # A wrong password for a pending account tells nothing about it.
    assert services.authenticate("pending@example.org", "wrong password!!") is None
    reasons = [e.details["reason"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.login_failed").order_by(AuditEvent.id))]
    assert reasons == ["unknown", "password", "pending", "password"]


def test_authenticate_upgrades_a_weaker_hash(make_user, app):
    user = make_user(email="old@example.org")
    user.password_hash = services.generate_password_hash(PASSWORD, method="pbkdf2:sha256:500")
    assert services.authenticate("OLD@example.org", PASSWORD) is user
    assert user.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")


def test_change_password_checks_current_and_rotates_token(make_user):
    user = make_user()
    token = user.session_token
    with pytest.raises(DomainError, match="current password"):
        services.change_password(user, current_password="nope", new_password="another long passphrase")
    assert user.session_token == token
    services.change_password(user, current_password=PASSWORD, new_password="another long passphrase")
    assert user.session_token != token
    assert services.check_password_hash(user.password_hash, "another long passphrase")


def _reset_token_from(outbox) -> str:
    body = outbox(kind="password_reset")[-1].body
    return body.split("/password/reset/")[1].split()[0]


def test_password_reset_token_is_single_use(make_user, outbox):
    user = make_user(email="reset@example.org")
    services.request_password_reset("reset@example.org")
    token = _reset_token_from(outbox)
    stored = db.session.scalar(select(PasswordResetToken))
    assert stored.token_hash != token  # only the digest is kept
    services.reset_password(token, "brand new passphrase")
    with pytest.raises(DomainError, match="expired or was already used"):
        services.reset_password(token, "yet another passphrase")
    assert services.check_password_hash(user.password_hash, "brand new passphrase")


def test_password_reset_token_expires(make_user, outbox):
    make_user(email="late@example.org")
    services.request_password_reset("late@example.org")
    token = _reset_token_from(outbox)
    row = db.session.scalar(select(PasswordResetToken))
    row.expires_at = row.created_at - timedelta(seconds=1)
    with pytest.raises(DomainError, match="expired"):
        services.reset_password(token, "brand new passphrase")


def test_request_password_reset_for_unknown_email_sends_nothing(outbox):
    services.request_password_reset("ghost@example.org")
    assert outbox(kind="password_reset") == []


def test_reset_link_uses_base_url_not_request_host(make_user, outbox, app):
    make_user(email="host@example.org")
    with app.test_request_context("/", base_url="http://evil.example"):
        services.request_password_reset("host@example.org")
    assert _reset_token_from(outbox)
    assert outbox(kind="password_reset")[-1].body.count(app.config["BASE_URL"]) == 1
    assert "evil.example" not in outbox(kind="password_reset")[-1].body


def test_production_password_hash_meets_asvs():
    from config.settings import Config

    method, n, r, p = Config.PASSWORD_HASH_METHOD.split(":")
    assert method == "scrypt" and int(n) >= 2 ** 17


def test_organisation_kind_marks_community_partners():
    assert not OrganisationKind.MEMBER_INSTITUTION.is_community_partner
    assert all(kind.is_community_partner for kind in OrganisationKind if kind is not OrganisationKind.MEMBER_INSTITUTION)


def test_update_organisation_audits_each_changed_field(make_user, make_organisation):
    admin = make_user(Role.ADMIN)
    organisation = make_organisation("Old Name", city="Springfield")
    services.update_organisation(organisation, changed_by=admin, name="New Name", city="Springfield")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.updated"))
    assert event.details == {"name": {"from": "Old Name", "to": "New Name"}}
    assert db.session.get(Organisation, organisation.id).name == "New Name"
