"""`flask awards remind`: queue milestone report reminders (run it daily from cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from grants.reports.services import queue_milestone_reminders
from grants.extensions import db

awards_cli = AppGroup("awards", help="Awards, milestones and payments.")


@awards_cli.command("remind")
@click.option("--days", "due_soon_days", default=14, show_default=True, type=click.IntRange(min=0),
              help="Remind grantees this many days before a milestone report is due.")
def remind_command(due_soon_days: int) -> None:
    """Queue "due soon" and "overdue" e-mails, each at most once per milestone."""
    counts = queue_milestone_reminders(due_soon_days=due_soon_days)
    db.session.commit()
    click.echo(f"due soon: {counts.due_soon}, overdue: {counts.overdue}")
