"""Account journeys as a person makes them in the browser: register and be approved, reset a
forgotten password, manage users and organisations, and find it all in the audit log.

The tests share one live server and its demo data; each one uses its own people (or only
reads), so they do not depend on their order.
"""

from __future__ import annotations

import re

from grants.core.forms import CSRF_MESSAGE
from grants.demo import DEMO_PASSWORD
from tests.browser.helpers import (  # skips this module where playwright is missing
    ADMIN,
    OFFICER,
    Page,
    assert_accessible,
    assert_skip_link_moves_focus_to_main,
    expect,
    expect_field_error,
    fill_login_form,
    log_in,
    log_out,
    main_nav,
    nav_labels,
)

WRONG_PASSWORD_MESSAGE = "The e-mail or password is not correct."


def _fill_registration(page: Page, *, name: str, email: str, password: str, organisation: str) -> None:
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Work e-mail").fill(email)
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Repeat the new password").fill(password)
    page.get_by_label("Propose a new organisation").check()
    page.get_by_label("Organisation name").fill(organisation)
    page.get_by_label("Kind of organisation").select_option(label="Community nonprofit")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("State or region").fill("IL")


def test_register_with_a_new_organisation_be_approved_log_in_and_out(page: Page, live_server, shot):
    password = "a brand new passphrase 2026"

    page.goto("/")
    shot("home-anonymous")
    page.get_by_role("main").get_by_role("link", name="Register your organisation's staff").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register as an applicant")
    _fill_registration(page, name="Grace Ohana", email="Grace.Ohana@westsidepantry.example",
                       password=password, organisation="Westside Community Pantry")
    shot("register-filled")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration received")
    expect(page.get_by_role("main")).to_contain_text("grace.ohana@westsidepantry.example")
    shot("registration-received")

    # Not approved yet: with the right password, the login page says so plainly, no field marked.
    fill_login_form(page, "grace.ohana@westsidepantry.example", password)
    expect(page.get_by_role("status").filter(has_text="Your registration is waiting for an administrator's approval")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    shot("login-refused-pending")

    # The admin was told, and approves the person and the proposed organisation at once.
    pending_mail = live_server.last_mail(recipient=ADMIN, kind="registration_pending")
    assert "Grace Ohana" in pending_mail.body and "newly proposed organisation" in pending_mail.body
    log_in(page, ADMIN)
    main_nav(page).get_by_role("link", name="Registrations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrations to approve")
    registration = page.get_by_role("region", name=re.compile("Grace Ohana"))
    expect(registration).to_contain_text("Westside Community Pantry")
    expect(registration).to_contain_text("approving the person approves this new organisation too")
    shot("registrations-queue")
    registration.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Grace Ohana (Westside Community Pantry) is approved and was e-mailed.")
    expect(page.get_by_role("region", name=re.compile("Grace Ohana"))).to_have_count(0)
    shot("registration-approved")
    # Both steps are in the audit log: her registration, and who approved it.
    main_nav(page).get_by_role("link", name="Audit log").click()
    page.get_by_label("Actor e-mail").fill("grace.ohana@westsidepantry.example")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table").get_by_role("cell", name="user.registered", exact=True)).to_have_count(1)
    page.get_by_label("Actor e-mail").fill(ADMIN)
    page.get_by_label("Action starts with").fill("user.approved")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("table").get_by_role("cell", name="user.approved", exact=True).first).to_be_visible()
    log_out(page)

    approved_mail = live_server.last_mail(recipient="grace.ohana@westsidepantry.example",
                                          kind="registration_approved")
    page.goto(approved_mail.link("/login"))
    log_in(page, "grace.ohana@westsidepantry.example", password)
    expect(page.get_by_role("main")).to_contain_text("Welcome, Grace Ohana — Westside Community Pantry.")
    expect(page.get_by_role("banner")).to_contain_text("Grace Ohana")
    shot("home-new-applicant")
    main_nav(page).get_by_role("link", name="My organisation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Westside Community Pantry")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
    shot("my-organisation")
    log_out(page)
    expect(page.get_by_role("banner")).not_to_contain_text("Grace Ohana")
    shot("logged-out")


def test_forgotten_password_is_reset_through_the_emailed_link_once(page: Page, live_server, shot):
    # A user of this test alone: the demo users keep their password for the other tests.
    email = "robin.diaz@lakecounty.example"
    live_server.add_user(email=email, full_name="Robin Diaz", organisation="Lake County Health Department",
                         password=DEMO_PASSWORD)
    new_password = "lake county spring mornings"

    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    page.get_by_label("E-mail").fill(email)
    shot("forgot-password")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    shot("reset-sent")

    link = live_server.last_mail(recipient=email, kind="password_reset").link("/password/reset/")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    # Too short first: the rule is explained on the field.
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Repeat the new password").fill("short")
    page.get_by_role("button", name="Save the new password").click()
    expect_field_error(page, "New password", "Choose a password of 12 to 200 characters.")
    shot("reset-too-short")
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("Repeat the new password").fill(new_password)
    page.get_by_role("button", name="Save the new password").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("Your password is changed. Log in with the new one.")
    shot("reset-done-login")

    log_in(page, email, new_password)
    expect(page.get_by_role("main")).to_contain_text("Welcome, Robin Diaz")
    log_out(page)

    fill_login_form(page, email, DEMO_PASSWORD)
    expect_field_error(page, "Password", WRONG_PASSWORD_MESSAGE)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired or was already used")
    shot("reset-link-used")
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")


