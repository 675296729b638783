"""Forms of the applications domain. Editing forms carry the version they were built from."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, IntegerField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from grants.accounts.forms import KIND_CHOICES
from grants.applications.enums import BudgetCategory, CollaboratorRole
from grants.core.forms import BaseForm, MoneyField, OneFile

CATEGORY_CHOICES = [SelectChoice(c.value, c.label) for c in BudgetCategory]
ROLE_CHOICES = [SelectChoice(r.value, r.label) for r in CollaboratorRole]


class VersionedForm(BaseForm):
    # The application's version when the page was built; a save from an older one is refused.
    version = HiddenField()


class StartApplicationForm(BaseForm):
    title = StringField("Working title of the project", validators=[DataRequired("Give a working title."),
                                                                    Length(max=250)])


class OverviewForm(VersionedForm):
    title = StringField("Project title", validators=[DataRequired("Give the project a title."), Length(max=250)])
    summary = TextAreaField("Summary", validators=[Length(max=5000)], render_kw={"rows": 6},
                            description="A plain-language summary of the project and the community it serves.")


class AnswersForm(VersionedForm):
    """Its answer fields are added per call question by the view (answer_<question id>)."""


class PartnerContactMixin:
    """The partner's contact: one of the organisation's people (whose account signs off), or a
    name and address typed for someone without an account here."""

    contact_user_id = SelectField("Contact person: one of the organisation's people", coerce=int,
                                  validate_choice=False, validators=[Optional()],
                                  description="Their account signs off on the partnership and its budget share. "
                                              "If the contact is not in the list, type their name and e-mail below.")
    contact_name = StringField("Contact person's name", validators=[Optional(), Length(max=200)],
                               description="Only if the contact is not in the list above.")
    contact_email = EmailField("Contact's e-mail", validators=[
        Optional(), Email("Give a valid e-mail address."), Length(max=254)],
        description="This person confirms the partnership and its budget share (sign-off).")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not self.contact_user_id.data:
            if not (self.contact_name.data or "").strip():
                self.contact_name.errors.append("Choose the partner's contact from the list, or type their name.")
                ok = False
            if not (self.contact_email.data or "").strip():
                self.contact_email.errors.append("Give the contact's e-mail address.")
                ok = False
        return ok


class PartnerForm(PartnerContactMixin, VersionedForm):
    organisation_choice = RadioField(
        "Is the partner organisation already registered here?",
        choices=[SelectChoice("existing", "Yes, choose it from the list"),
                 SelectChoice("new", "No, add it (an administrator will confirm it)")],
        default="existing")
    organisation_id = SelectField("Registered organisation", coerce=int, validate_choice=False,
                                  validators=[Optional()])
    name = StringField("New organisation's name", validators=[Optional(), Length(max=200)])
    kind = SelectField("New organisation's kind", choices=KIND_CHOICES, default="community_nonprofit")
    city = StringField("City", validators=[Optional(), Length(max=120)])
    region = StringField("State or region", validators=[Optional(), Length(max=120)])
    role_in_project = TextAreaField("Role in the project", validators=[Length(max=3000)], render_kw={"rows": 3})


class PartnerEditForm(PartnerContactMixin, VersionedForm):
    role_in_project = PartnerForm.role_in_project


class BudgetLineForm(VersionedForm):
    category = SelectField("Category", choices=CATEGORY_CHOICES)
    description = StringField("Description", validators=[DataRequired("Describe the cost."), Length(max=300)])
    # InputRequired, not DataRequired: the latter would replace the parse error with its own.
    amount = MoneyField("Amount (USD)", validators=[InputRequired("Enter the amount.")])
    partner_id = SelectField("Subaward to", coerce=int, validate_choice=False,
                             description="Leave as “Lead organisation” for the lead's own costs.")


class DocumentUploadForm(VersionedForm):
    partner_id = IntegerField(validators=[Optional()])
    file = FileField("File", validators=[FileRequired("Choose a file to upload."), OneFile()])


class InviteForm(BaseForm):
    email = EmailField("E-mail address", validators=[DataRequired("Give the e-mail address."),
                                                     Email("Give a valid e-mail address."), Length(max=254)],
                       description="People of the lead or a partner organisation can accept.")
    # Viewer first: the least access unless the lead chooses to give more.
    role = RadioField("Access", choices=ROLE_CHOICES, default="viewer")


class ScreeningForm(BaseForm):
    decision = RadioField("Screening decision", choices=[
        SelectChoice("eligible", "Eligible: send it to review"),
        SelectChoice("screened_out", "Screen it out")], validators=[DataRequired("Choose a decision.")])
    reason = TextAreaField("Reason (the applicant sees it)", validators=[Length(max=3000)], render_kw={"rows": 3})
