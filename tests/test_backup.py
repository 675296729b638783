"""`flask backup create` then `flask backup restore` into an empty database and an empty store
brings back every application and every one of its files, byte for byte."""

from __future__ import annotations

import hashlib
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import select

from grants import create_test_app
from grants.accounts.enums import OrganisationKind
from grants.applications import services
from grants.applications.models import Application
from grants.attachments.storage import get_storage
from grants.extensions import db
from tests.applications.fixtures import complete_application, make_applicant, make_call
from tests.concurrency import committed_app, separate_postgresql_database
from tests.conftest import database_url


@pytest.fixture
def database():
    """Overrides tests/conftest.py's rolled-back transaction: a backup reads committed data."""
    yield None


@contextmanager
def _database(tmp_path, name: str):
    """A database of its own on the suite's backend: a SQLite file, or a PostgreSQL database."""
    if database_url().startswith("postgresql"):
        with separate_postgresql_database(name, "") as uri:
            yield uri
    else:
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"


def _applications(app) -> list[tuple]:
    """Every application with its documents' names and the bytes' digests, read back from the store."""
    with app.app_context():
        storage = get_storage()
        try:
            rows = []
            for application in db.session.scalars(select(Application).order_by(Application.id)):
                files = []
                for document in sorted(application.documents, key=lambda d: d.id):
                    with storage.open(document.stored_file.storage_key) as stream:
                        digest = hashlib.sha256(stream.read()).hexdigest()
                    assert digest == document.stored_file.sha256
                    files.append((document.call_document.name, document.stored_file.original_filename, digest))
                rows.append((application.id, application.title, application.status, application.reference_number,
                             [(a.question_id, a.text) for a in application.answers], files))
            return rows
        finally:
            db.session.remove()


def test_a_restore_brings_back_every_application_and_its_files(tmp_path, make_user, make_organisation):
    with ExitStack() as stack:
        source = stack.enter_context(committed_app(stack.enter_context(_database(tmp_path, "backup")),
                                                   tmp_path / "store"))
        with source.app_context():
            call = make_call()
            partners = [make_applicant(make_user, make_organisation, kind=kind)
                        for kind in (OrganisationKind.COMMUNITY_NONPROFIT, OrganisationKind.SOCIAL_SERVICE_AGENCY)]
            for number, submit in ((1, True), (2, False)):
                owner = make_applicant(make_user, make_organisation)
                application = services.start_application(call, owner=owner, title=f"Partnership {number}")
                complete_application(application, partners)
                if submit:
                    services.submit_application(application, submitted_by=owner, expected_version=None)
            db.session.commit()
            db.session.remove()
        before = _applications(source)
        assert len(before) == 2 and all(len(files) == 3 for *_, files in before)

        backup = tmp_path / "backup"
        result = source.test_cli_runner().invoke(args=["backup", "create", str(backup)])
        assert result.exit_code == 0, result.output
        assert "6 files" in result.output

        # A new machine: an empty database and an empty store.
        target_uri = stack.enter_context(_database(tmp_path, "restore"))
        target = create_test_app(SQLALCHEMY_DATABASE_URI=target_uri, STORAGE_LOCAL_PATH=str(tmp_path / "new-store"))
        stack.callback(_dispose, target)
        result = target.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
        assert result.exit_code == 0, result.output
        assert _applications(target) == before

        # Restoring again would overwrite what is there now: refused unless asked for.
        again = target.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
        assert again.exit_code != 0 and "--replace" in again.output


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
