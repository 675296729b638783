"""Helpers for tests that race real threads (or processes) against a database whose data is
really committed: not the suite's rolled-back transaction, which one connection holds.

A test module using them overrides the autouse ``database`` fixture with one that yields
None, so the factories (make_user, ...) write through the separate app's own session.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from grants import create_test_app
from grants.core.errors import DomainError
from grants.extensions import db
from tests.conftest import database_url


def postgresql_url_or_skip(why: str):
    url = make_url(database_url())
    if url.get_backend_name() != "postgresql":
        pytest.skip(f"{why} (set TEST_DATABASE_URL to a PostgreSQL database)")
    return url


@contextmanager
def separate_postgresql_database(suffix: str, why: str) -> Iterator[str]:
    """A PostgreSQL database of its own beside the suite's (``<name>_<suffix>``), dropped afterwards."""
    url = postgresql_url_or_skip(why)
    name = f"{url.database}_{suffix}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def committed_app(database_uri: str, storage: Path, **overrides) -> Iterator[object]:
    """An app on ``database_uri`` with the schema built; its engine is disposed afterwards."""
    app = create_test_app(SQLALCHEMY_DATABASE_URI=database_uri, STORAGE_LOCAL_PATH=str(storage), **overrides)
    try:
        with app.app_context():
            db.create_all()
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def form_version(page: str) -> str:
    """The application version a page's form was built from (its hidden ``version`` field)."""
    return re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page).group(1)


def run_in_threads(app, target: Callable, arguments: list[tuple], *, timeout: float = 120) -> list[BaseException]:
    """Run ``target(*args)`` once per item of ``arguments``, all at once, each in its own
    thread and app context (so its own session and connection). Returns what they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(arguments), timeout=30)

    def run(*args) -> None:
        try:
            with app.app_context():
                try:
                    start.wait()
                    target(*args)
                finally:
                    db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished (deadlock?)"
    return errors


def act_after_all_read(app, read, act, arguments: list[tuple]) -> list[str]:
    """Run ``act`` once per item of ``arguments``, each in its own thread, app context,
    session and connection. Each first runs ``read`` (its view of the data before acting),
    then waits at a barrier until every other has read too, then acts and commits.
    Returns "done" or the refusal's message, per thread, in the order they finished."""
    barrier = threading.Barrier(len(arguments), timeout=30)
    outcomes: list[str] = []

    def run(*args) -> None:
        loaded = read(*args)
        barrier.wait()
        try:
            act(*loaded)
            db.session.commit()
            outcomes.append("done")
        except DomainError as exc:
            db.session.rollback()
            outcomes.append(exc.message)

    assert run_in_threads(app, run, arguments) == []
    return outcomes
