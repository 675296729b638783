"""Partnership check-ins: each organisation's own check-in page; the staff's partnership page
of an award (trend, flags, funds reaching partners, follow-up notes) and of the portfolio.

Same shape as every view: load or 404, check the permission, call one service, commit once.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from grants.awards.models import Award
from grants.reports.views import load_award_milestone
from grants.calls.models import Call
from grants.checkins import services
from grants.checkins.enums import RATING_LABELS
from grants.checkins.forms import FollowUpForm, check_in_form_class
from grants.checkins.permissions import can_follow_up
from grants.checkins.services import CheckInIncomplete
from grants.core.web import commit_or_refuse, keeps_input_on_csrf_error, load_or_404, require, role_required
from grants.extensions import db

bp = Blueprint("checkins", __name__)


def _me():
    return current_user._get_current_object()


def _commit(form, change) -> int | None:
    def mark(exc):
        if isinstance(exc, CheckInIncomplete):
            form.mark_unrated(exc.unrated)

    return commit_or_refuse(form, change, stale_message=services.STALE_CHECK_IN_MESSAGE, mark=mark)


@bp.route("/awards/<int:award_id>/milestones/<int:milestone_id>/check-in", methods=["GET", "POST"])
@login_required
@keeps_input_on_csrf_error
def check_in(award_id: int, milestone_id: int):
    """The check-in of the user's own organisation; nobody else's answers are shown here."""
    award, milestone = load_award_milestone(award_id, milestone_id)
    voice = services.voice_of(current_user, award)
    statements = services.statements(award)
    form_class = check_in_form_class(statements, asks_funds=voice is not None and not voice.is_lead)
    mine = services.check_ins_of(milestone).get(voice.organisation_id) if voice is not None else None
    status = 200
    if request.method == "GET":
        form = form_class(formdata=None)
        form.fill(mine)
    else:
        require(voice is not None, target=milestone, reason="answers for no organisation of this award")
        form = form_class()
        status = 400
        if form.validate_on_submit():
            expected = form.expected_version()
            if form.is_decline:
                change = lambda: services.decline_check_in(milestone, user=_me(), expected_version=expected)  # noqa: E731
            else:
                change = lambda: services.answer_check_in(  # noqa: E731
                    milestone, user=_me(), answer=form.to_answer(), expected_version=expected)
            status = _commit(form, change)
            if status is None:
                flash(f"Thank you. {voice.name}'s check-in for “{milestone.name}” is "
                      + ("recorded as declined." if form.is_decline else "saved.")
                      + " You can change it until the report is accepted.", "success")
                return redirect(url_for("checkins.check_in", award_id=award.id, milestone_id=milestone.id))
            mine = services.check_ins_of(milestone).get(voice.organisation_id)
            if status == 409:
                # The next save is a deliberate replacement of what the colleague saved.
                form.version.data = str(mine.version if mine is not None else 0)
    return render_template("checkins/check_in.html", award=award, call=award.call, milestone=milestone, form=form,
                           voice=voice, mine=mine, statements=statements, is_open=services.is_open(milestone),
                           is_staff=can_follow_up(current_user), rating_labels=RATING_LABELS), status


def _render_health(award: Award, form=None, status: int = 200):
    return render_template("checkins/award_health.html", award=award, call=award.call,
                           health=services.award_health(award), notes=services.follow_ups(award),
                           form=form or FollowUpForm(formdata=None), asked=services.is_asked(award),
                           rating_labels=RATING_LABELS), status


@bp.route("/manage/awards/<int:award_id>/partnership")
@role_required(can_follow_up)
def award_health(award_id: int):
    return _render_health(load_or_404(Award, award_id))


@bp.route("/manage/awards/<int:award_id>/partnership/follow-up", methods=["POST"])
@role_required(can_follow_up)
def add_follow_up(award_id: int):
    award = load_or_404(Award, award_id)
    form = FollowUpForm()
    status = 400
    if form.validate_on_submit():
        status = commit_or_refuse(form, lambda: services.add_follow_up(award, officer=_me(), note=form.note.data),
                                  stale_message="The award changed while you wrote; add the note again.")
        if status is None:
            flash("Follow-up note added to the award.", "success")
            return redirect(url_for("checkins.award_health", award_id=award.id, _anchor="follow-up"))
    return _render_health(award, form, status)


@bp.route("/manage/portfolio/partnership")
@role_required(can_follow_up)
def portfolio_health():
    """Across the awards (or one call's, with ?call=<id>): distributions, flags, community funds."""
    call_id = request.args.get("call", type=int)
    call = db.session.get(Call, call_id) if call_id else None
    return render_template("checkins/portfolio_health.html", call=call,
                           health=services.portfolio_health(call_id=call.id if call else None),
                           calls=db.session.query(Call).filter(Call.check_in_statements.any())
                           .order_by(Call.title).all(), rating_labels=RATING_LABELS)
