"""The deadline rush: hundreds of applicants save, upload and submit in the last minutes while
officers browse; then the database is checked for every answer and submission.

Run by benchmarks/run.py against its gunicorn. The open call's deadline is moved (in the
database, as the harness) to a moment shortly after every applicant has logged in; each
applicant then saves their answers (with a text unique to them), uploads a small PDF and
submits. A few hold back until after the deadline and must be refused with a clear message,
storing nothing. Officers load the intake list and ranking in a loop meanwhile.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests

DEMO_PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> "
            b"endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")
LATE = 20  # applicants who try after the deadline
OFFICER_THINK_SECONDS = 2.0


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    return match.group(1) if match else ""


def _drafts(env: dict):
    """The open call and its drafts with their owners and questions, read from the database."""
    import os

    os.environ.update({key: env[key] for key in ("DATABASE_URL", "GRANTS_INSTANCE_DIR", "STORAGE_LOCAL_PATH")})
    from sqlalchemy import select

    from grants import create_app
    from grants.applications.enums import ApplicationStatus
    from grants.applications.models import Application
    from grants.calls.models import Call
    from grants.core.types import utcnow
    from grants.extensions import db

    app = create_app()
    with app.app_context():
        call = db.session.scalars(select(Call).where(Call.closes_at > utcnow()).order_by(Call.id.desc())).first()
        drafts = db.session.scalars(select(Application).where(Application.call_id == call.id,
                                                              Application.status == ApplicationStatus.DRAFT)
                                    .order_by(Application.id)).all()
        rows = [(a.id, a.owner.email) for a in drafts]
        questions = [q.id for q in call.questions]
        document_id = call.documents[0].id
        return app, call.id, rows, questions, document_id


def _set_deadline(app, call_id: int, seconds_from_now: float):
    from grants.calls.models import Call
    from grants.core.types import utcnow
    from grants.extensions import db

    with app.app_context():
        call = db.session.get(Call, call_id)
        call.closes_at = utcnow() + timedelta(seconds=seconds_from_now)
        db.session.commit()
        return call.closes_at


def run_rush(base: str, env: dict, *, window_seconds: float = 150.0, arrivals_seconds: float = 90.0,
             officers: int = 4) -> dict:
    """Every applicant logs in first (all sessions open at once); they start work at moments
    spread over the first ``arrivals_seconds`` of the last ``window_seconds`` before the
    deadline, as a rush does, rather than all in one instant."""
    from benchmarks.run import PASSWORD, log_in

    app, call_id, drafts, questions, document_id = _drafts(env)
    on_time, late = drafts[:-LATE], drafts[-LATE:]
    errors: list[str] = []
    server_errors = 0
    lock = threading.Lock()

    def login(email):
        session = log_in(base, email)
        return session

    with ThreadPoolExecutor(max_workers=32) as pool:
        sessions = list(pool.map(login, [email for _, email in drafts]))
    deadline = _set_deadline(app, call_id, window_seconds)
    submit_seconds: list[float] = []
    save_seconds: list[float] = []
    expected: dict[int, str] = {}

    def count_error(response):
        nonlocal server_errors
        if response.status_code >= 500:
            with lock:
                server_errors += 1

    def apply(index: int):
        application_id, email = drafts[index]
        session = sessions[index]
        time.sleep(max(0.0, rush_started + arrivals[index] - time.perf_counter()))
        try:
            page = session.get(f"{base}/applications/{application_id}/answers")
            count_error(page)
            version = re.search(r'name="version"[^>]*value="(\d+)"', page.text)
            texts = {f"answer_{q}": f"Rush answer {application_id}-{q}: we will listen first." for q in questions}
            started = time.perf_counter()
            saved = session.post(f"{base}/applications/{application_id}/answers",
                                 data={"csrf_token": _token(page.text), "version": version.group(1) if version else "",
                                       **texts}, allow_redirects=False)
            save_seconds.append(time.perf_counter() - started)
            count_error(saved)
            if saved.status_code != 302:
                errors.append(f"{application_id}: answers {saved.status_code}")
            expected[application_id] = texts[f"answer_{questions[0]}"]
            uploaded = session.post(f"{base}/applications/{application_id}/documents/{document_id}",
                                    data={"csrf_token": _token(page.text)},
                                    files={"file": ("budget-justification.pdf", DEMO_PDF, "application/pdf")},
                                    allow_redirects=False)
            count_error(uploaded)
            if uploaded.status_code != 302:
                errors.append(f"{application_id}: upload {uploaded.status_code}")
            started = time.perf_counter()
            submitted = session.post(f"{base}/applications/{application_id}/submit",
                                     data={"csrf_token": _token(page.text)}, allow_redirects=True)
            submit_seconds.append(time.perf_counter() - started)
            count_error(submitted)
            if "Your reference number" not in submitted.text:
                errors.append(f"{application_id}: submit not confirmed ({submitted.status_code})")
        except requests.RequestException as exc:
            errors.append(f"{application_id}: {exc}")

    def late_submit(index: int):
        application_id, _email = late[index]
        session = sessions[len(on_time) + index]
        page = session.get(f"{base}/applications/{application_id}/check")
        response = session.post(f"{base}/applications/{application_id}/submit",
                                data={"csrf_token": _token(page.text)}, allow_redirects=True)
        count_error(response)
        return "The call closed on" in response.text or "closed" in response.text.lower()

    stop = threading.Event()
    officer_requests = []

    def browse():
        officer = log_in(base, "officer@bench.example")
        while not stop.is_set():
            for path in (f"/manage/calls/{call_id}/applications", "/manage/calls", f"/manage/calls/{call_id}/ranking"):
                started = time.perf_counter()
                response = officer.get(base + path)
                count_error(response)
                officer_requests.append(time.perf_counter() - started)
                # A person reads a page before the next click: without this pause four officer
                # threads were four load generators on the heaviest pages, and the rush measured
                # them, not the applicants (every save and submit queued behind them).
                stop.wait(OFFICER_THINK_SECONDS)

    browsers = [threading.Thread(target=browse) for _ in range(officers)]
    for thread in browsers:
        thread.start()
    import random

    arrivals = sorted(random.Random(7).uniform(0, arrivals_seconds) for _ in on_time)
    started = rush_started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(on_time)) as pool:
        list(pool.map(apply, range(len(on_time))))
    rush_seconds = time.perf_counter() - started
    # Wait for the deadline to pass, then the late ones try.
    from grants.core.types import utcnow

    time.sleep(max(0.0, (deadline - utcnow()).total_seconds() + 1))
    with ThreadPoolExecutor(max_workers=LATE) as pool:
        refused_clearly = sum(pool.map(late_submit, range(LATE)))
    stop.set()
    for thread in browsers:
        thread.join()
    checks = _check_database(app, call_id, [a for a, _ in on_time], [a for a, _ in late], questions, expected)
    return {
        "applicants": len(on_time), "late_applicants": LATE, "officers_browsing": officers,
        "rush_seconds": round(rush_seconds, 1), "deadline_after_seconds": window_seconds,
        "arrivals_over_seconds": arrivals_seconds,
        "server_errors": server_errors, "client_side_failures": len(errors), "failures_sample": errors[:10],
        "save_p50_ms": _percentile(save_seconds, 0.5), "save_p95_ms": _percentile(save_seconds, 0.95),
        "submit_p50_ms": _percentile(submit_seconds, 0.5), "submit_p95_ms": _percentile(submit_seconds, 0.95),
        "submit_p99_ms": _percentile(submit_seconds, 0.99),
        "officer_requests": len(officer_requests),
        "officer_p50_ms": round(statistics.median(officer_requests) * 1000, 1) if officer_requests else None,
        "late_refused_with_message": refused_clearly, **checks,
    }


def _check_database(app, call_id, on_time_ids, late_ids, questions, expected) -> dict:
    """What the database holds afterwards: every on-time submission once, with its answers and
    its document; nothing of the late ones."""
    from sqlalchemy import func, select

    from grants.applications.enums import ApplicationStatus
    from grants.applications.models import Answer, Application, ApplicationDocument
    from grants.extensions import db

    with app.app_context():
        submitted = db.session.execute(select(Application.id, Application.reference_number).where(
            Application.id.in_(on_time_ids), Application.status == ApplicationStatus.SUBMITTED)).all()
        references = [reference for _, reference in submitted]
        answers = db.session.execute(select(Answer.application_id, Answer.question_id, Answer.text)
                                     .where(Answer.application_id.in_(on_time_ids))).all()
        per_pair: dict[tuple[int, int], int] = {}
        for application_id, question_id, _text in answers:
            per_pair[(application_id, question_id)] = per_pair.get((application_id, question_id), 0) + 1
        first_answers = {a: text for a, q, text in answers if q == questions[0]}
        documents = dict(db.session.execute(select(ApplicationDocument.application_id, func.count())
                                            .where(ApplicationDocument.application_id.in_(on_time_ids))
                                            .group_by(ApplicationDocument.application_id)).all())
        late_changed = db.session.scalar(select(func.count()).select_from(Application).where(
            Application.id.in_(late_ids), Application.status != ApplicationStatus.DRAFT))
        late_references = db.session.scalar(select(func.count()).select_from(Application).where(
            Application.id.in_(late_ids), Application.reference_number.is_not(None)))
        return {
            "submitted_in_database": len(submitted),
            "lost_submissions": len(on_time_ids) - len(submitted),
            "duplicate_references": len(references) - len(set(references)),
            "lost_answers": sum(1 for a, text in expected.items() if first_answers.get(a) != text),
            "duplicated_answers": sum(1 for count in per_pair.values() if count > 1),
            "applications_without_their_document": sum(1 for a in on_time_ids if documents.get(a, 0) != 1),
            "late_submissions_stored": int(late_changed or 0) + int(late_references or 0),
        }
