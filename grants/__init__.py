"""Partnership Grants: the Flask application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import Config, TestConfig
from grants.extensions import babel, csrf, db, limiter, login_manager, migrate

# How long a SQLite writer waits for another to finish before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    """Build the app from ``config`` (default: Config, read from the environment) plus overrides."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    from grants.core.web import Request, RowIdConverter

    app.request_class = Request
    app.url_map.converters["int"] = RowIdConverter
    app.config.from_object(config or Config)
    app.config.update(overrides)
    if app.config.get("TRUSTED_PROXY_HOPS"):
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logging.basicConfig(level=logging.INFO)

    _ensure_sqlite_directory(app.config["SQLALCHEMY_DATABASE_URI"])
    _import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    from grants.core.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations",
                   default_domain="messages")
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Log in to see this page.")
    login_manager.login_message_category = "info"
    from grants.accounts.sessions import init_sessions

    init_sessions(app)

    from grants.attachments.storage import storage_from_config

    app.extensions["grants_storage"] = storage_from_config(app.config)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)

    _register_blueprints(app)
    _register_error_handlers(app)
    _register_cli(app)
    _register_template_helpers(app)
    app.after_request(_security_headers)
    return app


def create_test_app(**overrides) -> Flask:
    return create_app(TestConfig, **overrides)


def _ensure_sqlite_directory(uri: str) -> None:
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        os.makedirs(os.path.dirname(os.path.abspath(uri.removeprefix("sqlite:///"))), exist_ok=True)


def _import_models() -> None:
    # Every model module is imported before the metadata is used (migrations, create_all).
    import grants.accounts.models  # noqa: F401
    import grants.api.models  # noqa: F401
    import grants.applications.models  # noqa: F401
    import grants.attachments.models  # noqa: F401
    import grants.audit.models  # noqa: F401
    import grants.awards.models  # noqa: F401
    import grants.calls.models  # noqa: F401
    import grants.checkins.models  # noqa: F401
    import grants.notifications.models  # noqa: F401
    import grants.reviews.models  # noqa: F401


