"""The base form (one place that turns a rejected CSRF token into a message on the form) and
fields every domain uses."""

from __future__ import annotations

import math

from flask import g, request
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms import validators
from wtforms.validators import StopValidation

from grants.core.money import format_money, parse_money

CSRF_MESSAGE = ("This form had expired, so nothing was saved. Your entries are kept below: "
                "check them and submit again.")


class BaseForm(FlaskForm):
    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if g.get("csrf_rejected"):
            # The global check already refused this POST; the view only re-renders.
            self.form_errors.append(CSRF_MESSAGE)
            return False
        if self.meta.csrf and "csrf_token" in self.errors:
            self.form_errors.append(CSRF_MESSAGE)
        return ok


class OneFile:
    """A file field that takes one file refuses a post with several: only the first would be
    kept, and the others dropped without a word."""

    message = "Choose one file: this form uploads a single file at a time."

    def __call__(self, form, field):
        if len([upload for upload in request.files.getlist(field.name) if upload.filename]) > 1:
            raise StopValidation(self.message)


class NumberRange(validators.NumberRange):
    """WTForms' NumberRange, for any whole number typed: its NaN check turns an integer past
    a float's range (400 nines) into an OverflowError, a 500. Such a number is out of range."""

    def __call__(self, form, field):
        try:
            return super().__call__(form, field)
        except OverflowError:
            typed, field.data = field.data, math.inf if field.data > 0 else -math.inf
            try:
                return super().__call__(form, field)
            finally:
                field.data = typed


class MoneyField(StringField):
    """An amount typed in dollars ("250,000", "$1,500.50"); ``data`` is whole cents or None.

    What was typed is shown again as typed when the form comes back with errors.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            self.data = parse_money(valuelist[0])  # its ValueError becomes the field's error

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_money(self.data, symbol=False, empty="")
