"""Two-stage calls: screening letters of intent, releasing the invitations and declines in one
go, and starting an invited lead's full proposal from its letter.

Every function changes objects and records audit events; none commits.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from grants.applications.enums import LOI_TRANSITIONS, ApplicationStage, ApplicationStatus, LoiOutcome
from grants.applications.models import Answer, Application, Partner
from grants.applications.services import people_to_tell
from grants.audit.services import record_event
from grants.calls.enums import QuestionStage
from grants.core.errors import DomainError, PermissionDenied
from grants.core.lifecycle import apply_transition
from grants.core.urls import external_url
from grants.extensions import db
from grants.notifications.services import queue_email

NOTHING_CHANGED = _l("Nothing was changed.")


def letters_of_intent(call) -> list[Application]:
    """The call's letters of intent past draft, in reference order."""
    return list(db.session.scalars(
        select(Application).where(Application.call_id == call.id, Application.stage == ApplicationStage.LOI,
                                  Application.status != ApplicationStatus.DRAFT)
        # The screening page shows each letter's lead, partners and answers: load them in three
        # statements, not three per letter.
        .options(joinedload(Application.lead_organisation), selectinload(Application.answers),
                 selectinload(Application.partners).joinedload(Partner.organisation))
        .order_by(Application.reference_number)))


def screen_loi(loi: Application, *, officer, outcome: LoiOutcome, note: str = "") -> None:
    """Record (or change, until released) the officer's screening of a submitted letter of
    intent: invite its lead to a full proposal, or decline. Nobody outside the funder is told
    until release_loi_decisions. Side effect: audit event ``loi.screened``."""
    if not loi.is_loi or loi.status is not ApplicationStatus.SUBMITTED:
        raise DomainError(_("Only a submitted letter of intent can be screened; this one is %(status)s.",
                            status=loi.status.label.lower()))
    loi.loi_outcome = outcome
    loi.screening_note = (note or "").strip()
    record_event("loi.screened", actor=officer, target=loi,
                 details={"outcome": outcome.value, "note": loi.screening_note})


def unreleased_screenings(call) -> list[Application]:
    return [loi for loi in letters_of_intent(call)
            if loi.status is ApplicationStatus.SUBMITTED and loi.loi_outcome is not None]


def release_loi_decisions(call, *, officer, expected_count: int | None = None,
                          now: datetime | None = None) -> list[Application]:
    """Release every screened, submitted letter of intent of ``call`` at once: an invited one
    becomes INVITED, a declined one DECLINED, and each one's people get the letter
    (templates/email/loi_invited.txt or loi_declined.txt) through the outbox.

    Refused (nothing changed): letters of intent are still being taken; nothing screened;
    ``expected_count`` (what the officer saw) differing from what is waiting.
    Side effects: the transitions' audit events, ``loi.released``, the letters.
    """
    if call.is_loi_open(now):
        raise DomainError(_("Letters of intent are still being taken; release the invitations after they close. "
                            "%(nothing)s", nothing=NOTHING_CHANGED))
    waiting = unreleased_screenings(call)
    if not waiting:
        raise DomainError(_("No screened letter of intent is waiting for release. %(nothing)s",
                            nothing=NOTHING_CHANGED))
    if expected_count is not None and expected_count != len(waiting):
        raise DomainError(_("%(count)s letters of intent are waiting for release now, not %(expected)s as when the "
                            "page was shown. Check them, then release again. %(nothing)s", count=len(waiting),
                            expected=expected_count, nothing=NOTHING_CHANGED))
    for loi in waiting:
        invited = loi.loi_outcome is LoiOutcome.INVITE
        apply_transition(loi, ApplicationStatus.INVITED if invited else ApplicationStatus.DECLINED, LOI_TRANSITIONS,
                         actor=officer, action="loi.invited" if invited else "loi.declined")
        _send_letter(loi, invited)
    record_event("loi.released", actor=officer, target=call, details={"applications": [a.id for a in waiting]})
    return waiting


def _send_letter(loi: Application, invited: bool) -> None:
    template = "loi_invited" if invited else "loi_declined"
    subject = (_l("Invitation to a full proposal: %(title)s", title=loi.title) if invited
               else _l("Your letter of intent %(reference)s", reference=loi.reference_number))
    for person in people_to_tell(loi):
        queue_email(recipient=person.email, recipient_user=person, kind=template, subject=subject, template=template,
                    user=person, application=loi, call=loi.call,
                    link=external_url("applications.application_detail", application_id=loi.id))


def start_full_proposal(loi: Application, *, owner, now: datetime | None = None) -> Application:
    """The invited lead's full proposal, started from its letter of intent: title, summary,
    the answers to questions both stages ask, and the partners (sign-offs are not carried:
    a partner signs off the full proposal's budget). Refused unless ``owner`` leads an
    invited letter with no full proposal yet, while the call takes full proposals."""
    from grants.applications.permissions import can_start_full_proposal, is_owner

    if not loi.is_loi or loi.status is not ApplicationStatus.INVITED:
        raise PermissionDenied(_("Only applicants invited after their letter of intent can start a full proposal."))
    if not is_owner(owner, loi):
        raise PermissionDenied(_("Only the lead who submitted the letter of intent can start its full proposal."))
    if loi.full_proposal is not None:
        raise DomainError(_("The full proposal for this letter of intent is already started."))
    if not can_start_full_proposal(owner, loi, now):
        raise DomainError(_("Full proposals to this call are not being taken now."))
    proposal = Application(call=loi.call, lead_organisation=loi.lead_organisation, owner=owner, title=loi.title,
                           summary=loi.summary, stage=ApplicationStage.FULL, loi=loi)
    shared = {q.id for q in loi.call.questions if q.stage is QuestionStage.BOTH}
    for answer in loi.answers:
        if answer.question_id in shared:
            proposal.answers.append(Answer(question_id=answer.question_id, text=answer.text))
    for partner in loi.partners:
        proposal.partners.append(Partner(organisation_id=partner.organisation_id, contact_name=partner.contact_name,
                                         contact_email=partner.contact_email,
                                         role_in_project=partner.role_in_project))
    db.session.add(proposal)
    db.session.flush()
    record_event("application.started", actor=owner, target=proposal,
                 details={"call_id": loi.call_id, "stage": "full", "loi_id": loi.id})
    return proposal
