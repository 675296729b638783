"""The first admin of an installation, and the demo data."""

from __future__ import annotations

from sqlalchemy import func, select

from grants.accounts.enums import Role, UserStatus
from grants.accounts.models import User
from grants.demo import DEMO_USERS
from grants.extensions import db


def test_create_admin_makes_an_active_admin_and_the_funder(app):
    result = app.test_cli_runner().invoke(args=[
        "create-admin", "--email", "root@funder.example", "--name", "Root Admin",
        "--organisation", "Health Trust", "--password", "a long admin passphrase"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    admin = db.session.scalar(select(User).where(User.email == "root@funder.example"))
    assert admin.roles == {Role.ADMIN} and admin.status is UserStatus.ACTIVE
    assert admin.organisation.name == "Health Trust" and admin.organisation.is_approved


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(args=[
        "create-admin", "--email", "root@funder.example", "--name", "Root", "--organisation", "Funder",
        "--password", "short"])
    assert result.exit_code != 0
    assert "at least 12" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "root@funder.example")) is None


def test_demo_load_if_empty_loads_once_and_lists_logins(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "Demo data loaded." in first.output
    for _label, email, *_ in DEMO_USERS:
        assert email in first.output
    db.session.expire_all()
    count = db.session.scalar(select(func.count()).select_from(User))
    second = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "not loaded" in second.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == count


def test_demo_logins_have_applicants_of_two_organisations():
    applicant_orgs = {org for _label, _email, _name, org, roles in DEMO_USERS if Role.APPLICANT in roles}
    assert len(applicant_orgs) >= 2
    assert {role for *_, roles in DEMO_USERS for role in roles} == set(Role)
