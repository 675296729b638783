"""The review form: built per call from its rubric (a score and a comment per criterion)."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import Length, Optional

from grants.core.forms import BaseForm
from grants.reviews.enums import Confidence, Recommendation
from grants.reviews.scoring import ReviewEntry

RECOMMENDATION_CHOICES = [SelectChoice(r.value, r.label) for r in Recommendation]
CONFIDENCE_CHOICES = [SelectChoice(c.value, c.label) for c in Confidence]


class ReviewForm(BaseForm):
    """Its score_<criterion id> and comment_<criterion id> fields are added by review_form_class."""

    # The review's version when the page was built (0: no draft yet); an older one is refused.
    version = HiddenField()
    strengths = TextAreaField("Strengths", validators=[Length(max=10000)], render_kw={"rows": 6},
                              description="What the application does well, across the criteria.")
    weaknesses = TextAreaField("Weaknesses", validators=[Length(max=10000)], render_kw={"rows": 6},
                               description="What would need to change, across the criteria.")
    # Optional here: a draft may leave it open; submission requires it (scoring.submit_review).
    recommendation = RadioField("Recommendation", choices=RECOMMENDATION_CHOICES, validators=[Optional()])
    # Likewise optional on a draft, required to submit.
    confidence = RadioField("How confident are you in this review?", choices=CONFIDENCE_CHOICES,
                            validators=[Optional()],
                            description="Your expertise in this kind of project, and how well the application let "
                                        "you judge it. The ranking shows a mean weighted by confidence beside the "
                                        "plain mean.")

    criteria: list = []

    def entry(self) -> ReviewEntry:
        return ReviewEntry(
            scores={c.id: self[f"score_{c.id}"].data for c in self.criteria},
            comments={c.id: self[f"comment_{c.id}"].data or "" for c in self.criteria},
            strengths=self.strengths.data or "", weaknesses=self.weaknesses.data or "",
            # Optional() lets blanks past the choice check: "   " is no answer, not an unknown one.
            recommendation=Recommendation(self.recommendation.data) if _answer(self.recommendation) else None,
            confidence=Confidence(self.confidence.data) if _answer(self.confidence) else None)

    def mark_incomplete(self, unscored: list[str], needs_recommendation: bool, needs_confidence: bool = False) -> None:
        """Put what a refused submission lacked on the fields themselves, not only in the message
        at the top of a long form."""
        for criterion in self.criteria:
            if criterion.name in unscored:
                self[f"score_{criterion.id}"].errors.append(f"Give {criterion.name} a score to submit the review.")
        if needs_recommendation:
            self.recommendation.errors.append("Choose a recommendation to submit the review.")
        if needs_confidence:
            self.confidence.errors.append("Say how confident you are to submit the review.")

    def fill(self, review) -> None:
        """Show the saved ``review`` (None: an empty form for the first draft)."""
        self.version.data = review.version if review is not None else 0
        if review is None:
            return
        for criterion in self.criteria:
            score = review.score_for(criterion.id)
            self[f"score_{criterion.id}"].data = score.score if score is not None else None
            self[f"comment_{criterion.id}"].data = score.comment if score is not None else ""
        self.strengths.data = review.strengths
        self.weaknesses.data = review.weaknesses
        self.recommendation.data = review.recommendation.value if review.recommendation else None
        self.confidence.data = review.confidence.value if review.confidence else None


def review_form_class(criteria) -> type[ReviewForm]:
    """A ReviewForm with a score (radio buttons over the scale) and a comment per criterion."""

    class Form(ReviewForm):
        pass

    Form.criteria = list(criteria)
    for criterion in criteria:
        setattr(Form, f"score_{criterion.id}", RadioField(
            f"Score for {criterion.name}", coerce=int, validators=[Optional()],
            choices=[SelectChoice(value, str(value)) for value in range(criterion.scale_min, criterion.scale_max + 1)]))
        setattr(Form, f"comment_{criterion.id}", TextAreaField(
            f"Comment on {criterion.name}", validators=[Length(max=5000)], render_kw={"rows": 4}))
    return Form


def _answer(field) -> bool:
    return bool((field.data or "").strip())
