"""Account rules: registration, approval, login, sessions, passwords, roles, organisations.

Every function changes objects and records audit events; none commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from grants.accounts.enums import (
    ORGANISATION_TRANSITIONS,
    USER_TRANSITIONS,
    OrganisationKind,
    OrganisationStatus,
    Role,
    UserStatus,
)
from grants.accounts.models import Organisation, PasswordResetToken, User, UserRole, new_session_token
from grants.attachments.services import store_upload
from grants.audit.services import record_event
from grants.core.errors import DomainError
from grants.core.lifecycle import apply_transition
from grants.core.types import utcnow
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.services import queue_email

MIN_PASSWORD_LENGTH = 12


# --- passwords --------------------------------------------------------------------------

def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def check_password_strength(password: str, *, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    local_part = email.split("@")[0].lower()
    # Short local parts ("c@...") occur inside any passphrase by chance; only longer ones matter.
    if len(local_part) >= 4 and local_part in password.lower():
        raise DomainError("Choose a password that does not contain your e-mail address.")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


_DUMMY_HASH: str | None = None


def _spend_hash_time(password: str) -> None:
    # Unknown e-mails take as long as known ones, so timing does not reveal accounts.
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    check_password_hash(_DUMMY_HASH, password)


# --- registration and approval ----------------------------------------------------------

def register_applicant(*, email: str, full_name: str, password: str, organisation: Organisation | None = None,
                       new_organisation: dict | None = None) -> User:
    """Create a PENDING applicant who joins ``organisation`` or proposes ``new_organisation``.

    An admin approves the account (and a proposed organisation) before it can log in.
    Admins are notified through the outbox.
    """
    email = normalise_email(email)
    problems = registration_problems(email=email, password=password)
    if problems:
        raise DomainError(next(iter(problems.values())))
    if organisation is None:
        if not new_organisation:
            raise DomainError("Choose your organisation or propose a new one.")
        organisation = propose_organisation(**new_organisation)
    elif not organisation.is_approved or organisation.id in funder_organisation_ids():
        raise DomainError("That organisation is not open for new members.")
    user = User(email=email, full_name=full_name.strip(), password_hash=hash_password(password),
                organisation=organisation, status=UserStatus.PENDING,
                role_rows=[UserRole(role=Role.APPLICANT)])
    db.session.add(user)
    db.session.flush()
    record_event("user.registered", actor=user, target=user,
                 details={"organisation": organisation.name, "new_organisation": organisation.status.value})
    for admin in active_users_with_role(Role.ADMIN):
        queue_email(recipient=admin.email, recipient_user=admin, kind="registration_pending",
                    subject=f"Registration to approve: {user.full_name}", template="registration_pending",
                    user=user, link=external_url("accounts.pending_registrations"))
    return user


def propose_organisation(*, name: str, kind: OrganisationKind, city: str = "", region: str = "",
                         country: str = "US", ein: str = "", uei: str = "", website: str = "") -> Organisation:
    name = " ".join(name.split())
    if not name:
        raise DomainError("Give the organisation's name.")
    problem = _organisation_name_problem(name)
    if problem:
        raise DomainError(problem)
    organisation = Organisation(name=name, kind=kind, city=city.strip(), region=region.strip(),
                                country=(country or "US").strip().upper()[:2], ein=ein.strip(),
                                uei=uei.strip().upper(), website=website.strip(),
                                status=OrganisationStatus.PROPOSED)
    db.session.add(organisation)
    db.session.flush()
    record_event("organisation.proposed", target=organisation, details={"name": name, "kind": kind.value})
    return organisation


def funder_organisations_query():
    """The ids of the organisations funder staff (program officers, admins) belong to."""
    return (select(User.organisation_id).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role.in_([Role.PROGRAM_OFFICER, Role.ADMIN])).distinct())


def funder_organisation_ids() -> set[int]:
    """The funder's own organisations: nobody registers into them as an applicant, and their
    people are never paid a reviewer's stipend."""
    return set(db.session.scalars(funder_organisations_query()))


def organisations_to_join() -> list[Organisation]:
    """The organisations a new applicant may join: approved, and not the funder's own."""
    return list(db.session.scalars(
        select(Organisation).where(Organisation.status == OrganisationStatus.APPROVED,
                                   Organisation.id.not_in(funder_organisations_query()))
        .order_by(Organisation.name)))


def registration_problems(*, email: str, password: str, new_organisation_name: str | None = None) -> dict[str, str]:
    """What register_applicant would refuse about these, by what it is about ("email",
    "password", "name"): the registration form reports them with its own checks, all at once."""
    problems = {}
    if email and find_user_by_email(email) is not None:
        problems["email"] = "An account with this e-mail already exists. Log in or reset your password."
    if password:
        try:
            check_password_strength(password, email=normalise_email(email or ""))
        except DomainError as exc:
            problems["password"] = exc.message
    name_problem = _organisation_name_problem(" ".join((new_organisation_name or "").split()))
    if name_problem:
        problems["name"] = name_problem
    return problems


def _organisation_name_problem(name: str) -> str | None:
    if name and db.session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())):
        return f"“{name}” is already registered; choose it from the list instead."
    return None


