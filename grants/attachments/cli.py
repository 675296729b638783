"""`flask attachments sweep`: remove stored objects that no row refers to, and uploads
that never completed."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from grants.attachments.services import sweep_orphans, sweep_unfinished_uploads

attachments_cli = AppGroup("attachments", help="Attachment storage maintenance.")


@attachments_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="List orphaned objects without deleting them.")
def sweep_command(dry_run: bool) -> None:
    orphans = sweep_orphans(dry_run=dry_run)
    for key in orphans:
        click.echo(key)
    click.echo(f"{len(orphans)} orphaned object(s) {'found' if dry_run else 'deleted'}.")
    unfinished = sweep_unfinished_uploads(dry_run=dry_run)
    for key in unfinished:
        click.echo(f"{key} (unfinished upload)")
    click.echo(f"{len(unfinished)} unfinished upload(s) {'found' if dry_run else 'discarded'}.")
