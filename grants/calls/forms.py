"""Forms of the calls domain: the call's details, its partnership rules, and one form per
kind of item (question, document, rubric criterion, metric, milestone)."""

from __future__ import annotations

from functools import lru_cache

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    StringField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from flask_babel import lazy_gettext

from grants.accounts.enums import OrganisationKind
from grants.accounts.forms import KIND_CHOICES, MultiCheckboxField
from grants.calls.enums import DocumentScope, QuestionStage
from grants.core.forms import BaseForm as FlaskForm, NumberRange
from grants.core.forms import MoneyField
from grants.core.timezones import COMMON_ZONES, all_zone_names, local_instant

MARKDOWN_HELP = ("Formatting: a blank line between paragraphs, **bold**, *italic*, lists with “- ” or “1. ”, "
                 "headings with “## ”, links as [text](https://…).")


@lru_cache(maxsize=1)
def zone_choices() -> list[SelectChoice]:
    common = [SelectChoice(name, f"{label} ({name})", optgroup="Common in the United States")
              for name, label in COMMON_ZONES.items()]
    others = [SelectChoice(name, name.replace("_", " "), optgroup="All time zones")
              for name in all_zone_names() if name not in COMMON_ZONES]
    return common + others


class CallForm(FlaskForm):
    """The call's own details. Dates are typed as the call's clocks show them; ``validate``
    turns them into instants (``opens_at``, ``closes_at``) in ``zone_name`` or the chosen zone."""

    version = HiddenField()
    title = StringField("Title", validators=[DataRequired("Give the call a title."), Length(max=200)])
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=600)], render_kw={"rows": 2},
                            description="One or two sentences, shown in the list of calls.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=20000)],
                                render_kw={"rows": 10}, description=MARKDOWN_HELP)
    eligibility = TextAreaField("Eligibility", validators=[Optional(), Length(max=10000)],
                                render_kw={"rows": 5},
                                description="Who may apply, in words. The partnership rules are set separately. "
                                            + MARKDOWN_HELP)
    # The same texts in Spanish, for applicants who read the call in Spanish; left empty,
    # they see the English.
    title_es = StringField("Title in Spanish (optional)", validators=[Optional(), Length(max=200)])
    summary_es = TextAreaField("Summary in Spanish (optional)", validators=[Optional(), Length(max=600)],
                               render_kw={"rows": 2})
    description_es = TextAreaField("Description in Spanish (optional)", validators=[Optional(), Length(max=20000)],
                                   render_kw={"rows": 6}, description=MARKDOWN_HELP)
    eligibility_es = TextAreaField("Eligibility in Spanish (optional)", validators=[Optional(), Length(max=10000)],
                                   render_kw={"rows": 4}, description=MARKDOWN_HELP)
    time_zone = SelectField("Time zone", choices=zone_choices,
                            description="Opening and closing times are in this zone, and applicants see them in it.")
    opens_on = DateField("Opening date", validators=[Optional()])
    opens_time = TimeField("Opening time", validators=[Optional()])
    closes_on = DateField("Closing date", validators=[Optional()])
    closes_time = TimeField("Closing time", validators=[Optional()])
    loi_closes_on = DateField("Letters of intent close on (optional)", validators=[Optional()],
                              description="Makes the call two-stage: applicants first send a short letter of "
                                          "intent; only those you invite submit a full proposal by the closing "
                                          "date. Leave empty for a one-stage call.")
    loi_closes_time = TimeField("Letters of intent close at", validators=[Optional()])
    award_floor = MoneyField("Award floor (US$)", validators=[Optional()],
                             description="The smallest award an application may ask for.")
    award_ceiling = MoneyField("Award ceiling (US$)", validators=[Optional()],
                               description="The largest award an application may ask for.")
    total_funds = MoneyField("Total funds (US$)", validators=[Optional()],
                             description="All awards of this call together.")
    expected_awards = IntegerField("Expected number of awards",
                                   validators=[Optional(), NumberRange(min=1, max=10000)])

    zone_name: str | None = None  # set by the view when the zone is fixed (no time_zone field)
    opens_at = None
    closes_at = None
    loi_closes_at = None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        zone = self.time_zone.data if self.time_zone is not None else self.zone_name
        if self.time_zone is not None and self.time_zone.errors:
            zone = None
        for day, at, target in ((self.opens_on, self.opens_time, "opens_at"),
                                (self.closes_on, self.closes_time, "closes_at"),
                                (self.loi_closes_on, self.loi_closes_time, "loi_closes_at")):
            if day is None:  # fixed by the view: the call has opened
                continue
            if day.errors or at.errors:
                continue
            if (day.data is None) != (at.data is None):
                (at if at.data is None else day).errors.append("Give both the date and the time, or neither.")
                ok = False
            elif day.data is not None and zone:
                try:
                    setattr(self, target, local_instant(day.data, at.data, zone))
                except ValueError as exc:
                    at.errors.append(str(exc))
                    ok = False
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            self.closes_on.errors.append("The call must close after it opens.")
            ok = False
        if self.loi_closes_at and ((self.opens_at and self.loi_closes_at <= self.opens_at)
                                   or (self.closes_at and self.loi_closes_at >= self.closes_at)):
            self.loi_closes_on.errors.append("Letters of intent must close after the call opens and before full "
                                             "proposals close.")
            ok = False
        floor, ceiling, total = self.award_floor.data, self.award_ceiling.data, self.total_funds.data
        if floor is not None and ceiling is not None and floor > ceiling:
            self.award_floor.errors.append("The award floor cannot be above the award ceiling.")
            ok = False
        if ceiling is not None and total is not None and ceiling > total:
            self.award_ceiling.errors.append("The award ceiling cannot be above the total funds.")
            ok = False
        return ok



