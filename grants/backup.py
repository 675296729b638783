"""`flask backup create|restore DIR`: the database and the attachment store, together.

The database is copied first, then every file its rows refer to. Files are saved to the
store before the row that refers to them commits, so each file the copied rows name is
already there when the files are copied; a file uploaded after the database was copied
is not referred to by the copy and is not needed. SQLite is copied with its online backup
API (consistent while the app runs), PostgreSQL with pg_dump's custom format.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import quote

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from grants.attachments.models import StoredFile
from grants.attachments.storage import get_storage
from grants.extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the database and the attachment store together.")

MANIFEST = "manifest.json"
SQLITE_COPY = "database.sqlite3"
POSTGRESQL_COPY = "database.pgdump"


class BackupError(click.ClickException):
    pass


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return url.database


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_database(url, target: Path) -> str:
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(target / SQLITE_COPY)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return SQLITE_COPY
    if url.get_backend_name() == "postgresql":
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={target / POSTGRESQL_COPY}",
                        f"--dbname={_libpq_url(url)}"], check=True)
        return POSTGRESQL_COPY
    raise BackupError(f"Backing up {url.get_backend_name()} is not supported.")


def create_backup(target: Path) -> dict:
    """Copy the database, then the files its rows refer to, into the empty directory ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise BackupError(f"{target} is not empty; give a new directory for each backup.")
    url = _url()
    database_file = _copy_database(url, target)
    storage = get_storage()
    files = []
    for stored in db.session.scalars(select(StoredFile).order_by(StoredFile.id)):
        path = target / "files" / stored.storage_key
        path.parent.mkdir(parents=True, exist_ok=True)
        with storage.open(stored.storage_key) as source, path.open("wb") as copy:
            shutil.copyfileobj(source, copy, 1024 * 1024)
        if _sha256(path) != stored.sha256:
            raise BackupError(f"The stored file {stored.storage_key} does not match its checksum; the backup is "
                              "incomplete.")
        files.append({"key": stored.storage_key, "sha256": stored.sha256, "content_type": stored.content_type,
                      "original_filename": stored.original_filename})
    db.session.rollback()
    manifest = {"backend": url.get_backend_name(), "database": database_file, "files": files}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def _has_data() -> bool:
    from grants.accounts.models import User

    if not inspect(db.engine).has_table(User.__tablename__):
        return False
    try:
        return bool(db.session.scalar(select(func.count()).select_from(User)))
    finally:
        db.session.rollback()


def restore_backup(source: Path, *, replace: bool = False) -> dict:
    """Put the database and the files of the backup in ``source`` back.

    Refused into a database that holds users, unless ``replace``: restoring overwrites it."""
    manifest = json.loads((source / MANIFEST).read_text())
    url = _url()
    if manifest["backend"] != url.get_backend_name():
        raise BackupError(f"This backup is of a {manifest['backend']} database; DATABASE_URL is "
                          f"{url.get_backend_name()}.")
    for entry in manifest["files"]:
        if _sha256(source / "files" / entry["key"]) != entry["sha256"]:
            raise BackupError(f"The backup's copy of {entry['key']} is damaged; nothing was restored.")
    if _has_data() and not replace:
        raise BackupError("The database already holds data; restoring would overwrite it. Use --replace to "
                          "overwrite it.")
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        copy = sqlite3.connect(source / manifest["database"])
        target = sqlite3.connect(_sqlite_path(url))
        try:
            copy.backup(target)
        finally:
            target.close()
            copy.close()
    else:
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        f"--dbname={_libpq_url(url)}", str(source / manifest["database"])], check=True)
    storage = get_storage()
    for entry in manifest["files"]:
        with (source / "files" / entry["key"]).open("rb") as stream:
            storage.save(entry["key"], stream, content_type=entry["content_type"],
                         metadata={"original-filename": quote(entry["original_filename"])})
    return manifest


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def create_command(directory: Path) -> None:
    manifest = create_backup(directory)
    click.echo(f"Backed up the {manifest['backend']} database and {len(manifest['files'])} files to {directory}.")


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a database that already holds data.")
def restore_command(directory: Path, replace: bool) -> None:
    manifest = restore_backup(directory, replace=replace)
    click.echo(f"Restored the {manifest['backend']} database and {len(manifest['files'])} files from {directory}.")
