"""`flask attachments sweep`: remove stored objects that no row refers to."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from grants.attachments.services import sweep_orphans

attachments_cli = AppGroup("attachments", help="Attachment storage maintenance.")


@attachments_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="List orphaned objects without deleting them.")
def sweep_command(dry_run: bool) -> None:
    orphans = sweep_orphans(dry_run=dry_run)
    for key in orphans:
        click.echo(key)
    click.echo(f"{len(orphans)} orphaned object(s) {'found' if dry_run else 'deleted'}.")
