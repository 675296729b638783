"""The check-in form: a rating and a comment per statement of the call; a partner also says
what has reached it of its share."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from grants.checkins.enums import RATING_LABELS
from grants.checkins.services import COMMENT_LIMIT, NOTE_LIMIT, Answer
from grants.core.forms import BaseForm, MoneyField

RATING_CHOICES = [SelectChoice(value, f"{value} — {label}") for value, label in RATING_LABELS.items()]


class CheckInForm(BaseForm):
    # The check-in's version the page showed (0: none yet): a save over someone else's is refused.
    version = HiddenField()
    answer = SubmitField("Send our answers")
    decline = SubmitField("We decline to answer")

    statements: list = []
    asks_funds = False

    @property
    def is_decline(self) -> bool:
        return bool(self.decline.data)

    def expected_version(self) -> int | None:
        text = (self.version.data or "").strip()
        return int(text) if text.isascii() and text.isdigit() else None

    def to_answer(self) -> Answer:
        return Answer(ratings={s.id: self[f"rating_{s.id}"].data for s in self.statements},
                      comments={s.id: self[f"comment_{s.id}"].data or "" for s in self.statements},
                      funds_received_cents=self.funds_received.data if self.asks_funds else None)

    def fill(self, check_in) -> None:
        self.version.data = str(check_in.version if check_in is not None else 0)
        if check_in is None:
            return
        for statement in self.statements:
            rating = check_in.rating_for(statement.id)
            self[f"rating_{statement.id}"].data = rating.rating if rating else None
            self[f"comment_{statement.id}"].data = rating.comment if rating else ""
        if self.asks_funds:
            self.funds_received.data = check_in.funds_received_cents

    def mark_unrated(self, statement_ids: list[int]) -> None:
        for statement_id in statement_ids:
            self[f"rating_{statement_id}"].errors.append("Choose a rating from 1 to 5.")


def check_in_form_class(statements, *, asks_funds: bool) -> type[CheckInForm]:
    class Form(CheckInForm):
        pass

    Form.statements, Form.asks_funds = list(statements), asks_funds
    for number, statement in enumerate(statements, 1):
        # Optional here: the service names every unrated statement at once.
        setattr(Form, f"rating_{statement.id}", RadioField(
            f"{number}. {statement.text}", choices=RATING_CHOICES, coerce=int, validators=[Optional()]))
        setattr(Form, f"comment_{statement.id}", TextAreaField(
            f"Comment on statement {number} (optional)", validators=[Optional(), Length(max=COMMENT_LIMIT)],
            render_kw={"rows": 2}))
    if asks_funds:
        Form.funds_received = MoneyField(
            "Funds your organisation has received for this project so far (USD)", validators=[Optional()],
            description="The total to date from the lead organisation, not only since the last report. "
                        "Leave it empty if you would rather not say.")
    return Form


class FollowUpForm(BaseForm):
    note = TextAreaField("Follow-up note", validators=[Length(max=NOTE_LIMIT)], render_kw={"rows": 3},
                         description="What you did or will do about these check-ins, and with whom. Kept on the "
                                     "award and in the audit log; grantees do not see it.")