def active_users_with_role(role: Role) -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == role, User.status == UserStatus.ACTIVE)
    ))


def approve_registration(user: User, *, approved_by: User) -> None:
    """Activate a pending user; approves their proposed organisation too. E-mails the user."""
    if user.organisation.status is not OrganisationStatus.APPROVED:
        approve_organisation(user.organisation, approved_by=approved_by)
    apply_transition(user, UserStatus.ACTIVE, USER_TRANSITIONS, actor=approved_by, action="user.approved")
    queue_email(recipient=user.email, recipient_user=user, kind="registration_approved",
                subject=_l("Your Partnership Grants account is ready"), template="registration_approved",
                user=user, link=external_url("accounts.login"))


def reject_registration(user: User, *, rejected_by: User, reason: str) -> None:
    if not reason.strip():
        raise DomainError("Give a reason; the applicant will see it.")
    apply_transition(user, UserStatus.REJECTED, USER_TRANSITIONS, actor=rejected_by,
                     action="user.rejected", details={"reason": reason})
    organisation = user.organisation
    if organisation.status is OrganisationStatus.PROPOSED and all(
        member is user for member in organisation.members
    ):
        apply_transition(organisation, OrganisationStatus.REJECTED, ORGANISATION_TRANSITIONS,
                         actor=rejected_by, action="organisation.rejected", details={"reason": reason})
    queue_email(recipient=user.email, recipient_user=user, kind="registration_rejected",
                subject=_l("Your Partnership Grants registration"), template="registration_rejected",
                user=user, reason=reason)


def approve_organisation(organisation: Organisation, *, approved_by: User) -> None:
    """Approve a proposed (or rejected) organisation, or reinstate a suspended one."""
    reinstating = organisation.status is OrganisationStatus.SUSPENDED
    apply_transition(organisation, OrganisationStatus.APPROVED, ORGANISATION_TRANSITIONS, actor=approved_by,
                     action="organisation.reinstated" if reinstating else "organisation.approved")


def suspend_organisation(organisation: Organisation, *, suspended_by: User, reason: str) -> None:
    """Suspend an approved organisation: its members cannot log in, and every session of
    theirs ends now (their tokens are rotated), until an admin approves it again."""
    if not reason.strip():
        raise DomainError("Give a reason for the suspension; it is kept in the audit log.")
    if organisation.id == suspended_by.organisation_id:
        raise DomainError("You cannot suspend your own organisation; ask another admin.")
    apply_transition(organisation, OrganisationStatus.SUSPENDED, ORGANISATION_TRANSITIONS, actor=suspended_by,
                     action="organisation.suspended", details={"reason": reason.strip()})
    for member in organisation.members:
        member.session_token = new_session_token()


def deactivate_user(user: User, *, deactivated_by: User) -> None:
    """Deactivate and end every session of the user (their token is rotated)."""
    if user.id == deactivated_by.id:
        raise DomainError("You cannot deactivate your own account.")
    apply_transition(user, UserStatus.DEACTIVATED, USER_TRANSITIONS, actor=deactivated_by,
                     action="user.deactivated")
    user.session_token = new_session_token()


def reactivate_user(user: User, *, reactivated_by: User) -> None:
    apply_transition(user, UserStatus.ACTIVE, USER_TRANSITIONS, actor=reactivated_by, action="user.reactivated")


def set_roles(user: User, roles: set[Role], *, changed_by: User) -> None:
    if not roles:
        raise DomainError("A user needs at least one role.")
    if user.id == changed_by.id and Role.ADMIN not in roles:
        raise DomainError("You cannot remove your own admin role; ask another admin.")
    old = user.roles
    if old == roles:
        return
    user.role_rows = [row for row in user.role_rows if row.role in roles] + [
        UserRole(role=role) for role in sorted(roles - old, key=lambda r: r.value)
    ]
    record_event("user.roles_changed", actor=changed_by, target=user,
                 details={"from": sorted(r.value for r in old), "to": sorted(r.value for r in roles)})


def move_user(user: User, organisation: Organisation, *, changed_by: User) -> None:
    if user.organisation_id == organisation.id:
        return
    record_event("user.organisation_changed", actor=changed_by, target=user,
                 details={"from": user.organisation.name, "to": organisation.name})
    user.organisation = organisation


