"""Forms of the applications domain. Editing forms carry the version they were built from."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from grants.accounts.enums import OrganisationKind
from grants.applications.enums import BudgetCategory, CollaboratorRole
from grants.core.forms import BaseForm, MoneyField, OneFile

def CATEGORY_CHOICES():  # noqa: N802 - called per form, so the labels are in the reader's language
    return [SelectChoice(c.value, c.label) for c in BudgetCategory]


def ROLE_CHOICES():  # noqa: N802 - called per form, so the labels are in the reader's language
    return [SelectChoice(r.value, r.label) for r in CollaboratorRole]


def _kind_choices():
    # Per form, so the kinds' names are in the reader's language.
    return [SelectChoice(kind.value, kind.label) for kind in OrganisationKind]


class VersionedForm(BaseForm):
    # The application's version when the page was built; a save from an older one is refused.
    version = HiddenField()


class StartApplicationForm(BaseForm):
    title = StringField(_l("Working title of the project"), validators=[DataRequired(_l("Give a working title.")),
                                                                        Length(max=250)])


class OverviewForm(VersionedForm):
    title = StringField(_l("Project title"), validators=[DataRequired(_l("Give the project a title.")), Length(max=250)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=5000)], render_kw={"rows": 6},
                            description=_l("A plain-language summary of the project and the community it serves."))


class AnswersForm(VersionedForm):
    """Its answer fields are added per call question by the view (answer_<question id>)."""


class PartnerContactMixin:
    """The partner's contact: one of the organisation's people (whose account signs off), or a
    name and address typed for someone without an account here."""

    contact_user_id = SelectField(_l("Contact person: one of the organisation's people"), coerce=int,
                                  validate_choice=False, validators=[Optional()],
                                  description=_l("Their account signs off on the partnership and its budget share. "
                                                 "If the contact is not in the list, type their name and e-mail below."))
    contact_name = StringField(_l("Contact person's name"), validators=[Optional(), Length(max=200)],
                               description=_l("Only if the contact is not in the list above."))
    contact_email = EmailField(_l("Contact's e-mail"), validators=[
        Optional(), Email(_l("Give a valid e-mail address.")), Length(max=254)],
        description=_l("This person confirms the partnership and its budget share (sign-off)."))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.contact_user_id.data:
            if not (self.contact_name.data or "").strip():
                self.contact_name.errors.append(_("Choose the partner's contact from the list, or type their name."))
                ok = False
            if not (self.contact_email.data or "").strip():
                self.contact_email.errors.append(_("Give the contact's e-mail address."))
                ok = False
        return ok


class PartnerForm(PartnerContactMixin, VersionedForm):
    organisation_choice = RadioField(
        _l("Is the partner organisation already registered here?"),
        choices=[SelectChoice("existing", _l("Yes, choose it from the list")),
                 SelectChoice("new", _l("No, add it (an administrator will confirm it)"))],
        default="existing")
    organisation_id = SelectField(_l("Registered organisation"), coerce=int, validate_choice=False,
                                  validators=[Optional()])
    name = StringField(_l("New organisation's name"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("New organisation's kind"), choices=_kind_choices, default="community_nonprofit")
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    region = StringField(_l("State or region"), validators=[Optional(), Length(max=120)])
    role_in_project = TextAreaField(_l("Role in the project"), validators=[Length(max=3000)], render_kw={"rows": 3})


class PartnerEditForm(PartnerContactMixin, VersionedForm):
    role_in_project = PartnerForm.role_in_project


class BudgetLineForm(VersionedForm):
    category = SelectField(_l("Category"), choices=CATEGORY_CHOICES)
    description = StringField(_l("Description"), validators=[DataRequired(_l("Describe the cost.")), Length(max=300)])
    # InputRequired, not DataRequired: the latter would replace the parse error with its own.
    amount = MoneyField(_l("Amount (USD)"), validators=[InputRequired(_l("Enter the amount."))])
    partner_id = SelectField(_l("Subaward to"), coerce=int, validate_choice=False,
                             description=_l("Leave as “Lead organisation” for the lead's own costs."))


class DocumentUploadForm(VersionedForm):
    partner_id = IntegerField(validators=[Optional()])
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload.")), OneFile()])


class InviteForm(BaseForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Give the e-mail address.")),
                                                         Email(_l("Give a valid e-mail address.")), Length(max=254)],
                       description=_l("People of the lead or a partner organisation can accept."))
    # Viewer first: the least access unless the lead chooses to give more.
    role = RadioField(_l("Access"), choices=ROLE_CHOICES, default="viewer")


class ScreeningForm(BaseForm):
    decision = RadioField("Screening decision", choices=[
        SelectChoice("eligible", "Eligible: send it to review"),
        SelectChoice("screened_out", "Screen it out")], validators=[DataRequired("Choose a decision.")])
    reason = TextAreaField("Reason (the applicant sees it)", validators=[Length(max=3000)], render_kw={"rows": 3})


class LoiScreeningForm(BaseForm):
    """The officer's screening of one letter of intent (internal until released)."""

    outcome = RadioField("Screening", choices=[SelectChoice("invite", "Invite to a full proposal"),
                                               SelectChoice("decline", "Decline")],
                         validators=[DataRequired("Choose whether to invite or decline.")])
    note = TextAreaField("Screening note (internal)", validators=[Optional(), Length(max=3000)],
                         render_kw={"rows": 2})


class LoiReleaseForm(BaseForm):
    # How many screenings the officer saw waiting: a release is refused if that changed since.
    expected_count = IntegerField(validators=[Optional()])
