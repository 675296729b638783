"""Demo data: a small programme a new user can click through (`flask demo load`)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from grants.accounts import services
from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role
from grants.accounts.models import Organisation, User
from grants.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")

DEMO_PASSWORD = "demo-password-2026"

# (organisation, kind, city, region)
ORGANISATIONS = [
    ("Community Health Trust Fund", OrganisationKind.OTHER, "Springfield", "IL"),
    ("Riverside University Medical Center", OrganisationKind.MEMBER_INSTITUTION, "Riverside", "IL"),
    ("Northgate University School of Medicine", OrganisationKind.MEMBER_INSTITUTION, "Northgate", "IL"),
    ("Eastside Community Health Alliance", OrganisationKind.COMMUNITY_NONPROFIT, "Springfield", "IL"),
    ("Lake County Health Department", OrganisationKind.PUBLIC_HEALTH_AGENCY, "Waukegan", "IL"),
    ("Families First Social Services", OrganisationKind.SOCIAL_SERVICE_AGENCY, "Riverside", "IL"),
]

# (role label for the README, e-mail, name, organisation, roles)
DEMO_USERS = [
    ("Admin", "admin@grants.example", "Alex Morgan", "Community Health Trust Fund", {Role.ADMIN}),
    ("Program officer", "officer@grants.example", "Priya Natarajan", "Community Health Trust Fund",
     {Role.PROGRAM_OFFICER}),
    ("Reviewer", "reviewer@northgate.example", "Dr. Samuel Okafor", "Northgate University School of Medicine",
     {Role.REVIEWER}),
    ("Applicant (member institution)", "applicant@riverside.example", "Dr. Maria Lopez",
     "Riverside University Medical Center", {Role.APPLICANT}),
    ("Applicant (community nonprofit)", "applicant@eastside.example", "Jordan Williams",
     "Eastside Community Health Alliance", {Role.APPLICANT}),
    ("Applicant (public-health agency)", "applicant@lakecounty.example", "Dana Kim",
     "Lake County Health Department", {Role.APPLICANT}),
]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def load_demo_data() -> None:
    """Create the demo organisations and users, one pending registration among them."""
    organisations: dict[str, Organisation] = {}
    for name, kind, city, region in ORGANISATIONS:
        organisation = services.propose_organisation(name=name, kind=kind, city=city, region=region)
        organisation.status = OrganisationStatus.APPROVED
        organisations[name] = organisation
    for _label, email, full_name, organisation, roles in DEMO_USERS:
        services.create_user(email=email, full_name=full_name, password=DEMO_PASSWORD,
                             organisation=organisations[organisation], roles=roles, created_by=None)
    # Waiting in the admin's queue: a new organisation proposed at registration.
    services.register_applicant(
        email="director@harborfoodbank.example", full_name="Chris Alvarez", password=DEMO_PASSWORD,
        new_organisation=dict(name="Harbor Food Bank", kind=OrganisationKind.COMMUNITY_NONPROFIT,
                              city="Springfield", region="IL"),
    )


def demo_logins_table() -> str:
    lines = ["| role | e-mail | password |", "|---|---|---|"]
    lines += [f"| {label} | {email} | {DEMO_PASSWORD} |" for label, email, *_ in DEMO_USERS]
    return "\n".join(lines)


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only load into a database without users.")
def load_command(if_empty: bool) -> None:
    if if_empty and not database_is_empty():
        click.echo("The database already has users; demo data not loaded.")
    else:
        load_demo_data()
        db.session.commit()
        click.echo("Demo data loaded.")
    click.echo("\nDemo logins:\n" + demo_logins_table())
