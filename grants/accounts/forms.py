"""Forms of the accounts domain."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from grants.core.forms import BaseForm as FlaskForm, OneFile
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    EmailField,
    SelectChoice,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from grants.accounts.enums import OrganisationKind, Role
from grants.accounts.services import MIN_PASSWORD_LENGTH, registration_problems

KIND_CHOICES = [SelectChoice(kind.value, kind.label) for kind in OrganisationKind]
ROLE_CHOICES = [SelectChoice(role.value, role.label) for role in Role]


def _kind_choices():
    # Per form, so the kinds' names are in the reader's language (registration is in Spanish too).
    return [SelectChoice(kind.value, kind.label) for kind in OrganisationKind]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class NewPasswordMixin:
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a new password.")),
                    Length(min=MIN_PASSWORD_LENGTH, max=200,
                           message=_l("Choose a password of %(min)s to 200 characters.", min=MIN_PASSWORD_LENGTH))],
        description=_l("At least %(min)s characters. A passphrase of a few words works well.", min=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(_l("Type the new password again.")),
                                        EqualTo("password", _l("The two passwords differ. Type your password "
                                                               "again in both password fields."))],
                            render_kw={"autocomplete": "new-password"})


class OrganisationFieldsMixin:
    name = StringField(_l("Organisation name"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Kind of organisation"), choices=_kind_choices,
                       default=OrganisationKind.COMMUNITY_NONPROFIT.value)
    city = StringField(_l("City (optional)"), validators=[Optional(), Length(max=120)])
    region = StringField(_l("State or region (optional)"), validators=[Optional(), Length(max=120)])
    country = StringField(_l("Country (two-letter code)"), default="US", validators=[Optional(), Length(min=2, max=2)])
    ein = StringField(_l("EIN (US tax ID) (optional)"), validators=[Optional(), Length(max=20)])
    uei = StringField(_l("UEI (Unique Entity ID) (optional)"), validators=[Optional(), Length(max=12)])
    website = StringField(_l("Website (optional)"), validators=[Optional(), URL(), Length(max=300)])


class RegistrationForm(NewPasswordMixin, OrganisationFieldsMixin, FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Give your full name.")), Length(max=200)],
                            render_kw={"autocomplete": "name"})
    email = EmailField(_l("Work e-mail"), validators=[DataRequired(_l("Give your work e-mail address.")),
                                                      Email(_l("Give a valid e-mail address, like name@example.org.")),
                                                      Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = NewPasswordMixin.password
    organisation_choice = RadioField(
        _l("Your organisation"),
        choices=[SelectChoice("existing", _l("It is already registered")),
                 SelectChoice("new", _l("Propose a new organisation"))],
        default="existing",
    )
    organisation_id = SelectField(_l("Registered organisation"), coerce=int, validate_choice=False,
                                  validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # What the service would refuse (a taken e-mail, a weak password, a taken organisation
        # name) is reported now, with the form's own checks, not on a second submit.
        problems = registration_problems(
            email=self.email.data or "", password=self.password.data or "",
            new_organisation_name=self.name.data if self.organisation_choice.data == "new" else None)
        for name, message in problems.items():
            if not self[name].errors:
                self[name].errors.append(message)
                ok = False
        if self.organisation_choice.data == "existing" and not self.organisation_id.data:
            self.organisation_id.errors.append(_("Choose your organisation, or propose a new one."))
            ok = False
        if self.organisation_choice.data == "new" and not (self.name.data or "").strip():
            self.name.errors.append(_("Give the name of the organisation you propose."))
            ok = False
        return ok


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email"})


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})


class ActionForm(FlaskForm):
    """A button that changes something: carries only the CSRF token."""


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])


class UserForm(FlaskForm):
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    organisation_id = SelectField("Organisation", coerce=int)
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES)


class NewUserForm(UserForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)],
                             description="Tell the user to change it after the first login.")


class OrganisationForm(OrganisationFieldsMixin, FlaskForm):
    name = StringField("Organisation name", validators=[DataRequired(), Length(max=200)])


class OrganisationDocumentForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)],
                        description="For example: IRS determination letter, state registration.")
    file = FileField("File", validators=[FileRequired("Choose a file to upload."), OneFile()],
                     description="PDF, DOCX, XLSX, CSV, PNG or JPEG.")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField("Action", validators=[Optional(), Length(max=80)])
    actor = StringField("Actor e-mail", validators=[Optional(), Length(max=254)])
    object_type = StringField("Object type", validators=[Optional(), Length(max=60)])
    object_id = StringField("Object id", validators=[Optional(), Length(max=60)])
