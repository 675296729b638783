"""Fixtures: app → database (a rolled-back transaction per test) → client → login helper,
plus factories for organisations and users.

The schema is created once per run; each test runs inside an outer transaction that is
rolled back at its end, and the app's own commits become SAVEPOINT releases inside it.
Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run the
suite on PostgreSQL; SQLite in memory otherwise.
"""

from __future__ import annotations

import itertools
import os
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from grants import create_test_app
from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
from grants.accounts.models import Organisation, User, UserRole
from grants.core.types import utcnow
from grants.extensions import db
from tests import clock

PASSWORD = "correct horse battery staple"


def pytest_addoption(parser):
    parser.addoption("--clock", default=None, help="move the clock for the whole run: "
                     f"{', '.join(clock.PRESETS)} or an ISO instant with offset (see tests/clock.py); "
                     "GRANTS_TEST_CLOCK does the same")


def pytest_configure(config):
    clock.start(config)


def pytest_unconfigure(config):
    clock.stop(config)


def pytest_report_header(config):
    return clock.report_header(config)


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (and so its own `g` and DB session), as in
    production, even while the test itself holds one for arranging and asserting."""

    def open(self, *args, **kwargs):
        # Buffered: a streamed body (CSV exports) is read while the request's context lives.
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def storage_root(tmp_path_factory):
    return tmp_path_factory.mktemp("attachments")


@pytest.fixture(scope="session")
def app(storage_root):
    app = create_test_app(STORAGE_LOCAL_PATH=str(storage_root))
    app.test_client_class = FreshContextClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.drop_all()
        db.engine.dispose()


@contextmanager
def rolled_back_database():
    """Bind ``db.session`` to one connection inside a transaction that is rolled back at the
    end; the app's commits release savepoints inside it. Yields the connection, so a caller
    can nest savepoints of its own (tests/test_route_matrix.py builds its world once)."""
    connection = db.engine.connect()
    outer = connection.begin()
    original_session = db.session
    # A plain Session: Flask-SQLAlchemy's own picks the engine, not this connection.
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
    )
    try:
        yield connection
    finally:
        db.session.remove()
        db.session = original_session
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def database(app):
    """Every test's changes vanish at its end; the app's commits release savepoints."""
    with app.app_context(), rolled_back_database():
        yield db.session


@pytest.fixture
def client(app):
    return app.test_client()


_sequence = itertools.count(1)


def create_organisation(name: str | None = None, kind: OrganisationKind = OrganisationKind.MEMBER_INSTITUTION,
                        status: OrganisationStatus = OrganisationStatus.APPROVED, **fields) -> Organisation:
    organisation = Organisation(name=name or f"Organisation {next(_sequence)}", kind=kind, status=status, **fields)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def create_user(*roles: Role, email: str | None = None, organisation: Organisation | None = None,
                status: UserStatus = UserStatus.ACTIVE, full_name: str | None = None,
                password: str = PASSWORD) -> User:
    from grants.accounts.services import hash_password

    number = next(_sequence)
    user = User(
        email=email or f"user{number}@example.org",
        full_name=full_name or f"User {number}",
        password_hash=hash_password(password),
        organisation=organisation or create_organisation(),
        status=status,
        active_at=utcnow() if status is UserStatus.ACTIVE else None,
        role_rows=[UserRole(role=role) for role in (roles or (Role.APPLICANT,))],
    )
    db.session.add(user)
    db.session.flush()
    return user


# Fixtures for function-scoped tests; the plain functions serve module-scoped fixtures too.
@pytest.fixture
def make_organisation():
    return create_organisation


@pytest.fixture
def make_user():
    return create_user


@pytest.fixture
def login(client):
    """Log ``user`` in through the login form, as a person would."""

    def do_login(user: User, password: str = PASSWORD, the_client: FlaskClient | None = None):
        db.session.commit()
        response = (the_client or client).post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do_login


def fresh(obj):
    """The object as the database has it now (after requests changed it)."""
    db.session.flush()
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def outbox():
    """The e-mails queued so far, oldest first."""
    from sqlalchemy import select

    from grants.notifications.models import OutboxMessage

    def read(**filters):
        # Flush first: expiring would otherwise drop this test's own unflushed changes.
        db.session.flush()
        db.session.expire_all()
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for key, value in filters.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return db.session.scalars(query).all()

    return read


def database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "sqlite://")
