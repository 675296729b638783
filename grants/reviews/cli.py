"""`flask reviews remind`: queue review reminders (run it daily from cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from grants.extensions import db
from grants.reviews.services import queue_review_reminders

reviews_cli = AppGroup("reviews", help="Review panels and assignments.")


@reviews_cli.command("remind")
@click.option("--days", "due_soon_days", default=3, show_default=True, type=click.IntRange(min=0),
              help="Remind reviewers this many days before an assignment is due.")
def remind_command(due_soon_days: int) -> None:
    """Queue "due soon" and "overdue" e-mails, each at most once per assignment."""
    counts = queue_review_reminders(due_soon_days=due_soon_days)
    db.session.commit()
    click.echo(f"due soon: {counts.due_soon}, overdue: {counts.overdue}")