class PartnershipRulesForm(FlaskForm):
    version = HiddenField()
    lead_kinds = MultiCheckboxField("Who may lead an application", choices=KIND_CHOICES,
                                    description="Tick every kind of organisation that may be the lead applicant.")
    min_partners = IntegerField("Minimum number of partners", default=0,
                                validators=[InputRequired("Give a number; 0 if partners are optional."),
                                            NumberRange(min=0, max=50)])
    partner_kinds = MultiCheckboxField("Which partners count toward the minimum", choices=KIND_CHOICES,
                                       description="Other organisations may join as further partners.")
    min_community_share_percent = IntegerField(
        "Minimum share of the budget for community partners (%)", default=0,
        validators=[InputRequired("Give a percentage; 0 for no minimum."), NumberRange(min=0, max=100)],
        description="Of the budget an application requests. Community partners are every kind of organisation "
                    "except member institutions; 0 for no minimum.")
    requires_partner_signoff = BooleanField("Every partner must sign off on the application before it is submitted")
    loi_min_partners = IntegerField("Two-stage calls: named partners a letter of intent needs", default=0,
                                    validators=[Optional(), NumberRange(min=0, max=50)],
                                    description="Besides the lead. Budget and documents come with the full proposal.")


class ItemForm(FlaskForm):
    """A form for one kind of call item; ``service_fields`` gives what the services take."""

    FIELDS: tuple[str, ...] = ()

    @classmethod
    def data_from(cls, item) -> dict:
        return {name: getattr(getattr(item, name), "value", getattr(item, name)) for name in cls.FIELDS}

    def service_fields(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}


def _text(value):
    # A field left out of the post (not only left empty) is None: the column holds text.
    return "" if value is None else value


class QuestionForm(ItemForm):
    FIELDS = ("prompt", "help_text", "word_limit", "is_required", "stage")
    prompt = TextAreaField("Question", validators=[DataRequired("Write the question."), Length(max=2000)],
                           render_kw={"rows": 3})
    help_text = TextAreaField("Help for applicants", validators=[Optional(), Length(max=4000)], filters=[_text],
                              render_kw={"rows": 3},
                              description="What a good answer covers. Shown under the question.")
    word_limit = IntegerField("Word limit", validators=[Optional(), NumberRange(min=1, max=20000)],
                              description="Leave empty for no limit.")
    is_required = BooleanField("Applicants must answer this question", default=True)
    stage = SelectField("Asked in (two-stage calls)", default=QuestionStage.FULL.value,
                        choices=[SelectChoice(stage.value, stage.label) for stage in QuestionStage],
                        description="A one-stage call asks every question. In a two-stage call, an answer to a "
                                    "question asked in both is carried from the letter of intent to the full "
                                    "proposal.")


