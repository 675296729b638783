"""Forms of milestone reports, the officer's decision on them, and payments."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from grants.accounts.forms import MultiCheckboxField
from grants.applications.enums import BudgetCategory
from grants.awards.reporting import MAX_METRIC_VALUE, NARRATIVE_LIMIT
from grants.core.forms import BaseForm, MoneyField, NumberRange

WHOLE_NUMBER = "Enter a whole number, 0 or more (for example 250)."


class WholeNumberField(IntegerField):
    """A count typed as digits; anything else gets a message people can act on."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip().replace(",", "")
        if not text.isdigit():
            self.data = None
            raise ValueError(WHOLE_NUMBER)
        self.data = int(text)


class ReportForm(BaseForm):
    """The grantee's report; the view adds metric_<id> per outcome metric of the call."""

    # A fingerprint of the report the page was built from: a save from an older one is refused.
    basis = HiddenField()
    narrative = TextAreaField(
        "Narrative", validators=[Length(max=NARRATIVE_LIMIT)], render_kw={"rows": 10},
        description="What the partnership did for this milestone, what came of it, and what changed from the plan.")
    remove_files = MultiCheckboxField("Leave these files out of this version", coerce=int, validate_choice=False)
    files = MultipleFileField("Add documents", description="")
    save = SubmitField("Save draft")
    submit_report = SubmitField("Submit the report")

    @property
    def is_submission(self) -> bool:
        return bool(self.submit_report.data)


def spending_field_name(category: BudgetCategory) -> str:
    return f"spending_{category.value}"


for _category in BudgetCategory:
    setattr(ReportForm, spending_field_name(_category), MoneyField(
        _category.label, validators=[Optional()], description="Spent to date, in dollars."))


def report_form_class(call) -> type[ReportForm]:
    """A ReportForm with one whole-number field per outcome metric of ``call``."""

    class Form(ReportForm):
        pass

    for metric in call.metrics:
        setattr(Form, f"metric_{metric.id}", WholeNumberField(
            f"{metric.name}" + (f" ({metric.unit})" if metric.unit else ""),
            validators=[Optional(), NumberRange(min=0, max=MAX_METRIC_VALUE, message=WHOLE_NUMBER)],
            render_kw={"inputmode": "numeric", "min": 0},
            description="To date: the total since the award started, not only since the last report."))
    return Form


# The review page shows both forms: distinct ids keep each label on its own box (both post "comments").
class DecisionForm(BaseForm):
    comments = TextAreaField("Comments to the grantee", validators=[Length(max=10_000)], render_kw={"rows": 5},
                             id="accept-comments")


class RevisionForm(BaseForm):
    comments = TextAreaField(
        "What needs to change", validators=[InputRequired("Say what needs to change: the grantee sees these comments."),
                                            Length(max=10_000)],
        render_kw={"rows": 5}, description="The grantee sees these comments with the report.", id="revision-comments")


class PaidForm(BaseForm):
    paid_on = DateField("Paid on", validators=[InputRequired("Give the date the payment was made.")],
                        description="The day the money went out, in the call's time zone.")
    # Where to go back to: the page the button was on.
    back = HiddenField()
