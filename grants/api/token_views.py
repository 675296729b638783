"""The account's API tokens: make one (shown once), see them, revoke one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from grants.accounts.forms import ActionForm
from grants.api import services
from grants.api.forms import TokenForm
from grants.api.models import ApiToken
from grants.core.types import utcnow
from grants.core.web import commit_or_refuse, load_or_404, require
from grants.extensions import db

bp = Blueprint("api_tokens", __name__)


def _render(form, *, secret: str | None = None, status: int = 200):
    return render_template("api/tokens.html", form=form, tokens=services.tokens_of(current_user), secret=secret,
                           now=utcnow(), action_form=ActionForm(), scopes=services.SCOPES), status


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    if not form.is_submitted():
        return _render(form)
    status = 400
    if form.validate_on_submit():
        made = {}

        def create():
            made["token"], made["secret"] = services.create_token(
                current_user._get_current_object(), name=form.name.data, scopes=form.scopes.data or [],
                lifetime_days=form.lifetime_days.data)

        status = commit_or_refuse(form, create, stale_message="Try again: the token was not made.")
        if status is None:
            # Shown in this response only: never in a redirect, a flash message or a log.
            return _render(TokenForm(formdata=None), secret=made["secret"])
    return _render(form, status=status)


@bp.route("/account/api-tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = load_or_404(ApiToken, token_id)
    require(token.user_id == current_user.id, target=token, hide=True)
    form = ActionForm()
    if form.validate_on_submit():
        status = commit_or_refuse(form, lambda: services.revoke_token(token, user=current_user._get_current_object()),
                                  stale_message="Try again: the token was not revoked.")
        if status is None:
            flash(f"The token “{token.name}” is revoked: it no longer works.", "success")
        else:
            flash(" ".join(form.form_errors), "danger")
    return redirect(url_for("api_tokens.tokens"))
