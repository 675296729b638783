"""The account pages as a person uses them: log in and out, sessions, throttling, resets."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
from grants.accounts.models import Organisation, User
from grants.audit.models import AuditEvent
from grants.extensions import db, limiter
from tests.conftest import PASSWORD, fresh


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_login_redirects_to_next_page_and_records_login(client, make_user):
    user = make_user(Role.ADMIN)
    db.session.commit()
    response = client.post("/login?next=/admin/users", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/admin/users"
    assert client.get("/admin/users").status_code == 200
    assert _events("auth.login")[-1].actor_id == user.id


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_login_ignores_next_pointing_elsewhere(client, make_user, next_url):
    user = make_user()
    db.session.commit()
    response = client.post("/login", query_string={"next": next_url}, data={"email": user.email, "password": PASSWORD})
    assert response.location == "/"


def test_login_failure_does_not_reveal_whether_the_email_exists(client, make_user):
    user = make_user()
    db.session.commit()
    wrong_password = client.post("/login", data={"email": user.email, "password": "not the password"})
    unknown_email = client.post("/login", data={"email": "nobody@example.org", "password": "not the password"})
    assert wrong_password.status_code == unknown_email.status_code == 401
    message = "The e-mail or password is not correct"
    assert message in wrong_password.get_data(as_text=True) and message in unknown_email.get_data(as_text=True)
    assert len(_events("auth.login_failed")) == 2
    # The e-mail typed is kept; the password never is.
    assert 'value="nobody@example.org"' in unknown_email.get_data(as_text=True)
    assert "not the password" not in unknown_email.get_data(as_text=True)


@pytest.mark.parametrize("status, message", [
    (UserStatus.PENDING, "Your registration is waiting for an administrator&#39;s approval."),
    (UserStatus.REJECTED, "Your registration was not approved."),
    (UserStatus.DEACTIVATED, "This account is deactivated."),
])
def test_inactive_user_cannot_log_in_and_is_told_why(client, make_user, status, message):
    user = make_user(status=status)
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert message in page
    # Not a mistake in the form: no field marked, no error summary, the e-mail kept.
    assert 'aria-invalid="true"' not in page and "Error:" not in page
    assert f'value="{user.email}"' in page
    assert client.get("/account").status_code == 302


def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, make_user, login):
    user = make_user()
    login(user)
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    assert thief.get("/account").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/account").status_code == 302
    assert thief.get("/account").status_code == 302
    assert _events("auth.logout")[-1].actor_id == user.id


def test_logout_requires_post(client, make_user, login):
    login(make_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, make_user, login):
    user = make_user()
    other_device = app.test_client()
    login(user)
    login(user, the_client=other_device)
    response = client.post("/account", data={"current_password": PASSWORD, "password": "a whole new passphrase",
                                             "confirm": "a whole new passphrase"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302


def test_password_change_with_wrong_current_password_changes_nothing(client, make_user, login):
    user = make_user()
    login(user)
    hash_before = user.password_hash
    response = client.post("/account", data={"current_password": "wrong wrong wrong", "password": "a whole new passphrase",
                                             "confirm": "a whole new passphrase"})
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)
    assert fresh(user).password_hash == hash_before


def test_deactivation_ends_the_users_sessions(app, client, make_user, login):
    admin = make_user(Role.ADMIN)
    user = make_user()
    user_client = app.test_client()
    login(user, the_client=user_client)
    login(admin)
    assert client.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    assert fresh(user).status is UserStatus.DEACTIVATED
    assert user_client.get("/account").status_code == 302


@pytest.fixture
def throttled_login(app):
    limiter.reset()
    original = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    yield
    app.config["LOGIN_RATE_LIMIT"] = original
    limiter.reset()


def test_login_attempts_are_throttled_with_a_clear_message(client, make_user, throttled_login):
    user = make_user()
    db.session.commit()
    for _ in range(3):
        assert client.post("/login", data={"email": user.email, "password": "guess guess"}).status_code == 401
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "60"
    assert _events("auth.throttled")
    # Even the right password is refused while throttled: nothing logged the user in.
    assert client.get("/account").status_code == 302


def test_login_throttle_answers_the_same_for_unknown_emails(client, throttled_login):
    statuses = [client.post("/login", data={"email": "ghost@example.org", "password": "x"}).status_code
                for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_register_joining_existing_organisation(client, make_organisation):
    organisation = make_organisation("Eastside Alliance")
    db.session.commit()
    response = client.post("/register", data={
        "full_name": "Jo Partner", "email": "jo@eastside.example", "password": "long enough passphrase",
        "confirm": "long enough passphrase", "organisation_choice": "existing", "organisation_id": organisation.id,
    })
    assert response.status_code == 200
    assert "Registration received" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "jo@eastside.example"))
    assert user.status is UserStatus.PENDING and user.organisation_id == organisation.id


def test_register_proposing_organisation(client):
    response = client.post("/register", data={
        "full_name": "Chris", "email": "chris@harbor.example", "password": "long enough passphrase",
        "confirm": "long enough passphrase", "organisation_choice": "new", "name": "Harbor Food Bank",
        "kind": "community_nonprofit", "country": "US",
    })
    assert response.status_code == 200
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Harbor Food Bank"))
    assert organisation.status is OrganisationStatus.PROPOSED


def test_register_with_errors_keeps_what_was_typed_and_creates_nothing(client):
    response = client.post("/register", data={
        "full_name": "Chris Typed", "email": "chris@harbor.example", "password": "long enough passphrase",
        "confirm": "different passphrase!", "organisation_choice": "new", "name": "",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The two passwords differ." in page
    assert "Give the name of the organisation you propose." in page
    assert 'value="Chris Typed"' in page and 'value="chris@harbor.example"' in page
    assert db.session.scalar(select(User).where(User.email == "chris@harbor.example")) is None


def test_forgot_password_page_answers_the_same_for_unknown_email(client, make_user):
    user = make_user()
    db.session.commit()
    known = client.post("/password/forgot", data={"email": user.email}).get_data(as_text=True)
    unknown = client.post("/password/forgot", data={"email": "ghost@example.org"}).get_data(as_text=True)
    # The CSRF token carries the second it was signed in, which two requests may straddle.
    assert _without_csrf(known.replace(user.email, "X")) == _without_csrf(unknown.replace("ghost@example.org", "X"))


def _without_csrf(page: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", page)


def test_reset_password_through_the_emailed_link(client, make_user, outbox):
    user = make_user()
    db.session.commit()
    client.post("/password/forgot", data={"email": user.email})
    link = outbox(kind="password_reset")[-1].body.split("http://127.0.0.1:5000")[1].split()[0]
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "my new passphrase", "confirm": "my new passphrase"})
    assert response.status_code == 302 and response.location == "/login"
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 401
    assert client.post("/login", data={"email": user.email, "password": "my new passphrase"}).status_code == 302
    # Single use: the same link is now dead.
    assert client.get(link).status_code == 404


def test_reset_password_with_unknown_token_shows_expired_page(client):
    response = client.get("/password/reset/not-a-token")
    assert response.status_code == 404
    assert "expired or was already used" in response.get_data(as_text=True)


def test_admin_approves_a_registration(client, make_user, make_organisation, login, outbox):
    admin = make_user(Role.ADMIN)
    pending = make_user(status=UserStatus.PENDING, organisation=make_organisation(status=OrganisationStatus.PROPOSED))
    login(admin)
    page = client.get("/admin/registrations").get_data(as_text=True)
    assert pending.email in page
    assert client.post(f"/admin/registrations/{pending.id}/approve").status_code == 302
    assert fresh(pending).status is UserStatus.ACTIVE
    assert fresh(pending).organisation.status is OrganisationStatus.APPROVED
    assert outbox(kind="registration_approved")[-1].recipient == pending.email


def test_admin_reject_without_reason_changes_nothing(client, make_user, login):
    admin = make_user(Role.ADMIN)
    pending = make_user(status=UserStatus.PENDING)
    login(admin)
    client.post(f"/admin/registrations/{pending.id}/reject", data={"reason": ""})
    assert fresh(pending).status is UserStatus.PENDING


def test_admin_creates_user_and_edits_roles(client, make_user, make_organisation, login):
    admin = make_user(Role.ADMIN)
    organisation = make_organisation("Funder")
    login(admin)
    response = client.post("/admin/users/new", data={
        "full_name": "Pat Officer", "email": "pat@funder.example", "password": "initial passphrase",
        "organisation_id": organisation.id, "roles": ["program_officer"]})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "pat@funder.example"))
    assert user.roles == {Role.PROGRAM_OFFICER} and user.is_active
    response = client.post(f"/admin/users/{user.id}", data={
        "full_name": "Pat Officer", "organisation_id": organisation.id, "roles": ["program_officer", "reviewer"]})
    assert response.status_code == 302
    assert fresh(user).roles == {Role.PROGRAM_OFFICER, Role.REVIEWER}


def test_admin_user_edit_with_no_roles_is_refused_and_keeps_roles(client, make_user, login):
    admin = make_user(Role.ADMIN)
    user = make_user(Role.REVIEWER)
    login(admin)
    response = client.post(f"/admin/users/{user.id}", data={
        "full_name": "Renamed", "organisation_id": user.organisation_id, "roles": []})
    assert response.status_code == 400
    assert "at least one role" in response.get_data(as_text=True)
    assert fresh(user).roles == {Role.REVIEWER} and fresh(user).full_name != "Renamed"


def test_admin_creates_and_edits_organisation(client, make_user, login):
    login(make_user(Role.ADMIN))
    response = client.post("/organisations/new", data={"name": "Lake County Health Department",
                                                       "kind": "public_health_agency", "country": "US"})
    assert response.status_code == 302
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Lake County Health Department"))
    assert organisation.is_approved
    response = client.post(f"/organisations/{organisation.id}/edit", data={
        "name": "Lake County Health Department", "kind": "public_health_agency", "city": "Waukegan", "country": "US"})
    assert response.status_code == 302
    assert fresh(organisation).city == "Waukegan"


def test_organisation_edit_refuses_duplicate_name(client, make_user, make_organisation, login):
    login(make_user(Role.ADMIN))
    make_organisation("Taken Name")
    organisation = make_organisation("Mine")
    response = client.post(f"/organisations/{organisation.id}/edit", data={"name": "taken name", "kind": "other",
                                                                           "country": "US"})
    assert response.status_code == 400
    assert fresh(organisation).name == "Mine"


def test_applicant_sees_own_organisation_but_not_another(client, make_user, make_organisation, login):
    user = make_user()
    other = make_organisation("Someone Else")
    login(user)
    assert client.get("/my-organisation").location == f"/organisations/{user.organisation_id}"
    assert client.get(f"/organisations/{user.organisation_id}").status_code == 200
    assert client.get(f"/organisations/{other.id}").status_code == 404
    assert _events("access.denied")[-1].details["status"] == 404


def test_admin_filters_users_by_role_status_and_search(client, make_user, login):
    login(make_user(Role.ADMIN, full_name="Ada Admin"))
    make_user(Role.REVIEWER, full_name="Rita Reviewer")
    make_user(Role.APPLICANT, full_name="Paula Pending", status=UserStatus.PENDING)
    page = client.get("/admin/users", query_string={"role": "reviewer"}).get_data(as_text=True)
    assert "Rita Reviewer" in page and "Paula Pending" not in page
    page = client.get("/admin/users", query_string={"status": "pending"}).get_data(as_text=True)
    assert "Paula Pending" in page and "Rita Reviewer" not in page
    page = client.get("/admin/users", query_string={"q": "rita", "status": "bogus"}).get_data(as_text=True)
    assert "Rita Reviewer" in page and ">Ada Admin</a>" not in page


def test_staff_filter_organisations_by_kind(client, make_user, make_organisation, login):
    login(make_user(Role.PROGRAM_OFFICER))
    make_organisation("Eastside Alliance", kind=OrganisationKind.COMMUNITY_NONPROFIT)
    make_organisation("Riverside Medical")
    page = client.get("/organisations", query_string={"kind": "community_nonprofit"}).get_data(as_text=True)
    assert "Eastside Alliance" in page and "Riverside Medical" not in page


def test_register_with_a_taken_email_says_so_on_the_first_submit_with_the_other_errors(client, make_user):
    taken = make_user(email="taken@example.org")
    db.session.commit()
    response = client.post("/register", data={
        "full_name": "", "email": "Taken@Example.org", "password": "long enough passphrase",
        "confirm": "long enough passphrase", "organisation_choice": "existing", "organisation_id": 0,
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "An account with this e-mail already exists" in page
    assert "Give your full name." in page and "Choose your organisation, or propose a new one." in page
    assert 'value="Taken@Example.org"' in page
    # The passwords are not sent back, and the page says which fields to type again.
    assert "long enough passphrase" not in page and "type yours again in both password fields" in page
    assert db.session.scalar(select(func.count()).select_from(User)) == 1 and fresh(taken).full_name


def test_register_with_a_weak_password_says_so_on_the_first_submit(client):
    response = client.post("/register", data={
        "full_name": "Chris", "email": "chrislong@harbor.example", "password": "chrislong 12345",
        "confirm": "chrislong 12345", "organisation_choice": "new", "name": "",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "does not contain your e-mail address" in page and "Give the name of the organisation" in page


def test_register_with_different_passwords_says_to_type_both_again(client, make_organisation):
    organisation = make_organisation("Eastside Alliance")
    db.session.commit()
    response = client.post("/register", data={
        "full_name": "Jo", "email": "jo@eastside.example", "password": "long enough passphrase",
        "confirm": "long enough passphrase!", "organisation_choice": "existing", "organisation_id": organisation.id,
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The two passwords differ. Type your password again in both password fields." in page
    assert 'id="confirm-error"' in page and f'<option selected value="{organisation.id}">' in page
    assert db.session.scalar(select(User).where(User.email == "jo@eastside.example")) is None


def test_register_does_not_offer_the_funders_own_organisation(client, make_user, make_organisation):
    funder = make_organisation("Funder Foundation", kind=OrganisationKind.OTHER)
    make_user(Role.PROGRAM_OFFICER, organisation=funder)
    partner = make_organisation("Eastside Alliance")
    db.session.commit()
    page = client.get("/register").get_data(as_text=True)
    assert "Eastside Alliance" in page and "Funder Foundation" not in page
    # Nor can it be joined by posting its id.
    response = client.post("/register", data={
        "full_name": "Jo", "email": "jo@funder.example", "password": "long enough passphrase",
        "confirm": "long enough passphrase", "organisation_choice": "existing", "organisation_id": funder.id,
    })
    assert response.status_code == 400 and "not open for new members" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "jo@funder.example")) is None
    assert partner.id


def test_registrations_page_shows_the_persons_status_apart_from_the_organisations(client, make_user,
                                                                                  make_organisation, login):
    admin = make_user(Role.ADMIN)
    joining = make_user(status=UserStatus.PENDING, full_name="Jo Joiner",
                        organisation=make_organisation("Eastside Alliance"))
    login(admin)
    page = client.get("/admin/registrations").get_data(as_text=True)
    card = page[page.index("Jo Joiner"):]
    # The person is pending; the green "Approved" belongs to their organisation, and says so.
    assert re.search(r'Account:\s*<span class="badge text-bg-warning">Pending</span>', card)
    assert re.search(r'organisation status:\s*<span class="badge text-bg-success">Approved</span>', card)
    assert "already registered; the person joins it" in card
    assert fresh(joining).status is UserStatus.PENDING