def create_user(*, email: str, full_name: str, password: str, organisation: Organisation, roles: set[Role],
                created_by: User | None) -> User:
    """An ACTIVE user created by an admin (or by the CLI for the first admin)."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise DomainError("An account with this e-mail already exists.")
    if not roles:
        raise DomainError("A user needs at least one role.")
    check_password_strength(password, email=email)
    user = User(email=email, full_name=full_name.strip(), password_hash=hash_password(password),
                organisation=organisation, status=UserStatus.ACTIVE, active_at=utcnow(),
                role_rows=[UserRole(role=role) for role in sorted(roles, key=lambda r: r.value)])
    db.session.add(user)
    db.session.flush()
    record_event("user.created", actor=created_by, target=user,
                 details={"roles": sorted(r.value for r in roles), "organisation": organisation.name})
    return user


def update_organisation(organisation: Organisation, *, changed_by: User, **fields) -> None:
    changes = {}
    for name, value in fields.items():
        if getattr(organisation, name) != value:
            old = getattr(organisation, name)
            changes[name] = {"from": getattr(old, "value", old), "to": getattr(value, "value", value)}
            setattr(organisation, name, value)
    if changes:
        record_event("organisation.updated", actor=changed_by, target=organisation, details=changes)


# --- sessions ---------------------------------------------------------------------------

class AccountNotActive(DomainError):
    """The right password for an account that may not log in (yet): said plainly, since
    whoever knows the password may know the account's state."""

    status_code = 403
    MESSAGES = {
        "organisation_suspended": "Your organisation's access is suspended. Contact the programme office.",
        UserStatus.PENDING.value: "Your registration is waiting for an administrator's approval. You will get "
                            "an e-mail as soon as it is approved; then log in here.",
        UserStatus.REJECTED.value: "Your registration was not approved. Contact the programme office if you "
                             "think this is a mistake.",
        UserStatus.DEACTIVATED.value: "This account is deactivated. Contact the programme office to have it "
                                "reactivated.",
    }

    def __init__(self, reason: str):
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None; records the attempt either way.

    The same None answers an unknown e-mail and a wrong password, so the login page never
    reveals which accounts exist. The right password of an inactive account raises
    AccountNotActive, which says why.
    """
    user = find_user_by_email(email)
    if user is None:
        _spend_hash_time(password)
        record_event("auth.login_failed", actor_email=normalise_email(email)[:254], details={"reason": "unknown"})
        return None
    if not check_password_hash(user.password_hash, password):
        record_event("auth.login_failed", actor=user, target=user, details={"reason": "password"})
        return None
    if not user.is_active:
        reason = user.status.value if user.status is not UserStatus.ACTIVE else "organisation_suspended"
        record_event("auth.login_failed", actor=user, target=user, details={"reason": reason})
        raise AccountNotActive(reason)
    if _needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    record_event("auth.login", actor=user, target=user)
    return user


def _needs_rehash(password_hash: str) -> bool:
    # Hashes made under an older, weaker setting are upgraded at the next successful login.
    return password_hash.split("$", 1)[0] != current_app.config["PASSWORD_HASH_METHOD"]


def end_all_sessions(user: User, *, reason: str) -> None:
    """Rotate the session token: every cookie that carried the old one stops working."""
    user.session_token = new_session_token()
    record_event(f"auth.{reason}", actor=user, target=user)


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    if not check_password_hash(user.password_hash, current_password):
        raise DomainError("Your current password is not correct.")
    check_password_strength(new_password, email=user.email)
    user.password_hash = hash_password(new_password)
    end_all_sessions(user, reason="password_changed")


# --- password reset ---------------------------------------------------------------------

def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_password_reset(email: str) -> None:
    """E-mail a single-use, expiring reset link if an active account has this address.

    Says nothing either way to the caller, so the form cannot be used to find accounts.
    """
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        record_event("auth.password_reset_requested", actor_email=normalise_email(email)[:254],
                     details={"account": "none or inactive"})
        return
    token = secrets.token_urlsafe(32)
    ttl = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
    db.session.add(PasswordResetToken(user=user, token_hash=_token_digest(token),
                                      expires_at=utcnow() + timedelta(minutes=ttl)))
    record_event("auth.password_reset_requested", actor=user, target=user)
    queue_email(recipient=user.email, recipient_user=user, kind="password_reset",
                subject=_l("Reset your Partnership Grants password"), template="password_reset",
                user=user, ttl=ttl, link=external_url("accounts.reset_password", token=token))


def find_reset_token(token: str) -> PasswordResetToken | None:
    """The unused, unexpired token row for ``token``, or None."""
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row


def reset_password(token: str, new_password: str) -> User:
    row = find_reset_token(token)
    if row is None:
        raise DomainError("This reset link has expired or was already used. Ask for a new one.")
    user = row.user
    check_password_strength(new_password, email=user.email)
    row.used_at = utcnow()
    # Any other outstanding links for the account die with this one.
    for other in db.session.scalars(select(PasswordResetToken).where(
            PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))):
        other.used_at = row.used_at
    user.password_hash = hash_password(new_password)
    end_all_sessions(user, reason="password_reset")
    return user


# --- organisation documents -------------------------------------------------------------

def add_organisation_document(organisation: Organisation, *, title: str, stream, filename: str, uploaded_by: User):
    from grants.accounts.models import OrganisationDocument

    title = title.strip()
    if not title:
        raise DomainError("Give the document a title, e.g. “IRS determination letter”.")
    stored = store_upload(stream, filename, uploaded_by=uploaded_by)
    document = OrganisationDocument(organisation=organisation, title=title[:200], stored_file=stored)
    db.session.add(document)
    db.session.flush()
    record_event("organisation.document_added", actor=uploaded_by, target=organisation,
                 details={"document_id": document.id, "title": document.title,
                          "filename": stored.original_filename, "sha256": stored.sha256})
    return document
