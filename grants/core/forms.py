"""The base form: one place that turns a rejected CSRF token into a message on the form."""

from __future__ import annotations

from flask import g
from flask_wtf import FlaskForm

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