def test_admin_manages_organisations_users_and_roles_and_finds_it_in_the_audit_log(page: Page, shot):
    log_in(page, ADMIN)
    expect(page.get_by_role("main")).to_contain_text("Welcome, Alex Morgan — Community Health Trust Fund.")
    shot("home-admin")

    # A new organisation.
    main_nav(page).get_by_role("link", name="Organisations").click()
    shot("organisations")
    page.get_by_role("link", name="Add an organisation").click()
    page.get_by_label("Organisation name").fill("Southside Faith Health Network")
    page.get_by_label("Kind of organisation").select_option(label="Community nonprofit")
    page.get_by_label("City").fill("Chicago")
    page.get_by_label("State or region").fill("IL")
    page.get_by_label("EIN (US tax ID)").fill("36-1234567")
    shot("organisation-new")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Southside Faith Health Network is registered.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Southside Faith Health Network")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Approved")
    shot("organisation-page")

    # A user in it, with two roles.
    main_nav(page).get_by_role("link", name="Users").click()
    shot("users")
    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("Full name").fill("Reverend Ada Brooks")
    page.get_by_label("E-mail").fill("ada.brooks@southside.example")
    page.get_by_label("Organisation", exact=True).select_option(label="Southside Faith Health Network")
    page.get_by_label("Applicant").check()
    page.get_by_label("Reviewer").check()
    page.get_by_label("Initial password").fill("a temporary passphrase")
    shot("user-new")
    page.get_by_role("button", name="Add the user").click()
    expect(page.get_by_role("status")).to_contain_text("Reverend Ada Brooks can now log in.")
    expect(page.get_by_label("Applicant")).to_be_checked()
    expect(page.get_by_label("Reviewer")).to_be_checked()
    shot("user-detail")

    # Change the roles.
    page.get_by_label("Reviewer").uncheck()
    page.get_by_label("Program officer").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.get_by_label("Program officer")).to_be_checked()
    expect(page.get_by_label("Reviewer")).not_to_be_checked()

    # Deactivate.
    page.get_by_role("button", name="Deactivate and log out everywhere").click()
    expect(page.get_by_role("status")).to_contain_text("Reverend Ada Brooks is deactivated and logged out everywhere.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deactivated")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    shot("user-deactivated")

    # The user list finds her by organisation and status.
    main_nav(page).get_by_role("link", name="Users").click()
    page.get_by_label("Name, e-mail or organisation").fill("southside")
    page.get_by_label("Status").select_option(label="Deactivated")
    page.get_by_role("button", name="Filter").click()
    users_table = page.get_by_role("table")
    expect(users_table.get_by_role("row")).to_have_count(2)  # header + Ada
    expect(users_table).to_contain_text("Reverend Ada Brooks")
    expect(users_table).to_contain_text("Applicant, Program officer")

    # The user's history, from her page, holds every change.
    users_table.get_by_role("link", name="Reverend Ada Brooks").click()
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    log_table = page.get_by_role("table")
    for action in ("user.created", "user.roles_changed", "user.deactivated"):
        expect(log_table.get_by_role("cell", name=action, exact=True)).to_have_count(1)
    expect(log_table).to_contain_text("applicant, reviewer → applicant, program_officer")
    shot("audit-user-history")

    # Filtering the whole log as a person would.
    main_nav(page).get_by_role("link", name="Audit log").click()
    expect(page).to_have_url(re.compile(r"/audit/$"))
    page.get_by_label("Action starts with").fill("organisation.")
    page.get_by_label("Object type").select_option("Organisation")
    page.get_by_role("button", name="Filter").click()
    expect(log_table.get_by_role("cell", name="organisation.proposed", exact=True).first).to_be_visible()
    expect(log_table.get_by_role("cell", name="organisation.approved", exact=True).first).to_be_visible()
    expect(log_table).to_contain_text("Southside Faith Health Network")

    page.get_by_label("Action starts with").fill("auth.login")
    page.get_by_label("Object type").select_option("")
    page.get_by_label("Actor e-mail").fill(ADMIN)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"action=auth\.login"))
    expect(log_table.get_by_role("cell", name="auth.login", exact=True).first).to_be_visible()
    expect(log_table.get_by_role("cell", name=ADMIN).first).to_be_visible()
    actions = {text.strip() for text in log_table.locator("tbody td:nth-child(3)").all_inner_texts()}
    assert actions <= {"auth.login", "auth.login_failed"}, actions
    shot("audit-filtered")

    # A deactivated account cannot log in.
    log_out(page)
    fill_login_form(page, "ada.brooks@southside.example", "a temporary passphrase")
    expect(page.get_by_role("status").filter(has_text="This account is deactivated.")).to_be_visible()


