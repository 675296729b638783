"""Self-service account pages: register, log in and out, reset and change the password."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice
from sqlalchemy import select

from grants.accounts import services, sessions
from grants.accounts.blueprint import bp
from grants.accounts.enums import OrganisationKind
from grants.accounts.forms import (
    ActionForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
)
from grants.accounts.models import Organisation, User
from grants.core.errors import DomainError
from grants.core.i18n import remember_browser_language
from grants.core.web import keeps_input_on_csrf_error, safe_next
from grants.extensions import db, limiter, login_manager


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    # The session holds the user's current token; a rotated token means a dead session.
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    return user if user is not None and user.is_active else None


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_email_key() -> str:
    # A second bucket per account, so spreading guesses over many addresses does not help.
    return "login-email:" + services.normalise_email(request.form.get("email", ""))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, key_func=_login_email_key, methods=["POST"])
@keeps_input_on_csrf_error
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountNotActive as not_active:
            db.session.commit()  # the failed attempt stays in the audit log
            return render_template("accounts/login.html", form=form, not_active=not_active.message), 403
        if user is None:
            db.session.commit()
            form.password.errors.append(gettext("The e-mail or password is not correct."))
            return render_template("accounts/login.html", form=form), 401
        next_url = safe_next(request.args.get("next"))
        remember_browser_language(user)
        # A fresh session at login: nothing from before it survives (session fixation).
        session.clear()
        login_user(user)
        sessions.start_session()
        db.session.commit()
        return redirect(next_url)
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        services.end_all_sessions(current_user._get_current_object(), reason="logout")
        db.session.commit()
        logout_user()
        session.clear()
        flash(gettext("You are logged out."), "success")
    return redirect(url_for("core.home"))


def _organisation_choices() -> list[tuple[int, str]]:
    return [SelectChoice(0, "— choose —")] + [SelectChoice(org.id, org.name)
                                              for org in services.organisations_to_join()]


# A browser never fills a password field back in, and neither does this page: say so.
RETYPE_PASSWORD = "Passwords are never sent back to the page: type yours again in both password fields."


@bp.route("/register", methods=["GET", "POST"])
@keeps_input_on_csrf_error
def register():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = RegistrationForm()
    form.organisation_id.choices = _organisation_choices()
    if form.validate_on_submit():
        try:
            if form.organisation_choice.data == "existing":
                organisation = db.session.get(Organisation, form.organisation_id.data)
                if organisation is None:
                    raise DomainError("Choose your organisation from the list.")
                services.register_applicant(email=form.email.data, full_name=form.full_name.data,
                                            password=form.password.data, organisation=organisation)
            else:
                services.register_applicant(
                    email=form.email.data, full_name=form.full_name.data, password=form.password.data,
                    new_organisation=dict(
                        name=form.name.data, kind=OrganisationKind(form.kind.data), city=form.city.data or "",
                        region=form.region.data or "", country=form.country.data or "US",
                        ein=form.ein.data or "", uei=form.uei.data or "", website=form.website.data or "",
                    ),
                )
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            return _render_registration(form, 400)
        db.session.commit()
        return render_template("accounts/registered.html", email=services.normalise_email(form.email.data))
    return _render_registration(form, 400 if form.errors else 200)


def _render_registration(form: RegistrationForm, status: int):
    if status != 200 and (form.password.data or form.confirm.data) and not form.password.errors:
        form.password.description = f"{RETYPE_PASSWORD} {form.password.description}"
    return render_template("accounts/register.html", form=form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@keeps_input_on_csrf_error
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/reset_sent.html", email=form.email.data)
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@keeps_input_on_csrf_error
def reset_password(token: str):
    if services.find_reset_token(token) is None:
        return render_template("accounts/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            form.password.errors.append(exc.message)
            return render_template("accounts/reset_password.html", form=form), 400
        db.session.commit()
        logout_user()
        flash(gettext("Your password is changed. Log in with the new one."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, current_password=form.current_password.data,
                                     new_password=form.password.data)
        except DomainError as exc:
            db.session.rollback()
            form.current_password.errors.append(exc.message)
            return render_template("accounts/account.html", form=form), 400
        db.session.commit()
        # This browser keeps working under the new token; every other session has ended.
        login_user(user)
        flash(gettext("Your password is changed. You were logged out everywhere else."), "success")
        return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form), 400 if form.errors else 200


@bp.route("/my-organisation")
@login_required
def my_organisation():
    return redirect(url_for("accounts.organisation_detail", organisation_id=current_user.organisation_id))
