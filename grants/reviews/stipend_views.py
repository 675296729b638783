"""The officer's stipends page of a call: each reviewer's stipend (owed, paid, not yet earned),
totals, recording a payment and undoing a mistaken one, and the CSV. The rules are in
grants.reviews.stipends; the reviewer's own stipends are on their list (views.my_reviews).

Stipends are payments to named people: to anyone but funder staff these pages do not exist
(404, where the other review set-up pages of a published call refuse openly with 403).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

# The intake's money format, shared rather than copied.
from grants.applications.intake_views import _dollars
from grants.audit.services import record_event
from grants.calls.models import Call
from grants.core.csv_export import csv_download, filename_slug
from grants.core.dates import format_date
from grants.core.money import format_money
from grants.core.types import utcnow
from grants.core.web import keeps_input_on_csrf_error, load_or_404, require
from grants.extensions import db
from grants.reviews import services, stipends
from grants.reviews.blueprint import bp
from grants.reviews.forms import StipendPaidForm, UndoStipendPaidForm
from grants.reviews.models import PanelMember
from grants.reviews.permissions import can_manage_stipends
from grants.reviews.views import _act, _me


def _call_for_stipends(call_id: int) -> Call:
    call = load_or_404(Call, call_id)
    require(can_manage_stipends(current_user), target=call, hide=True)
    return call


def _member_for_stipend(member_id: int) -> PanelMember:
    member = load_or_404(PanelMember, member_id)
    _call_for_stipends(member.call_id)
    return member


def _paid_form(line, form: StipendPaidForm | None = None) -> StipendPaidForm:
    """One row's form; its ids are the member's own, as the page holds one per row."""
    if form is None:
        form = StipendPaidForm(formdata=None, paid_on=services.local_today(line.call), version=line.version)
    for name in ("paid_on", "payment_reference", "version"):
        form[name].id = form[name].label.field_id = f"{name.replace('_', '-')}-{line.member.id}"
    return form


def _undo_form(line, form: UndoStipendPaidForm | None = None) -> UndoStipendPaidForm:
    if form is None:
        form = UndoStipendPaidForm(formdata=None, version=line.version)
    for name, prefix in (("undo_reason", "undo-reason"), ("version", "undo-version")):
        form[name].id = form[name].label.field_id = f"{prefix}-{line.member.id}"
    return form


def _render_stipends(call, status: int = 200, *, failed_member=None, failed_form=None):
    lines = stipends.stipend_lines(call)
    paid_forms, undo_forms = {}, {}
    for line in lines:
        failed = failed_form if failed_member == line.member.id else None
        # A refused form comes back in its row only if the row still offers it (a "paid"
        # refused because someone else paid first finds an undo button there instead).
        if line.state is stipends.StipendState.OWED:
            paid_forms[line.member.id] = _paid_form(line, failed if isinstance(failed, StipendPaidForm) else None)
        elif line.state is stipends.StipendState.PAID:
            undo_forms[line.member.id] = _undo_form(line, failed if isinstance(failed, UndoStipendPaidForm) else None)
    return render_template("reviews/stipends.html", call=call, settings=services.settings_for(call), lines=lines,
                           totals=stipends.stipend_totals(lines), paid_forms=paid_forms, undo_forms=undo_forms,
                           review_closed=stipends.review_closed(services.settings_for(call)),
                           failed_form=failed_form, State=stipends.StipendState,
                           # The undo a refusal was about stays open; a refused "paid" opens none.
                           open_undo=failed_member if isinstance(failed_form, UndoStipendPaidForm) else None), status


@bp.route("/manage/calls/<int:call_id>/stipends")
@login_required
def call_stipends(call_id: int):
    return _render_stipends(_call_for_stipends(call_id))


def _back(member):
    return redirect(url_for("reviews.call_stipends", call_id=member.call_id) + f"#stipend-{member.id}")


@bp.route("/manage/panel-members/<int:member_id>/stipend/paid", methods=["POST"])
@login_required
@keeps_input_on_csrf_error
def mark_stipend_paid(member_id: int):
    member = _member_for_stipend(member_id)
    form = StipendPaidForm()
    status = 400 if not form.validate_on_submit() else _act(form, lambda: stipends.mark_stipend_paid(
        member, officer=_me(), paid_on=form.paid_on.data, reference=form.payment_reference.data or "",
        expected_version=form.version.data))
    if status is not None:
        return _render_stipends(member.call, status, failed_member=member.id, failed_form=form)
    record = member.stipend
    flash(f"The stipend of {member.user.full_name} ({format_money(record.amount_cents)}) is recorded as paid on "
          f"{format_date(record.paid_on)}.", "success")
    return _back(member)


@bp.route("/manage/panel-members/<int:member_id>/stipend/undo", methods=["POST"])
@login_required
@keeps_input_on_csrf_error
def undo_stipend_paid(member_id: int):
    member = _member_for_stipend(member_id)
    form = UndoStipendPaidForm()
    status = 400 if not form.validate_on_submit() else _act(form, lambda: stipends.undo_stipend_paid(
        member, officer=_me(), reason=form.undo_reason.data, expected_version=form.version.data))
    if status is not None:
        return _render_stipends(member.call, status, failed_member=member.id, failed_form=form)
    flash(f"The payment to {member.user.full_name} is undone; the reason is in the audit log.", "success")
    return _back(member)


CSV_HEADER = ["Reviewer", "E-mail", "Organisation", "Organisation kind", "Sub-panel", "Reviews submitted",
              "Reviews assigned", "Eligible", "Status", "Amount (cents)", "Amount (USD)", "Paid on",
              "Payment reference"]


@bp.route("/manage/calls/<int:call_id>/stipends.csv")
@login_required
def stipends_csv(call_id: int):
    """One row per reviewer of the call's panel, as the stipends page lists them."""
    call = _call_for_stipends(call_id)
    lines = stipends.stipend_lines(call)
    rows = []
    for line in lines:
        reviewer, record, amount = line.reviewer, line.record, line.amount_cents
        paid = line.state is stipends.StipendState.PAID
        rows.append([reviewer.full_name, reviewer.email, reviewer.organisation.name,
                     reviewer.organisation.kind.label, line.member.sub_panel, line.reviews.submitted,
                     line.reviews.assigned, "yes" if line.eligible else "no", line.state.label,
                     amount if amount is not None else "", _dollars(amount) if amount is not None else "",
                     record.paid_on.isoformat() if paid else "", record.payment_reference if paid else ""])
    totals = stipends.stipend_totals(lines)
    slug = filename_slug(call.title)
    # Names and payments of people: who took them is on the record.
    record_event("call.stipends_exported", actor=_me(), target=call,
                 details={"rows": len(rows), "owed_cents": totals.owed_cents, "paid_cents": totals.paid_cents})
    db.session.commit()
    return csv_download(f"{slug}-{call.id}-stipends-{utcnow():%Y-%m-%d}.csv", CSV_HEADER, rows)