def test_navigation_follows_the_role_and_errors_are_friendly(page: Page, live_server, shot):
    # Anonymous: an admin page sends to the login page, and back after logging in.
    response = page.goto("/admin/users")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fadmin%2Fusers"))
    expect(page.get_by_role("status")).to_contain_text("Log in to see this page.")
    assert nav_labels(page) == ["Home", "Funding calls"]
    shot("anonymous-sent-to-login")

    # A missing page.
    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    shot("not-found")

    # An applicant sees only their own sections and is refused admin pages kindly.
    log_in(page, "applicant@riverside.example")
    # Riverside holds a demo award (on the 2026 call), so "My awards" is there too.
    assert nav_labels(page) == ["Home", "Funding calls", "My applications", "My awards", "My organisation"]
    shot("home-applicant")
    response = page.goto("/admin/users")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have access to this page")
    expect(page.get_by_role("main")).not_to_contain_text("admin@grants.example")
    shot("forbidden")
    page.get_by_role("link", name="Go to the home page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partnership Grants")
    log_out(page)

    # A program officer sees organisations and the audit log, not user management.
    log_in(page, OFFICER)
    assert nav_labels(page) == ["Home", "Funding calls", "My organisation", "Manage calls", "Portfolio",
                               "Organisations", "Audit log"]
    log_out(page)

    # The admin sees everything, and a login from a protected page returns there.
    page.goto("/admin/users")
    log_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    assert nav_labels(page) == ["Home", "Funding calls", "My organisation", "Manage calls", "Portfolio",
                               "Organisations", "Users", "Registrations", "Audit log"]
    expect(main_nav(page).get_by_role("link", name="Users")).to_have_attribute("aria-current", "page")


def test_a_rejected_csrf_token_keeps_what_the_user_typed(page: Page, shot):
    password = "pantry volunteers rock 2026"
    page.goto("/register")
    _fill_registration(page, name="Tomás Reyes", email="tomas@northshorepantry.example", password=password,
                       organisation="North Shore Pantry")
    # The session (and the CSRF token tied to it) is gone, as after a long lunch break.
    page.context.clear_cookies()
    page.get_by_role("button", name="Register").click()

    expect(page.get_by_role("alert")).to_contain_text(CSRF_MESSAGE)
    expect(page.get_by_label("Full name")).to_have_value("Tomás Reyes")
    expect(page.get_by_label("Work e-mail")).to_have_value("tomas@northshorepantry.example")
    expect(page.get_by_label("Propose a new organisation")).to_be_checked()
    expect(page.get_by_label("Organisation name")).to_have_value("North Shore Pantry")
    expect(page.get_by_label("City")).to_have_value("Springfield")
    # Passwords are never sent back to the browser; they are asked for again.
    expect(page.get_by_label("New password", exact=True)).to_have_value("")
    shot("csrf-rejected-form-kept")

    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Repeat the new password").fill(password)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration received")


def test_main_pages_meet_the_accessibility_basics(page: Page, live_server, shot):
    anonymous_pages = ["/", "/login", "/register", "/password/forgot", "/no-such-page"]
    for path in anonymous_pages:
        page.goto(path)
        assert_accessible(page)
    assert_skip_link_moves_focus_to_main(page)

    # Error messages on a form are tied to their fields and still pass.
    page.goto("/register")
    page.get_by_role("button", name="Register").click()
    expect_field_error(page, "Full name", "Give your full name.")
    # The summary names each problem and links to its field.
    page.get_by_role("alert").get_by_role("link", name="Work e-mail").click()
    expect(page.get_by_label("Work e-mail")).to_be_focused()
    assert_accessible(page)
    shot("register-errors")

    log_in(page, ADMIN)
    admin_pages = ["/", "/admin/users", "/admin/users/new", "/admin/registrations", "/organisations",
                   "/organisations/new", "/audit/", "/account", "/my-organisation"]
    for path in admin_pages:
        page.goto(path)
        assert_accessible(page)
    page.goto("/organisations")
    page.get_by_role("link", name="Riverside University Medical Center").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Riverside University Medical Center")
    assert_accessible(page)
    page.goto("/admin/users")
    page.get_by_role("link", name="Priya Natarajan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Priya Natarajan")
    assert_accessible(page)
    assert_skip_link_moves_focus_to_main(page)
    shot("user-detail-officer")
