"""Forms of panels, assignments and conflicts: the officer's review settings, invitations,
panel changes, manual and automatic assignment, waivers; the reviewer's answers."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from grants.core.forms import BaseForm, MoneyField, NumberRange
from grants.core.timezones import local_instant

SUB_PANEL_HELP = "For example Academic or Community. Leave it empty for a single panel."


class ReviewSettingsForm(BaseForm):
    """The call's review settings; the closing time is typed as the call's clocks show it and
    ``validate`` turns it into ``review_closes_at`` in ``zone_name`` (set by the view)."""

    review_closes_on = DateField("Review closes: date", validators=[Optional()])
    review_closes_time = TimeField("Review closes: time", validators=[Optional()])
    reviewers_per_application = IntegerField(
        "Reviewers per application", default=3,
        validators=[InputRequired("Give a number of reviewers."), NumberRange(min=1, max=20, message="From 1 to 20.")],
        description="What the automatic assigner aims for.")
    default_workload_cap = IntegerField(
        "Default workload cap", default=8,
        validators=[InputRequired("Give a number of applications."),
                    NumberRange(min=0, max=500, message="From 0 to 500.")],
        description="The most applications one reviewer gets on this call, unless you set their own cap.")
    disagreement_threshold = IntegerField(
        "Disagreement threshold (points)", default=25,
        validators=[InputRequired("Give a number of points."), NumberRange(min=0, max=100, message="From 0 to 100.")],
        description="Reviewers disagree when their weighted scores (0–100) spread further than this.")
    show_other_reviews = BooleanField("A reviewer who has submitted sees the other reviews of the same application")
    stipend = MoneyField(
        "Stipend per completed review set (US$)", validators=[Optional()],
        description="Paid once per call to each reviewer ticked as eligible in the panel below, when every review "
                    "assigned to them is submitted and the review has closed. Leave it empty for no stipends.")

    zone_name: str = "UTC"
    review_closes_at = None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        day, at = self.review_closes_on, self.review_closes_time
        if day.errors or at.errors:
            return False
        if (day.data is None) != (at.data is None):
            (at if at.data is None else day).errors.append("Give both the date and the time, or neither.")
            return False
        if day.data is not None:
            try:
                self.review_closes_at = local_instant(day.data, at.data, self.zone_name)
            except ValueError as exc:
                at.errors.append(str(exc))
                return False
        return ok


class InviteReviewerForm(BaseForm):
    # The pool: existing reviewers with their organisation and load (services.reviewer_pool).
    reviewer_id = SelectField("A reviewer already registered here", coerce=int, validate_choice=False,
                              validators=[Optional()],
                              description="Each with their organisation and current load across calls.")
    email = EmailField("Or someone new: their e-mail address", validators=[
        Optional(), Email("Give a valid e-mail address."), Length(max=254)],
        description="They accept by logging in with this address, or register first.")
    sub_panel = StringField("Sub-panel", validators=[Optional(), Length(max=80)], description=SUB_PANEL_HELP)
    workload_cap = IntegerField("Workload cap", validators=[Optional(), NumberRange(min=0, max=500,
                                                                                     message="From 0 to 500.")],
                                description="Leave it empty for the call's default.")


    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.reviewer_id.data and (self.email.data or "").strip():
            self.email.errors.append("Choose a reviewer from the list or type an address, not both.")
            ok = False
        elif not self.reviewer_id.data and not (self.email.data or "").strip() and not self.email.errors:
            self.reviewer_id.errors.append("Choose a reviewer from the list, or type the address of someone new.")
            ok = False
        return ok


class PanelMemberForm(BaseForm):
    sub_panel = StringField("Sub-panel", validators=[Optional(), Length(max=80)])
    workload_cap = IntegerField("Workload cap", validators=[InputRequired("Give a number of applications."),
                                                            NumberRange(min=0, max=500, message="From 0 to 500.")])
    stipend_eligible = BooleanField("Stipend")


class StipendPaidForm(BaseForm):
    """Record one reviewer's stipend as paid. ``version`` is the record's version the page was
    drawn from (grants.reviews.stipends refuses any other: double clicks, stale tabs)."""

    paid_on = DateField("Paid on", validators=[InputRequired("Give the date the stipend was paid.")],
                        description="The day the money went out, in the call's time zone.")
    payment_reference = StringField("Reference (optional)", validators=[Optional(), Length(max=100)],
                                    description="A cheque or transfer number.")
    version = IntegerField(validators=[InputRequired()], widget=HiddenField.widget)


class UndoStipendPaidForm(BaseForm):
    undo_reason = TextAreaField("Why undo this payment", render_kw={"rows": 2},
                                validators=[DataRequired("Say why the payment is undone."), Length(max=2000)],
                                description="Kept in the audit log.")
    version = IntegerField(validators=[InputRequired()], widget=HiddenField.widget)


class ManualAssignmentForm(BaseForm):
    application_id = SelectField("Application", coerce=int, validators=[DataRequired("Choose an application.")])
    member_id = SelectField("Reviewer", coerce=int, validators=[DataRequired("Choose a reviewer.")])
    due_on = DateField("Due date", validators=[DataRequired("Give the date the review is due.")])


class ProposalForm(BaseForm):
    """The automatic proposal as the officer leaves it: one checkbox per (application, panel
    member) pair, value ``"<application id>-<member id>"``. The proposal lives only in this
    form; every pair is checked again when it is confirmed."""

    pairs = SelectMultipleField("Assignments", validate_choice=False)
    due_on = DateField("Due date", validators=[DataRequired("Give the date the reviews are due.")])
    per_application = HiddenField()
    mix_sub_panels = HiddenField()

    def pair_values(self) -> list[tuple[int, int]] | None:
        """The ticked pairs as ids; None when one of them is not of the expected shape."""
        pairs = []
        for value in self.pairs.data or []:
            application_id, _, member_id = str(value).partition("-")
            if not (application_id.isdigit() and member_id.isdigit()):
                return None
            pairs.append((int(application_id), int(member_id)))
        return pairs


class WaiverForm(BaseForm):
    waiver_reason = TextAreaField("Reason for waiving", render_kw={"rows": 2},
                                  validators=[DataRequired("Give the reason for waiving this conflict."),
                                              Length(max=3000)])


class DeclareConflictForm(BaseForm):
    conflict_reason = TextAreaField("What the conflict is", render_kw={"rows": 3},
                                    validators=[DataRequired("Say what the conflict is."), Length(max=3000)],
                                    description="The program officer reads this and decides.")


class DeclineForm(BaseForm):
    decline_reason = TextAreaField("Why you decline", render_kw={"rows": 3},
                                   validators=[DataRequired("Give a reason for declining."), Length(max=3000)])
