"""What a page's template asks about the forms it shows: whether one was refused (its title
then starts with "Error: ", as GOV.UK's error pattern asks, so a screen reader hears it first)."""

from __future__ import annotations

from jinja2 import pass_context
from wtforms import Form


@pass_context
def page_has_errors(context) -> bool:
    """Whether any form the view handed the template has an error on it or above it."""
    for value in context.get_all().values():
        if isinstance(value, Form) and (value.errors or getattr(value, "form_errors", None)):
            return True
    return False
