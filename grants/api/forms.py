from __future__ import annotations

from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from grants.accounts.forms import MultiCheckboxField
from grants.api.services import LIFETIMES_DAYS, SCOPES
from grants.core.forms import BaseForm


class TokenForm(BaseForm):
    name = StringField("Name", validators=[DataRequired("Name the token after what will use it."), Length(max=100)],
                       description="What will use it, for example: Power BI dashboard.")
    scopes = MultiCheckboxField("What it may read", choices=[SelectChoice(key, text) for key, text in SCOPES.items()],
                                validators=[DataRequired("Choose what the token may read.")])
    lifetime_days = SelectField("Lasts", coerce=int, default=90,
                                choices=[SelectChoice(days, f"{days} days") for days in LIFETIMES_DAYS])
