"""Forms of milestone reports, the officer's decision on them, and payments."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants.accounts.forms import MultiCheckboxField
from grants.applications.enums import BudgetCategory
from grants.awards.enums import PaymentMethod, ShortfallChoice
from grants.awards.payments import REFERENCE_LIMIT
from grants.awards.targets import MAX_TARGET, REASON_LIMIT
from grants.core.forms import BaseForm, MoneyField, NumberRange
from grants.reports.services import MAX_METRIC_VALUE, NARRATIVE_LIMIT

WHOLE_NUMBER = _l("Enter a whole number, 0 or more (for example 250).")


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
        _l("Narrative"), validators=[Length(max=NARRATIVE_LIMIT)], render_kw={"rows": 10},
        description=_l("What the partnership did for this milestone, what came of it, and what changed from the plan."))
    remove_files = MultiCheckboxField(_l("Leave these files out of this version"), coerce=int, validate_choice=False)
    files = MultipleFileField(_l("Add documents"), description="")
    save = SubmitField(_l("Save draft"))
    submit_report = SubmitField(_l("Submit the report"))

    @property
    def is_submission(self) -> bool:
        return bool(self.submit_report.data)


def spending_field_name(category: BudgetCategory) -> str:
    return f"spending_{category.value}"


for _category in BudgetCategory:
    # The category's label in the reader's language, read when the form is rendered.
    setattr(ReportForm, spending_field_name(_category), MoneyField(
        LazyString(lambda category: category.label, _category), validators=[Optional()],
        description=_l("Spent to date, in dollars.")))


def report_form_class(call) -> type[ReportForm]:
    """A ReportForm with one whole-number field per outcome metric of ``call``."""

    return _with_metric_fields(ReportForm, call, "metric", minimum=0, maximum=MAX_METRIC_VALUE, message=WHOLE_NUMBER,
                               description=_("To date: the total since the award started, not only since the last "
                                             "report."))


def _with_metric_fields(base, call, prefix: str, *, minimum: int, maximum: int, message: str, description: str):
    """A subclass of ``base`` with a whole-number field <prefix>_<id> per outcome metric of ``call``."""

    class Form(base):
        pass

    for metric in call.metrics:
        setattr(Form, f"{prefix}_{metric.id}", WholeNumberField(
            f"{metric.name}" + (f" ({metric.unit})" if metric.unit else ""),
            validators=[Optional(), NumberRange(min=minimum, max=maximum, message=message)],
            render_kw={"inputmode": "numeric", "min": minimum}, description=description))
    return Form


def _member(enum_cls, value):
    """The member of ``enum_cls`` whose value was posted; None for anything else (a crafted post)."""
    try:
        return enum_cls(value)
    except ValueError:
        return None


# The review page shows both forms: distinct ids keep each label on its own box (both post "comments").
class DecisionForm(BaseForm):
    comments = TextAreaField("Comments to the grantee", validators=[Length(max=10_000)], render_kw={"rows": 5},
                             id="accept-comments")
    # Asked only where the report falls short of the milestone's targets (grants.awards.targets).
    shortfall_choice = RadioField("The report falls short of the targets. The payment of this milestone:", choices=[
        SelectChoice(ShortfallChoice.RELEASE.value, "Release it all the same, for the reason below"),
        SelectChoice(ShortfallChoice.HOLD.value, "Hold it pending a revised plan from the grantee")],
        validators=[Optional()])
    shortfall_reason = TextAreaField(
        "Reason", validators=[Length(max=REASON_LIMIT)], render_kw={"rows": 3},
        description="Why you release it, or what the revised plan must address. The grantee reads it.")

    @property
    def chosen_shortfall(self) -> ShortfallChoice | None:
        return _member(ShortfallChoice, self.shortfall_choice.data)


class TargetsForm(BaseForm):
    """The milestone's outcome targets; the view adds target_<id> per outcome metric of the call."""


def targets_form_class(call) -> type[TargetsForm]:
    """A TargetsForm with one whole-number field per outcome metric of ``call``."""
    return _with_metric_fields(TargetsForm, call, "target", minimum=1, maximum=MAX_TARGET,
                               message="Enter a whole number above zero, or leave it empty for no target.",
                               description="To date, by this milestone. Empty: no target.")


class ReturnPlanForm(BaseForm):
    comments = TextAreaField("What the plan must change", validators=[
        DataRequired("Say what the plan must change: the grantee reads it."), Length(max=REASON_LIMIT)],
        render_kw={"rows": 3}, id="return-plan-comments")
    back = HiddenField()


class RevisedPlanForm(BaseForm):
    plan = TextAreaField(_l("Your revised plan"), validators=[
        DataRequired(_l("Write the revised plan: how the partnership will reach the targets.")),
        Length(max=REASON_LIMIT)], render_kw={"rows": 6},
        description=_l("What you will change to reach the targets, and by when. The program officer reads it "
                       "before releasing the payment."))


class RevisionForm(BaseForm):
    comments = TextAreaField(
        "What needs to change", validators=[InputRequired("Say what needs to change: the grantee sees these comments."),
                                            Length(max=10_000)],
        render_kw={"rows": 5}, description="The grantee sees these comments with the report.", id="revision-comments")


CONFIRM = "I confirm"
METHOD_CHOICES = [SelectChoice("", "Choose…")] + [SelectChoice(m.value, m.label) for m in PaymentMethod]


class ReleasePaymentForm(BaseForm):
    method = SelectField("Paid by", choices=METHOD_CHOICES,
                         validators=[DataRequired("Choose how the payment is made.")])
    confirm = BooleanField(CONFIRM, validators=[DataRequired("Tick “I confirm” to release the payment.")])
    back = HiddenField()

    @property
    def chosen_method(self) -> PaymentMethod | None:
        return _member(PaymentMethod, self.method.data)


class PaidForm(BaseForm):
    paid_on = DateField("Paid on", validators=[InputRequired("Give the date the payment was made.")],
                        description="The day the money went out, in the call's time zone.")
    reference = StringField("Reference", validators=[
        DataRequired("Give the payment's reference (the transfer's or check's number)."),
        Length(max=REFERENCE_LIMIT)])
    confirm = BooleanField(CONFIRM, validators=[DataRequired("Tick “I confirm” to record the payment as paid.")])
    # Where to go back to: the page the button was on.
    back = HiddenField()
