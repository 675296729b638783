"""`flask bench seed`: benchmark data at a chosen scale (grants.bench.seed)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.bench.seed import PASSWORD, Scale, seed_portfolio
from grants.extensions import db

bench_cli = AppGroup("bench", help="Benchmark data.")


@bench_cli.command("seed")
@click.option("--applications", default=Scale.applications, show_default=True)
@click.option("--calls", default=Scale.calls, show_default=True)
@click.option("--reviews", default=Scale.reviews, show_default=True, help="Submitted reviews in all.")
@click.option("--awards", default=Scale.awards, show_default=True)
@click.option("--reviewers", default=Scale.reviewers, show_default=True)
@click.option("--rush-drafts", default=Scale.rush_drafts, show_default=True,
              help="Drafts on the open call, ready to submit.")
def seed_command(applications, calls, reviews, awards, reviewers, rush_drafts) -> None:
    """Fill an empty database (after `flask db upgrade`) with a portfolio at this scale."""
    if db.session.scalar(select(func.count()).select_from(User)):
        raise click.ClickException("The database already has users: seed an empty one.")
    started = time.perf_counter()
    seeded = seed_portfolio(Scale(applications=applications, calls=calls, reviews=reviews, awards=awards,
                                  reviewers=reviewers, rush_drafts=rush_drafts))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Fresh statistics, or the planner guesses row counts from an empty table.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    click.echo(f"Seeded in {time.perf_counter() - started:.0f} s: "
               + ", ".join(f"{count} {table}" for table, count in seeded.counts.items()))
    click.echo(f"Log in as {seeded.officer_email}, reviewer0000@bench.example or applicant00000@bench.example "
               f"(password {PASSWORD}); the open call is {seeded.open_call_id}.")
