"""The benchmark suite: throughput of every main page over real HTTP, the deadline rush and
upload memory, written to benchmarks/results/ as JSON and a Markdown table.

    make bench                       # or: .venv/bin/python -m benchmarks.run [--label after]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/grants_bench_data make bench

On an empty database it migrates and seeds 10,000 applications (flask bench seed) first.
Then it serves the app with gunicorn (4 workers) on loopback, logs in 8 sessions per role,
and drives each page with wrk (Debian's `apt-get install wrk`): 8 concurrent connections,
each request carrying one of the sessions. /healthz runs the same load before and after the
pages; its mean rate is the ceiling each page is compared with (a ratio, so runs on these
noisy, shared machines can be compared), with p50/p95/p99 latencies. Statements per request
are counted in-process on the same database (Flask's test client). The login throttle is
off for the run (every client shares 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
VENV_BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/grants_bench_data"
PASSWORD = "benchmark-password-2026"
TARGET_RATIO, TARGET_P95_MS = 0.10, 100


def _env(database_url: str, instance: Path) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "GRANTS_INSTANCE_DIR": str(instance),
            "STORAGE_LOCAL_PATH": str(instance / "attachments"), "RATELIMIT_ENABLED": "0",
            "SECRET_KEY": "benchmark-secret-key", "PYTHONPATH": str(ROOT)}


def _flask(env: dict, *args: str) -> str:
    return subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def prepare_database(env: dict, applications: int) -> str:
    _flask(env, "db", "upgrade")
    try:
        return _flask(env, "bench", "seed", "--applications", str(applications)).strip()
    except subprocess.CalledProcessError as exc:
        if "already has users" in exc.stderr:
            return "database already seeded"
        raise


@contextmanager
def gunicorn(env: dict, port: int, workers: int):
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level",
         "warning", "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def log_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    response = session.post(f"{base}/login", data={"email": email, "password": PASSWORD,
                                                   "csrf_token": token.group(1) if token else ""},
                            allow_redirects=False)
    if response.status_code != 302:
        raise RuntimeError(f"login as {email} failed: {response.status_code}")
    return session


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in session.cookies.items())


def wrk(url: str, cookies: list[str], *, seconds: int, connections: int) -> dict:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "60s",
               "-s", str(ROOT / "benchmarks" / "report.lua"), url, "--", *cookies]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    seconds_run = figures["duration_us"] / 1e6
    return {"rps": round(figures["requests"] / seconds_run, 2), "requests": figures["requests"],
            "p50_ms": round(figures["p50_us"] / 1000, 1), "p95_ms": round(figures["p95_us"] / 1000, 1),
            "p99_ms": round(figures["p99_us"] / 1000, 1), "kb_per_response":
                round(figures["bytes"] / max(figures["requests"], 1) / 1024, 1),
            "errors": figures["errors_status"] + figures["errors_socket"]}


def page_paths(env: dict) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """(name, role, path) of every main page on the seeded data, and the login of each role."""
    os.environ.update({key: env[key] for key in ("DATABASE_URL", "GRANTS_INSTANCE_DIR", "STORAGE_LOCAL_PATH")})
    from sqlalchemy import select

    from grants import create_app
    from grants.applications.models import Application
    from grants.awards.models import Award, Milestone, MilestoneReport
    from grants.calls.models import Call
    from grants.extensions import db

    app = create_app()
    with app.app_context():
        call = db.session.scalars(select(Call).order_by(Call.id)).first()
        award = db.session.scalars(select(Award).where(Award.call_id == call.id).order_by(Award.id)).first()
        milestone = db.session.scalars(select(Milestone).join(MilestoneReport).where(Milestone.award_id == award.id)
                                       .order_by(Milestone.due_on)).first()
        application = db.session.get(Application, award.application_id)
        logins = {"officer": "officer@bench.example", "reviewer": "reviewer0000@bench.example",
                  "applicant": application.owner.email}
    c = call.id
    pages = [
        ("public call list", "anonymous", "/calls"),
        ("officer's call list", "officer", "/manage/calls"),
        ("intake list of a call", "officer", f"/manage/calls/{c}/applications"),
        ("intake list, by amount, page 5", "officer", f"/manage/calls/{c}/applications?sort=-requested&page=5"),
        ("one application", "officer", f"/manage/applications/{application.id}"),
        ("assignments", "officer", f"/manage/calls/{c}/assignments"),
        ("reviewer's queue", "reviewer", "/reviews"),
        ("ranking", "officer", f"/manage/calls/{c}/ranking"),
        ("decisions", "officer", f"/manage/calls/{c}/decisions"),
        ("an award", "officer", f"/manage/awards/{award.id}"),
        ("milestone report", "officer", f"/manage/milestones/{milestone.id}"),
        ("portfolio dashboard", "officer", "/manage/portfolio"),
        ("call portfolio", "officer", f"/manage/calls/{c}/portfolio"),
        ("applications CSV", "officer", f"/manage/calls/{c}/applications.csv"),
        ("partners CSV", "officer", f"/manage/calls/{c}/partners.csv"),
        ("scores CSV", "officer", f"/manage/calls/{c}/ranking.csv"),
        ("portfolio CSV", "officer", "/manage/portfolio.csv"),
        ("applicant's applications", "applicant", "/applications"),
        ("applicant's awards", "applicant", "/my/awards"),
    ]
    return pages, logins


def statement_counts(env: dict, pages, logins) -> dict[str, int]:
    """SQL statements per request of each page, in-process on the same database."""
    from sqlalchemy import event

    from grants import create_app
    from grants.extensions import db

    app = create_app(RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False)
    clients = {}
    for role, email in logins.items():
        clients[role] = app.test_client()
        clients[role].post("/login", data={"email": email, "password": PASSWORD})
    clients["anonymous"] = app.test_client()
    counts = {}
    for name, role, path in pages:
        clients[role].get(path).close()
        statements = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        clients[role].get(path).close()
        event.remove(engine, "before_cursor_execute", listener)
        counts[name] = len(statements)
    return counts


def upload_memory() -> dict:
    """tests/benchmarks/upload_memory.py --app: a 200 MB attachment through the app to S3 (moto)."""
    completed = subprocess.run([sys.executable, str(ROOT / "tests" / "benchmarks" / "upload_memory.py"), "--app"],
                               cwd=ROOT, capture_output=True, text=True)
    lines = [line.strip() for line in completed.stdout.splitlines() if line.strip()]
    figures = {}
    for line in lines:
        match = re.match(r"([\w-]+)\s+([+-]?[\d.]+) MiB", line)
        if match:
            figures[match.group(1)] = float(match.group(2))
    return {"output": lines, "growth_mib": figures, "returncode": completed.returncode}


def markdown(result: dict) -> str:
    ceiling = result["ceiling_rps"]
    lines = [f"# Benchmark: {result['label']} ({result['started_at']})", "",
             f"{result['scale']}. gunicorn {result['workers']} workers, wrk {result['connections']} connections "
             f"({result['connections']} logged-in sessions per role), {result['seconds']} s per page, loopback, "
             f"{os.cpu_count()} cores shared with other work (load average per page in the JSON). Ratio: the "
             f"page's req/s ÷ `/healthz` req/s measured just before it (mean ceiling {ceiling:.0f} req/s). "
             f"Targets: ratio ≥ {TARGET_RATIO:.2f}, p95 < {TARGET_P95_MS} ms.", "",
             "| page | req/s | ceiling | ratio | p50 ms | p95 ms | p99 ms | KB | statements | errors | meets |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for page in result["pages"]:
        meets = page["ratio"] >= TARGET_RATIO and page["p95_ms"] < TARGET_P95_MS and not page["errors"]
        lines.append(f"| {page['name']} | {page['rps']:.1f} | {page.get('ceiling_rps', ceiling):.0f} | "
                     f"{page['ratio']:.3f} | {page['p50_ms']} | "
                     f"{page['p95_ms']} | {page['p99_ms']} | {page['kb_per_response']} | "
                     f"{page.get('statements', '')} | {page['errors']} | {'yes' if meets else '**no**'} |")
    if result.get("rush"):
        rush = result["rush"]
        lines += ["", "## Deadline rush", "", "```", json.dumps(rush, indent=2), "```"]
    if result.get("upload_memory"):
        lines += ["", "## Upload memory (200 MB through the app to S3-compatible storage)", "", "```",
                  *result["upload_memory"]["output"], "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="after")
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", help="run only pages whose name contains this")
    parser.add_argument("--skip-rush", action="store_true")
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--no-seed", action="store_true", help="use the database as it is")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE)
    instance = Path(tempfile.mkdtemp(prefix="grants-bench-"))
    env = _env(database_url, instance)
    seeded = "as found" if args.no_seed else prepare_database(env, args.applications)
    pages, logins = page_paths(env)
    if args.only:
        pages = [page for page in pages if args.only in page[0]]
    counts = statement_counts(env, pages, logins)
    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results, rush = [], None
    with gunicorn(env, args.port, args.workers) as base:
        sessions = {role: [cookie_header(log_in(base, email)) for _ in range(args.connections)]
                    for role, email in logins.items()}
        sessions["anonymous"] = []
        load = dict(seconds=args.seconds, connections=args.connections)
        ceiling_runs = [wrk(f"{base}/healthz", sessions["officer"], **load)]
        for name, role, path in pages:
            # The ceiling again just before each page: on a shared machine the load of others
            # changes from minute to minute, and a page is compared with its own moment.
            ceiling = wrk(f"{base}/healthz", sessions["officer"], seconds=max(3, args.seconds // 3),
                          connections=args.connections)
            figures = wrk(base + path, sessions[role], **load)
            results.append({"name": name, "path": path, "role": role, "statements": counts.get(name),
                            "ceiling_rps": ceiling["rps"], "load_average": round(os.getloadavg()[0], 2), **figures})
            print(f"{name:34} {figures['rps']:8.1f} req/s  p95 {figures['p95_ms']:7.1f} ms  "
                  f"(healthz {ceiling['rps']:.0f})", flush=True)
        ceiling_runs.append(wrk(f"{base}/healthz", sessions["officer"], **load))
        if not args.skip_rush:
            from benchmarks.rush import run_rush

            try:
                rush = run_rush(base, env)
            except Exception as exc:  # noqa: BLE001 - the page figures are still worth writing
                import traceback

                rush = {"failed": repr(exc), "traceback": traceback.format_exc().splitlines()[-8:]}
    ceiling = sum(run["rps"] for run in ceiling_runs) / len(ceiling_runs)
    for page in results:
        page["ratio"] = round(page["rps"] / page.get("ceiling_rps", ceiling), 4)
    result = {"label": args.label, "started_at": started_at, "database": database_url.split("@")[-1],
              "scale": f"PostgreSQL, {args.applications} applications ({seeded.splitlines()[0] if seeded else ''})",
              "workers": args.workers, "connections": args.connections, "seconds": args.seconds,
              "ceiling_rps": round(ceiling, 1), "ceiling_runs": ceiling_runs, "pages": results, "rush": rush,
              "upload_memory": None if args.skip_upload else upload_memory()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.label}.md").write_text(markdown(result))
    print(markdown(result))
    shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
