"""`flask notifications send`: deliver the outbox (run it from cron or a loop)."""

from __future__ import annotations

import logging
import time

import click
from flask.cli import AppGroup

from grants.extensions import db
from grants.notifications.services import deliver_due_messages

notifications_cli = AppGroup("notifications", help="Deliver queued e-mails.")
log = logging.getLogger("grants.mail")


@notifications_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending every --interval seconds.")
@click.option("--interval", default=30.0, show_default=True)
def send_command(loop: bool, interval: float) -> None:
    while True:
        try:
            outcome = deliver_due_messages()
        except Exception:
            if not loop:
                raise
            # The database restarting or briefly unreachable must not end the loop: what was
            # claimed is retried once its lease runs out.
            log.exception("sending the outbox failed; trying again in %s s", interval)
            db.session.rollback()
        else:
            if not loop or any(outcome.values()):
                click.echo(", ".join(f"{key}: {value}" for key, value in outcome.items()))
        if not loop:
            return
        db.session.remove()
        time.sleep(interval)
