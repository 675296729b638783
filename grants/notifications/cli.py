"""`flask notifications send`: deliver the outbox (run it from cron or a loop)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from grants.notifications.services import deliver_due_messages

notifications_cli = AppGroup("notifications", help="Deliver queued e-mails.")


@notifications_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending every --interval seconds.")
@click.option("--interval", default=30, show_default=True)
def send_command(loop: bool, interval: int) -> None:
    while True:
        outcome = deliver_due_messages()
        click.echo(", ".join(f"{key}: {value}" for key, value in outcome.items()))
        if not loop:
            return
        time.sleep(interval)
