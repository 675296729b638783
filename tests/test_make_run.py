"""`make run` on a fresh instance delivers e-mail by itself: its outbox sender writes each
e-mail to the terminal with links a new user can click, on the port the app runs on, and
stops with the dev server."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def database():
    """`make run` uses its own SQLite file; the suite's transaction is not involved."""
    yield None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(predicate, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"`make run` never {what} within {timeout:.0f} s")


def test_make_run_writes_demo_e_mails_with_links_to_its_own_port_and_stops_cleanly(tmp_path):
    if shutil.which("make") is None or not (ROOT / ".venv" / "bin" / "flask").exists():
        pytest.skip("needs `make` and the project's .venv (make install)")
    port = _free_port()
    output = tmp_path / "make-run.log"
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"DATABASE_URL", "BASE_URL", "STORAGE_LOCAL_PATH", "MAIL_SERVER"}}
    environment["GRANTS_INSTANCE_DIR"] = str(tmp_path / "instance")
    with output.open("w") as log:
        process = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=ROOT, env=environment, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    origin = f"http://127.0.0.1:{port}"
    try:
        def links_in_e_mails():
            text = output.read_text()
            assert process.poll() is None, f"`make run` stopped:\n{text}"
            mails = re.findall(r"INFO:grants\.mail:e-mail to .*?(?=\nINFO:|\Z)", text, re.S)
            return [link for mail in mails for link in re.findall(r"https?://\S+", mail)]

        links = _wait_for(links_in_e_mails, "wrote an e-mail with a link")
        assert all(link.startswith(origin + "/") for link in links), links
        # A new user clicks it: the app on that port answers (the login page for a private one).
        link = next(link for link in links if "/applications/" in link)
        page = _wait_for(lambda: _open(link), "served the link of an e-mail")
        assert "Log in" in page
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        process.wait(timeout=60)
    # The sender stopped with the dev server: nothing of `make run` is left running.
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)


def _open(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None
