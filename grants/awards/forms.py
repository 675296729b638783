"""Forms of decisions and awards: the officer's decision (one application or a batch),
release, amendment and milestone forms; the grantee's acceptance and decline."""

from __future__ import annotations

from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants.accounts.forms import MultiCheckboxField
from grants.awards.enums import DecisionOutcome
from grants.core.forms import BaseForm, MoneyField

OUTCOME_CHOICES = [SelectChoice(DecisionOutcome.AWARD.value, "Award"),
                   SelectChoice(DecisionOutcome.DECLINE.value, "Decline")]
RATIONALE_HELP = "Internal: the applicants never see it."
COMMENTS_LABEL = "Quote the reviewers' strengths and weaknesses in the letter (as “Reviewer 1, 2…”, never their names)"


class DecisionForm(BaseForm):
    """One application's decision; the view gives each row of the page its own prefix."""

    outcome = RadioField("Decision", choices=OUTCOME_CHOICES,
                         validators=[DataRequired("Choose award or decline.")])
    amount = MoneyField("Award amount (USD)", validators=[Optional()])
    start_on = DateField("Award starts", validators=[Optional()])
    end_on = DateField("Award ends", validators=[Optional()])
    terms = TextAreaField("Terms of the award", validators=[Length(max=10000)], render_kw={"rows": 3},
                          description="The grantee confirms these when accepting.")
    rationale = TextAreaField("Rationale", validators=[DataRequired("Give the rationale for the decision."),
                                                       Length(max=10000)],
                              render_kw={"rows": 3}, description=RATIONALE_HELP)
    include_review_comments = BooleanField(COMMENTS_LABEL)

    @property
    def chosen_outcome(self) -> DecisionOutcome | None:
        try:
            return DecisionOutcome(self.outcome.data)
        except ValueError:
            return None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.chosen_outcome is DecisionOutcome.AWARD:
            for f, message in ((self.amount, "Give the award amount."), (self.start_on, "Give the start date."),
                               (self.end_on, "Give the end date.")):
                if f.data is None and not f.errors:
                    f.errors = [*f.errors, message]
                    ok = False
        return ok


class BulkDecisionForm(BaseForm):
    """The same decision on the ticked applications; an award is each one's requested amount."""

    application_ids = MultiCheckboxField("Applications", coerce=int, validate_choice=False)
    outcome = RadioField("Decision for all ticked", choices=[
        SelectChoice(DecisionOutcome.DECLINE.value, "Decline them"),
        SelectChoice(DecisionOutcome.AWARD.value, "Award each its requested amount")],
        validators=[DataRequired("Choose award or decline.")])
    start_on = DateField("Awards start", validators=[Optional()])
    end_on = DateField("Awards end", validators=[Optional()])
    terms = TextAreaField("Terms of the awards", validators=[Length(max=10000)], render_kw={"rows": 2})
    rationale = TextAreaField("Rationale", validators=[DataRequired("Give the rationale for these decisions."),
                                                       Length(max=10000)],
                              render_kw={"rows": 2}, description=RATIONALE_HELP)
    include_review_comments = BooleanField(COMMENTS_LABEL)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.application_ids.data:
            self.application_ids.errors = ["Tick at least one application."]
            ok = False
        if self.outcome.data == DecisionOutcome.AWARD.value:
            for f, message in ((self.start_on, "Give the start date."), (self.end_on, "Give the end date.")):
                if f.data is None and not f.errors:
                    f.errors = [*f.errors, message]
                    ok = False
        return ok


class ReleaseForm(BaseForm):
    """Release every waiting decision (the button), or the ticked ones (posted from the bulk form)."""

    application_ids = MultiCheckboxField("Applications", coerce=int, validate_choice=False)
    # How many decisions the officer saw when pressing the button: a count that changed
    # meanwhile (another officer decided) is refused rather than releasing unseen decisions.
    expected_count = HiddenField()
    # "1" once the officer confirmed releasing while the call is open or its review runs.
    confirm_early = HiddenField()


class AmendmentForm(BaseForm):
    amount = MoneyField("New amount (USD)", validators=[InputRequired("Give the amount (the current one to keep it).")])
    end_on = DateField("New end date", validators=[DataRequired("Give the end date (the current one to keep it).")])
    reason = TextAreaField("Reason", validators=[DataRequired("Give the reason for the amendment."),
                                                 Length(max=5000)], render_kw={"rows": 3},
                           description="Kept in the award's history; the grantees are e-mailed it.")


class MilestoneForm(BaseForm):
    name = StringField("Milestone", validators=[DataRequired("Name the milestone."), Length(max=200)])
    due_on = DateField("Due on", validators=[DataRequired("Give the due date.")])
    payment = MoneyField("Payment (USD)", validators=[Optional()], description="Leave empty for no payment.")


class AcceptAwardForm(BaseForm):
    confirm_terms = BooleanField("I have read the award's terms and accept them on behalf of the applicants",
                                 validators=[DataRequired("Tick the box to confirm the terms.")])


class DeclineAwardForm(BaseForm):
    reason = TextAreaField("Why do you decline the award?",
                           validators=[DataRequired("Tell the funder why you decline the award."), Length(max=5000)],
                           render_kw={"rows": 3})
