"""`flask create-admin`: the first admin of a fresh installation."""

from __future__ import annotations

import click
from sqlalchemy import select

from grants.accounts import services
from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role
from grants.accounts.models import Organisation
from grants.core.errors import DomainError
from grants.extensions import db


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "full_name", prompt="Full name")
@click.option("--organisation", "organisation_name", prompt="Funder organisation", default="Funder")
@click.password_option()
def create_admin_command(email: str, full_name: str, organisation_name: str, password: str) -> None:
    """Create an active admin (and the funder's organisation if it does not exist)."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == organisation_name))
    try:
        if organisation is None:
            organisation = services.propose_organisation(name=organisation_name, kind=OrganisationKind.OTHER)
            organisation.status = OrganisationStatus.APPROVED
        user = services.create_user(email=email, full_name=full_name, password=password,
                                    organisation=organisation, roles={Role.ADMIN}, created_by=None)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"Admin {user.email} created.")