def _configure_sqlite(engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs (used by the test suite and by
    # nested transactions); let SQLAlchemy emit BEGIN itself, and enforce foreign keys.
    # The embedded default runs the app and the outbox sender side by side: WAL lets
    # readers go on while one writes, the busy timeout makes a writer wait for the lock
    # instead of failing, and BEGIN IMMEDIATE takes the write lock when the transaction
    # starts. A deferred transaction that reads, then writes (a login reads the user, then
    # sets last_login_at) fails at once with "database is locked" when another connection
    # wrote meanwhile: no timeout helps there, as waiting could deadlock.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")  # a file's setting; in memory it stays "memory"
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _register_blueprints(app: Flask) -> None:
    from grants.accounts import admin_views, views  # noqa: F401 - routes register on import
    from grants.accounts.blueprint import bp as accounts_bp
    from grants.applications import collaboration_views, intake_views, loi_views  # noqa: F401
    from grants.applications import views as application_views  # noqa: F401
    from grants.applications.blueprint import bp as applications_bp
    from grants.api.token_views import bp as api_tokens_bp
    from grants.api.views import bp as api_bp
    from grants.audit.views import bp as audit_bp
    from grants.awards import views as award_views  # noqa: F401
    from grants.awards.blueprint import bp as awards_bp
    from grants.calls.views import bp as calls_bp
    from grants.checkins.views import bp as checkins_bp
    from grants.core.views import bp as core_bp
    from grants.portfolio import views as portfolio_views  # noqa: F401 - on the awards blueprint
    from grants.reports import views as report_views  # noqa: F401 - on the awards blueprint
    from grants.reviews import scoring_views  # noqa: F401
    from grants.reviews import stipend_views  # noqa: F401
    from grants.reviews import views as review_views  # noqa: F401
    from grants.reviews.blueprint import bp as reviews_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(calls_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(awards_bp)
    app.register_blueprint(checkins_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)


def _register_error_handlers(app: Flask) -> None:
    from grants.core.errors import DomainError

    def page(status: int, template: str, **context):
        return make_response(render_template(template, status=status, **context), status)

    @app.errorhandler(403)
    def forbidden(_error):
        return page(403, "errors/403.html")

    @app.errorhandler(404)
    def not_found(_error):
        return page(404, "errors/404.html")

    @app.errorhandler(413)
    def too_large(_error):
        limit = app.config["ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
        return page(413, "errors/generic.html", title="File too large",
                    message=f"Files may be at most {limit} MB. Nothing was saved.")

    @app.errorhandler(429)
    def throttled(error):
        from grants.audit.services import record_security_event

        record_security_event("auth.throttled", details={"path": request.path, "limit": str(error.description)})
        response = page(429, "errors/429.html")
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(500)
    def server_error(_error):
        db.session.rollback()
        return page(500, "errors/500.html")

    @app.errorhandler(DBAPIError)
    def database_refused(error: DBAPIError):
        # The database refused the request's change (a failed commit, a lost connection, a
        # constraint another request won): all of it rolls back, e-mails queued with it too.
        db.session.rollback()
        app.logger.error("the database refused %s %s", request.method, request.path, exc_info=error)
        return page(503, "errors/generic.html", title="That could not be saved",
                    message="The database did not accept the change, so nothing was saved and no e-mail was "
                            "sent. Go back and try again in a moment.")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return page(error.status_code, "errors/generic.html", title="That could not be done", message=error.message)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        from grants.audit.services import record_security_event

        record_security_event("security.csrf_rejected", details={"path": request.path, "reason": error.description})
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, "keeps_input_on_csrf_error", False):
            # Show the same form again with what the user typed; BaseForm refuses it.
            g.csrf_rejected = True
            response = make_response(view(**(request.view_args or {})))
            response.status_code = 400
            return response
        return page(400, "errors/generic.html", title="This form had expired",
                    message="Nothing was saved. Go back, reload the page and try again.")


def _register_cli(app: Flask) -> None:
    from grants.accounts.cli import create_admin_command
    from grants.attachments.cli import attachments_cli
    from grants.backup import backup_cli
    from grants.bench.cli import bench_cli
    from grants.demo import demo_cli
    from grants.notifications.cli import notifications_cli
    from grants.reports.cli import awards_cli
    from grants.reviews.cli import reviews_cli

    app.cli.add_command(create_admin_command)
    app.cli.add_command(attachments_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(reviews_cli)
    app.cli.add_command(awards_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(bench_cli)


def _register_template_helpers(app: Flask) -> None:
    from grants.core.navigation import navigation_for

    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def navigation():
        from flask import has_request_context
        from flask_login import current_user

        # E-mails are rendered outside requests too (CLI, outbox), where there is no user.
        return {"navigation": navigation_for(current_user) if has_request_context() else []}

    from grants.core.dates import format_date, format_instant
    from grants.core.markup import render_markdown
    from grants.core.money import format_money

    app.add_template_filter(format_money, "money")
    # Every date and instant on a page goes through grants.core.dates: one style each.
    # {{ milestone.due_on|date }}: "2 December 2026"
    app.add_template_filter(format_date, "date")
    # {{ call.closes_at|in_zone(call.time_zone) }}: "15 January 2027, 5:00 PM CST"
    app.add_template_filter(format_instant, "in_zone")

    @app.template_filter("when")
    def in_funder_zone(instant, **options):
        """An instant that belongs to no call (a registration, a login) in the funder's zone."""
        return format_instant(instant, app.config["CALL_DEFAULT_TIME_ZONE"], **options)

    app.add_template_filter(render_markdown, "markdown")

    from grants.applications.permissions import can_start_application

    app.add_template_global(can_start_application, "can_start_application")

    from grants.core.i18n import LANGUAGES, current_language, is_staff_page

    from grants.core.forms_on_page import page_has_errors

    app.add_template_global(page_has_errors, "page_has_errors")
    app.add_template_global(LANGUAGES, "languages")
    app.add_template_global(current_language, "current_language")
    app.add_template_global(is_staff_page, "is_staff_page")


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
    )
    if request.is_secure:
        # Only over HTTPS (behind a proxy: X-Forwarded-Proto through ProxyFix); browsers
        # ignore it over HTTP, and a development server on http:// must stay reachable.
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    from flask_login import current_user

    if request.endpoint != "static" and current_user.is_authenticated:
        # A signed-in user's pages and files are theirs: no browser or proxy keeps a copy
        # (this replaces send_file's own "no-cache", which lets a browser store the file).
        if "no-store" not in response.headers.get("Cache-Control", ""):
            response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response