class DocumentForm(ItemForm):
    FIELDS = ("name", "help_text", "scope", "is_required")
    name = StringField("Document", validators=[DataRequired("Name the document."), Length(max=200)],
                       description="For example: Letter of commitment, Budget justification.")
    help_text = TextAreaField("Help for applicants", validators=[Optional(), Length(max=4000)], filters=[_text],
                              render_kw={"rows": 3})
    scope = RadioField("How many", default=DocumentScope.PER_APPLICATION.value, choices=[
        SelectChoice(DocumentScope.PER_APPLICATION.value, "One per application"),
        SelectChoice(DocumentScope.PER_PARTNER.value, "One from each partner (for example a letter of commitment)"),
    ])
    is_required = BooleanField("Applications must include it", default=True)

    def service_fields(self) -> dict:
        return {**super().service_fields(), "scope": DocumentScope(self.scope.data)}


class CriterionForm(ItemForm):
    FIELDS = ("name", "description", "weight", "scale_min", "scale_max", "anchors")
    name = StringField("Criterion", validators=[DataRequired("Name the criterion."), Length(max=200)],
                       description="For example: Strength of the partnership.")
    description = TextAreaField("What reviewers look for", validators=[Optional(), Length(max=4000)],
                                render_kw={"rows": 3})
    weight = IntegerField("Weight",
                          validators=[InputRequired("Give the criterion a weight."), NumberRange(min=1, max=1000)],
                          description="Relative to the other criteria: weights 30, 20 and 50 count 30%, 20% "
                                      "and 50% of the score.")
    scale_min = IntegerField("Lowest score", default=1, validators=[InputRequired(), NumberRange(min=0, max=100)])
    scale_max = IntegerField("Highest score", default=5, validators=[InputRequired(), NumberRange(min=1, max=100)])
    anchors = TextAreaField("What the scores mean", validators=[Optional(), Length(max=4000)],
                            render_kw={"rows": 3},
                            description="For example: 1 = not addressed; 3 = adequate; 5 = exemplary.")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.scale_max.data <= self.scale_min.data:
            self.scale_max.errors.append("The highest score must be above the lowest.")
            ok = False
        return ok


class MetricForm(ItemForm):
    FIELDS = ("name", "unit")
    name = StringField("Metric", validators=[DataRequired("Name the metric."), Length(max=200)],
                       description="For example: Community members reached.")
    unit = StringField("Unit", validators=[Optional(), Length(max=80)],
                       description="For example: people, sessions, organisations.")


class CheckInStatementForm(ItemForm):
    FIELDS = ("text",)
    text = StringField("Statement", validators=[DataRequired("Write the statement."), Length(max=300)],
                       description="The lead and each partner rate it from 1 (strongly disagree) to 5 (strongly "
                                   "agree) with each milestone report. For example: Decisions about the project "
                                   "are made jointly.")


class MilestoneForm(ItemForm):
    FIELDS = ("name", "offset_days", "payment_share_percent")
    name = StringField("Milestone", validators=[DataRequired("Name the milestone."), Length(max=200)],
                       description="For example: Six-month progress report.")
    offset_days = IntegerField("Due, in days after the award starts",
                               validators=[InputRequired(), NumberRange(min=0, max=3650)],
                               description="For example 182 for about six months; 0 for the start date.")
    payment_share_percent = IntegerField("Payment share (% of the award)",
                                         validators=[InputRequired(), NumberRange(min=0, max=100)],
                                         description="Paid once this milestone's report is accepted. The shares "
                                                     "of all milestones add up to 100%.")


class EligibilityForm(FlaskForm):
    """The questions of "check before you start": a GET form, nothing stored, so no CSRF."""

    class Meta:
        csrf = False

    amount = MoneyField(lazy_gettext("About how much would you ask for? (optional)"), validators=[Optional()],
                        description=lazy_gettext("In US dollars, for the whole project."))


def eligibility_form_class():
    """An EligibilityForm with one count per kind of partner organisation (built per request:
    the kinds' names are in the reader's language)."""

    class Form(EligibilityForm):
        pass

    Form.lead_kind = RadioField(lazy_gettext("What kind of organisation would lead the application?"),
                                validators=[Optional()],
                                choices=[SelectChoice(kind.value, kind.label) for kind in OrganisationKind])
    for kind in OrganisationKind:
        setattr(Form, f"partners_{kind.value}", IntegerField(
            kind.label, validators=[Optional(), NumberRange(min=0, max=50)], default=0,
            render_kw={"inputmode": "numeric", "min": 0, "max": 50}))
    return Form
