"""Partnership Grants: the Flask application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import Config, TestConfig
from grants.extensions import csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    """Build the app from ``config`` (default: Config, read from the environment) plus overrides."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
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
    login_manager.login_message = "Log in to see this page."
    login_manager.login_message_category = "info"

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
    import grants.applications.models  # noqa: F401
    import grants.attachments.models  # noqa: F401
    import grants.audit.models  # noqa: F401
    import grants.awards.models  # noqa: F401
    import grants.calls.models  # noqa: F401
    import grants.notifications.models  # noqa: F401
    import grants.reviews.models  # noqa: F401


def _configure_sqlite(engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs (used by the test suite and by
    # nested transactions); let SQLAlchemy emit BEGIN itself, and enforce foreign keys.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")


def _register_blueprints(app: Flask) -> None:
    from grants.accounts import admin_views, views  # noqa: F401 - routes register on import
    from grants.accounts.blueprint import bp as accounts_bp
    from grants.applications import collaboration_views, intake_views  # noqa: F401
    from grants.applications import views as application_views  # noqa: F401
    from grants.applications.blueprint import bp as applications_bp
    from grants.audit.views import bp as audit_bp
    from grants.awards import reporting_views  # noqa: F401
    from grants.awards import views as award_views  # noqa: F401
    from grants.awards.blueprint import bp as awards_bp
    from grants.calls.views import bp as calls_bp
    from grants.core.views import bp as core_bp
    from grants.reviews import scoring_views  # noqa: F401
    from grants.reviews import views as review_views  # noqa: F401
    from grants.reviews.blueprint import bp as reviews_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(calls_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(awards_bp)


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
    from grants.awards.cli import awards_cli
    from grants.demo import demo_cli
    from grants.notifications.cli import notifications_cli
    from grants.reviews.cli import reviews_cli

    app.cli.add_command(create_admin_command)
    app.cli.add_command(attachments_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(reviews_cli)
    app.cli.add_command(awards_cli)
    app.cli.add_command(demo_cli)


def _register_template_helpers(app: Flask) -> None:
    from grants.core.navigation import navigation_for

    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def navigation():
        from flask import has_request_context
        from flask_login import current_user

        # E-mails are rendered outside requests too (CLI, outbox), where there is no user.
        return {"navigation": navigation_for(current_user) if has_request_context() else []}

    @app.template_filter("when")
    def format_instant(value, fmt: str = "%d %b %Y %H:%M UTC"):
        return value.strftime(fmt) if value else "—"

    from grants.core.markup import render_markdown
    from grants.core.money import format_money
    from grants.core.timezones import format_local

    app.add_template_filter(format_money, "money")
    # {{ call.closes_at|in_zone(call.time_zone) }}: "15 January 2027, 5:00 PM CST"
    app.add_template_filter(format_local, "in_zone")
    app.add_template_filter(render_markdown, "markdown")

    from grants.applications.permissions import can_start_application

    app.add_template_global(can_start_application, "can_start_application")


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
    )
    return response
