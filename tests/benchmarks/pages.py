"""Throughput of the officers' heaviest list pages against a bare endpoint, in one run.

    .venv/bin/python tests/benchmarks/pages.py [--applications 50] [--requests 100]

Builds a SQLite database in a temporary directory with one call, N applications in review
(each with a partner and a budget line) and three submitted reviews each, logs an officer
in, then times the same number of requests to each page in the same process, one after the
other. Figures are reported as requests per second and as a ratio to /healthz (a bare
endpoint with one query), with the SQL statements each page ran — on these noisy machines the
ratios and query counts are what to compare between runs, not the absolute rates.
Not collected by pytest (the name does not start with test_).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import event  # noqa: E402

from config.settings import TestConfig  # noqa: E402
from grants import create_app  # noqa: E402
from grants.extensions import db  # noqa: E402


def seed(count: int) -> int:
    from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
    from grants.accounts.models import Organisation, User, UserRole
    from grants.accounts.services import hash_password
    from grants.applications.models import Partner
    from grants.core.types import utcnow
    from tests.applications.fixtures import make_call
    from tests.reviews.scoring_factories import light_application, submitted_review

    def organisation(name, kind):
        org = Organisation(name=name, kind=kind, status=OrganisationStatus.APPROVED)
        db.session.add(org)
        return org

    def user(email, org, role):
        person = User(email=email, full_name=email.split("@")[0], password_hash=hash_password("benchmark password"),
                      organisation=org, status=UserStatus.ACTIVE, active_at=utcnow(), role_rows=[UserRole(role=role)])
        db.session.add(person)
        return person

    funder = organisation("Funder", OrganisationKind.OTHER)
    user("officer@bench.example", funder, Role.PROGRAM_OFFICER)
    reviewers = [user(f"reviewer{i}@bench.example", organisation(f"Reviewer org {i}", OrganisationKind.OTHER),
                      Role.REVIEWER) for i in range(3)]
    call = make_call(total_cents=count * 10_000_000 // 2)
    partner_org = organisation("Community partner", OrganisationKind.COMMUNITY_NONPROFIT)
    for number in range(count):
        lead = user(f"lead{number}@bench.example", organisation(f"Lead {number}", OrganisationKind.MEMBER_INSTITUTION),
                    Role.APPLICANT)
        db.session.flush()
        application = light_application(call, lead, title=f"Benchmark application {number}")
        application.partners.append(Partner(organisation=partner_org, contact_name="Contact",
                                            contact_email=f"contact{number}@bench.example"))
        for offset, reviewer in enumerate(reviewers):
            submitted_review(application, reviewer, [40, 50, 60, 70, 80, 90][(number + offset) % 6])
    db.session.commit()
    return call.id


def measure(client, path: str, requests: int, engine) -> tuple[float, int]:
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    client.get(path)  # warm caches and templates
    event.listen(engine, "before_cursor_execute", listener)
    response = client.get(path)
    event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200, (path, response.status_code)
    started = time.perf_counter()
    for _ in range(requests):
        client.get(path).close()
    return requests / (time.perf_counter() - started), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.sqlite3",
                         STORAGE_LOCAL_PATH=f"{tmp}/files")
        with app.app_context():
            db.create_all()
            call_id = seed(args.applications)
            engine = db.engine
        client = app.test_client()
        client.post("/login", data={"email": "officer@bench.example", "password": "benchmark password"})
        pages = [("/healthz", "bare endpoint (1 query)"), ("/calls", "public list of calls"),
                 (f"/manage/calls/{call_id}/applications", f"intake list, {args.applications} applications"),
                 (f"/manage/calls/{call_id}/applications.csv", "intake CSV"),
                 (f"/manage/calls/{call_id}/ranking", f"ranking, {args.applications * 3} reviews"),
                 (f"/manage/calls/{call_id}/ranking.csv", "ranking CSV, one row per review and criterion")]
        results = []
        for path, label in pages:
            with app.app_context():
                rate, queries = measure(client, path, args.requests, db.engine)
            results.append((label, rate, queries))
        baseline = results[0][1]
        print(f"{'page':48} {'req/s':>8} {'× bare':>8} {'queries':>8}")
        for label, rate, queries in results:
            print(f"{label:48} {rate:8.1f} {rate / baseline:8.3f} {queries:8d}")


if __name__ == "__main__":
    main()
