"""Program officers' letters of intent of a two-stage call: the list, each letter's screening,
and the one release that invites some leads to a full proposal and declines the others."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from grants.applications import letters_of_intent, permissions
from grants.applications.blueprint import bp
from grants.applications.enums import LoiOutcome
from grants.applications.forms import LoiReleaseForm, LoiScreeningForm
from grants.applications.models import Application
from grants.calls.models import Call
from grants.core.errors import DomainError
from grants.core.types import utcnow
from grants.core.web import keeps_input_on_csrf_error, load_or_404, require, role_required
from grants.extensions import db


def _me():
    return current_user._get_current_object()


def _two_stage_call(call_id: int) -> Call:
    call = load_or_404(Call, call_id)
    require(call.is_two_stage, target=call, hide=True)
    return call


def _prefix(loi: Application) -> str:
    # Each letter's form on the one page has its own field ids.
    return f"loi{loi.id}"


def _render(call: Call, *, forms: dict | None = None, release_form=None, status: int = 200):
    lois = letters_of_intent.letters_of_intent(call)
    forms = forms or {}
    for loi in lois:
        if loi.id not in forms and permissions.can_screen_loi(current_user, loi):
            forms[loi.id] = LoiScreeningForm(formdata=None, prefix=_prefix(loi), data={
                "outcome": loi.loi_outcome.value if loi.loi_outcome else None, "note": loi.screening_note})
    waiting = letters_of_intent.unreleased_screenings(call)
    return render_template("intake/letters_of_intent.html", call=call, lois=lois, forms=forms, waiting=waiting,
                           release_form=release_form or LoiReleaseForm(formdata=None,
                                                                      data={"expected_count": len(waiting)}),
                           is_loi_open=call.is_loi_open(utcnow())), status


@bp.route("/manage/calls/<int:call_id>/letters-of-intent")
@role_required(permissions.can_view_intake)
def letters_of_intent_list(call_id: int):
    return _render(_two_stage_call(call_id))


@bp.route("/manage/letters-of-intent/<int:application_id>/screen", methods=["POST"])
@role_required(permissions.can_view_intake)
@keeps_input_on_csrf_error
def screen_letter_of_intent(application_id: int):
    loi = load_or_404(Application, application_id)
    require(loi.is_loi, target=loi, hide=True)
    call = loi.call
    form = LoiScreeningForm(prefix=_prefix(loi))
    if not form.validate_on_submit():
        return _render(call, forms={loi.id: form}, status=400)
    if not permissions.can_screen_loi(current_user, loi):
        form.form_errors.append(f"This letter of intent is {loi.status.label.lower()}; only a submitted one not yet "
                                "released is screened. Nothing was changed.")
        return _render(call, forms={loi.id: form}, status=409)
    try:
        letters_of_intent.screen_loi(loi, officer=_me(), outcome=LoiOutcome(form.outcome.data), note=form.note.data)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _render(call, forms={loi.id: form}, status=exc.status_code)
    flash(f"{loi.reference_number}: {loi.loi_outcome.label.lower()} (not released yet).", "success")
    return redirect(url_for("applications.letters_of_intent_list", call_id=call.id, _anchor=f"loi-{loi.id}"))


@bp.route("/manage/calls/<int:call_id>/letters-of-intent/release", methods=["POST"])
@role_required(permissions.can_view_intake)
def release_letters_of_intent(call_id: int):
    call = _two_stage_call(call_id)
    form = LoiReleaseForm()
    if not form.validate_on_submit():
        return _render(call, release_form=form, status=400)
    try:
        released = letters_of_intent.release_loi_decisions(call, officer=_me(),
                                                           expected_count=form.expected_count.data)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _render(call, release_form=form, status=exc.status_code)
    invited = sum(1 for loi in released if loi.status.value == "invited")
    flash(f"Released: {invited} invited to a full proposal, {len(released) - invited} declined. The letters are "
          "on their way.", "success")
    return redirect(url_for("applications.letters_of_intent_list", call_id=call.id))
