"""Partnership check-ins: who answers, answering and declining, what the staff see of them.

Rules:
- A call asks for check-ins when it has check-in statements. Then, with each milestone
  report, every organisation of the partnership (the lead and each partner on the
  application) answers separately: a rating of each statement from 1 (strongly disagree) to
  5 (strongly agree) with an optional comment, and a partner says how much of its share has
  reached it so far. An organisation may decline to answer instead.
- An organisation answers while the award is active and the milestone's report is not
  accepted yet (upcoming, submitted, or returned for revision); until then it may change its
  answer. A report is complete only when every organisation has answered or declined: the
  officer cannot accept it before (grants.reports.services.accept_report).
- Flags for follow-up, on each organisation's latest answer to each statement: low when
  rated LOW_AT_MOST or less; falling when lower than the same organisation's answer before.
- Funds reaching partners: per partner, what the application budgeted for it (its subaward
  lines) against what it said in its latest check-in had reached it.

Every function changes objects and records audit events; none commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from grants.accounts.enums import OrganisationKind
from grants.accounts.models import Organisation
from grants.applications.models import Application, BudgetLine, Partner
from grants.audit.services import record_event
from grants.awards.enums import AwardStatus, MilestoneStatus
from grants.awards.models import Award, Milestone
from grants.calls.models import Call, CheckInStatement
from grants.checkins.enums import CheckInResponse
from grants.checkins.models import CheckIn, CheckInRating, FollowUpNote
from grants.checkins.permissions import can_answer_for
from grants.core.errors import DomainError, PermissionDenied, StaleEdit
from grants.core.types import utcnow
from grants.extensions import db

LOW_AT_MOST = 2
COMMENT_LIMIT = 2_000
NOTE_LIMIT = 5_000
MAX_FUNDS_CENTS = 10 ** 13
# Until the report is accepted, the partnership may still answer or change its answers.
OPEN_MILESTONE_STATUSES = (MilestoneStatus.UPCOMING, MilestoneStatus.SUBMITTED, MilestoneStatus.REVISION_REQUESTED)

STALE_CHECK_IN_MESSAGE = ("Someone else from your organisation changed this check-in after you opened it, so your "
                          "answers were not saved. Their answers are shown below; what you chose is kept in the form. "
                          "Save again to replace theirs.")


class CheckInIncomplete(DomainError):
    """Some statement has no rating. ``unrated``: the statements' ids."""

    status_code = 400

    def __init__(self, unrated: list[CheckInStatement]):
        super().__init__("Your answers were not saved. Rate every statement from 1 to 5 — not yet rated: "
                         + "; ".join(f"“{statement.text}”" for statement in unrated)
                         + ". Or choose “We decline to answer”.")
        self.unrated = [statement.id for statement in unrated]


@dataclass(frozen=True)
class Voice:
    """One organisation of the partnership that answers: the lead, or one partner."""

    organisation_id: int
    name: str
    partner: Partner | None = None

    @property
    def is_lead(self) -> bool:
        return self.partner is None

    @property
    def role(self) -> str:
        return "Lead" if self.is_lead else "Partner"


@dataclass
class Answer:
    ratings: dict[int, int | None] = field(default_factory=dict)  # statement id → 1..5
    comments: dict[int, str] = field(default_factory=dict)
    funds_received_cents: int | None = None


# --- who answers --------------------------------------------------------------------------------

def statements(award: Award) -> list[CheckInStatement]:
    return list(award.call.check_in_statements)


def is_asked(award: Award) -> bool:
    return bool(award.call.check_in_statements)


def voices(award: Award) -> list[Voice]:
    """The lead organisation, then each partner in the application's order."""
    application = award.application
    lead = application.lead_organisation
    return [Voice(lead.id, lead.name)] + [Voice(partner.organisation_id, partner.organisation.name, partner)
                                          for partner in application.partners]


def voice_of(user, award: Award) -> Voice | None:
    """The organisation ``user`` answers for on this award, or None."""
    return next((voice for voice in voices(award) if can_answer_for(user, award, voice.organisation_id)), None)


def is_open(milestone: Milestone) -> bool:
    return (milestone.award.status is AwardStatus.ACTIVE and milestone.status in OPEN_MILESTONE_STATUSES
            and is_asked(milestone.award))


def check_ins_of(milestone: Milestone) -> dict[int, CheckIn]:
    """The milestone's check-ins by organisation id."""
    rows = db.session.scalars(select(CheckIn).where(CheckIn.milestone_id == milestone.id)).all()
    return {check_in.organisation_id: check_in for check_in in rows}


def still_to_answer(milestone: Milestone) -> list[Voice]:
    """The organisations that have neither answered nor declined (none if the call asks no check-in)."""
    if not is_asked(milestone.award):
        return []
    done = check_ins_of(milestone)
    return [voice for voice in voices(milestone.award) if voice.organisation_id not in done]


@dataclass
class Summary:
    """What a report page says of the milestone's check-in to one user."""

    asked: bool
    voice: Voice | None  # the organisation the user answers for, if any
    mine: CheckIn | None  # that organisation's check-in
    waiting: list[Voice]  # organisations that have neither answered nor declined
    is_open: bool


def summary_for(milestone: Milestone, user) -> Summary:
    award = milestone.award
    if not is_asked(award):
        return Summary(False, None, None, [], False)
    voice = voice_of(user, award)
    done = check_ins_of(milestone)
    waiting = [v for v in voices(award) if v.organisation_id not in done]
    return Summary(True, voice, done.get(voice.organisation_id) if voice else None, waiting, is_open(milestone))


# --- answering ----------------------------------------------------------------------------------

def _lock_milestone(milestone: Milestone) -> None:
    # Like reporting's verbs: the report's decision and the check-ins move under one row lock.
    db.session.flush()
    db.session.refresh(milestone, attribute_names=["status"], with_for_update=True)


def _open_check_in(milestone: Milestone, user, expected_version: int | None) -> tuple[Voice, CheckIn | None]:
    _lock_milestone(milestone)
    award = milestone.award
    voice = voice_of(user, award)
    if voice is None:
        raise PermissionDenied("Only the people of the lead organisation and of each partner on this award's team "
                               "answer its partnership check-ins, each for their own organisation.")
    if not is_asked(award):
        raise DomainError("This call asks for no partnership check-in.")
    if not is_open(milestone):
        raise DomainError("This check-in is closed: answers are given until the milestone's report is accepted, "
                          "while the award is active. Nothing was saved.")
    existing = check_ins_of(milestone).get(voice.organisation_id)
    current = existing.version if existing is not None else 0
    if expected_version is not None and expected_version != current:
        raise StaleEdit(STALE_CHECK_IN_MESSAGE)
    return voice, existing


def _check_answer(award: Award, voice: Voice, answer: Answer) -> None:
    unrated = [s for s in statements(award) if answer.ratings.get(s.id) not in (1, 2, 3, 4, 5)]
    if unrated:
        raise CheckInIncomplete(unrated)
    if any(len(comment or "") > COMMENT_LIMIT for comment in answer.comments.values()):
        raise DomainError(f"A comment may be at most {COMMENT_LIMIT:,} characters long. Your answers were not saved.")
    funds = answer.funds_received_cents
    if funds is not None and (voice.is_lead or not 0 <= funds <= MAX_FUNDS_CENTS):
        raise DomainError("Give the funds received as an amount of zero or more dollars. Your answers were not saved.")


def answer_check_in(milestone: Milestone, *, user, answer: Answer, expected_version: int | None = None) -> CheckIn:
    """``user``'s organisation's answers to the milestone's check-in (replacing its earlier
    ones). ``expected_version``: the check-in's version the form was built from (0: none
    yet); a different one is a stale edit. Audited as ``check_in.answered``."""
    voice, check_in = _open_check_in(milestone, user, expected_version)
    award = milestone.award
    _check_answer(award, voice, answer)
    if check_in is None:
        check_in = CheckIn(milestone_id=milestone.id, award_id=award.id, organisation_id=voice.organisation_id,
                           partner_id=voice.partner.id if voice.partner else None)
        db.session.add(check_in)
    check_in.response = CheckInResponse.ANSWERED
    check_in.funds_received_cents = answer.funds_received_cents if not voice.is_lead else None
    check_in.answered_by_id, check_in.answered_at = user.id, utcnow()
    by_statement = {rating.statement_id: rating for rating in check_in.ratings}
    for statement in statements(award):
        rating = by_statement.get(statement.id)
        if rating is None:
            rating = CheckInRating(statement_id=statement.id)
            check_in.ratings.append(rating)
        rating.rating = answer.ratings[statement.id]
        rating.comment = (answer.comments.get(statement.id) or "").strip()
    db.session.flush()
    record_event("check_in.answered", actor=user, target=check_in,
                 details={"award_id": award.id, "milestone_id": milestone.id, "organisation": voice.name,
                          "ratings": {str(s.id): answer.ratings[s.id] for s in statements(award)},
                          "funds_received_cents": check_in.funds_received_cents})
    return check_in


def decline_check_in(milestone: Milestone, *, user, expected_version: int | None = None) -> CheckIn:
    """``user``'s organisation declines to answer this milestone's check-in (its earlier
    answers, if any, are withdrawn). Audited as ``check_in.declined``."""
    voice, check_in = _open_check_in(milestone, user, expected_version)
    award = milestone.award
    if check_in is None:
        check_in = CheckIn(milestone_id=milestone.id, award_id=award.id, organisation_id=voice.organisation_id,
                           partner_id=voice.partner.id if voice.partner else None)
        db.session.add(check_in)
    check_in.response = CheckInResponse.DECLINED
    check_in.funds_received_cents = None
    check_in.ratings.clear()
    check_in.answered_by_id, check_in.answered_at = user.id, utcnow()
    db.session.flush()
    record_event("check_in.declined", actor=user, target=check_in,
                 details={"award_id": award.id, "milestone_id": milestone.id, "organisation": voice.name})
    return check_in


# --- follow-up notes ----------------------------------------------------------------------------

def add_follow_up(award: Award, *, officer, note: str) -> FollowUpNote:
    """Staff's note of what they did about the partnership's check-ins. Audited."""
    note = (note or "").strip()
    if not note:
        raise DomainError("Write the follow-up: what you did or will do, and with whom.")
    if len(note) > NOTE_LIMIT:
        raise DomainError(f"A follow-up note may be at most {NOTE_LIMIT:,} characters long.")
    follow_up = FollowUpNote(award_id=award.id, note=note, written_by_id=officer.id, written_at=utcnow())
    db.session.add(follow_up)
    db.session.flush()
    record_event("award.check_in_follow_up", actor=officer, target=award,
                 details={"follow_up_id": follow_up.id, "note": note})
    return follow_up


def follow_ups(award: Award) -> list[FollowUpNote]:
    return db.session.scalars(select(FollowUpNote).where(FollowUpNote.award_id == award.id)
                              .order_by(FollowUpNote.written_at.desc(), FollowUpNote.id.desc())).all()


# --- what the staff see: one award ----------------------------------------------------------------

@dataclass
class Cell:
    """One organisation's answer to one statement at one milestone."""

    rating: int | None = None
    comment: str = ""
    declined: bool = False
    is_low: bool = False
    is_falling: bool = False


@dataclass(frozen=True)
class Flag:
    award_id: int
    organisation: str
    statement: str
    milestone: str
    rating: int
    previous: int | None  # set when the rating fell

    @property
    def reason(self) -> str:
        if self.rating > LOW_AT_MOST:
            return f"fell from {self.previous} to {self.rating}"
        return f"rated {self.rating} of 5" + (f", down from {self.previous}" if self.previous is not None else "")


@dataclass
class StatementTrend:
    statement: CheckInStatement
    rows: list[tuple[Voice, list[Cell]]]  # per organisation, one cell per milestone


@dataclass
class PartnerFunds:
    voice: Voice
    budgeted_cents: int
    received_cents: int | None  # None: not said yet
    as_of: str | None  # the milestone of the check-in that said it

    @property
    def received_percent(self) -> float | None:
        if self.received_cents is None or not self.budgeted_cents:
            return None
        return 100.0 * self.received_cents / self.budgeted_cents


@dataclass
class AwardHealth:
    milestones: list[Milestone]
    voices: list[Voice]
    trends: list[StatementTrend]
    statuses: dict[tuple[int, int], CheckInResponse | None]  # (milestone id, organisation id) → response
    flags: list[Flag]
    funds: list[PartnerFunds]


def _flag_series(cells: list[Cell]) -> tuple[Cell | None, int | None]:
    """Mark low and falling cells in one organisation's answers to one statement (in milestone
    order); return the latest answered cell and the rating before it."""
    latest, before = None, None
    for cell in cells:
        if cell.rating is None:
            continue
        cell.is_low = cell.rating <= LOW_AT_MOST
        cell.is_falling = latest is not None and cell.rating < latest.rating
        before, latest = (latest.rating if latest is not None else None), cell
    return latest, before


def award_health(award: Award) -> AwardHealth:
    """Every check-in of the award, statement by statement, with its flags and the funds
    that reached each partner. Staff only (it shows partners' answers)."""
    milestones = list(award.milestones)
    award_voices = voices(award)
    check_ins = db.session.scalars(select(CheckIn).where(CheckIn.award_id == award.id)).all()
    by_key = {(c.milestone_id, c.organisation_id): c for c in check_ins}
    statuses = {(m.id, v.organisation_id): (by_key[(m.id, v.organisation_id)].response
                                             if (m.id, v.organisation_id) in by_key else None)
                for m in milestones for v in award_voices}
    trends, flags = [], []
    for statement in statements(award):
        rows = []
        for voice in award_voices:
            cells = []
            for milestone in milestones:
                check_in = by_key.get((milestone.id, voice.organisation_id))
                rating = check_in.rating_for(statement.id) if check_in is not None else None
                cells.append(Cell(rating=rating.rating if rating else None, comment=rating.comment if rating else "",
                                  declined=check_in is not None and check_in.response is CheckInResponse.DECLINED))
            latest, before = _flag_series(cells)
            if latest is not None and (latest.is_low or latest.is_falling):
                milestone = milestones[cells.index(latest)]
                flags.append(Flag(award.id, voice.name, statement.text, milestone.name, latest.rating,
                                  before if latest.is_falling else None))
            rows.append((voice, cells))
        trends.append(StatementTrend(statement, rows))
    return AwardHealth(milestones=milestones, voices=award_voices, trends=trends, statuses=statuses, flags=flags,
                       funds=partner_funds(award, check_ins, milestones))


def partner_funds(award: Award, check_ins: list[CheckIn], milestones: list[Milestone]) -> list[PartnerFunds]:
    budgeted = defaultdict(int)
    for line in award.application.budget_lines:
        if line.partner_id is not None:
            budgeted[line.partner_id] += line.amount_cents
    order = {milestone.id: index for index, milestone in enumerate(milestones)}
    names = {milestone.id: milestone.name for milestone in milestones}
    latest: dict[int, CheckIn] = {}
    for check_in in check_ins:
        if check_in.partner_id is None or check_in.funds_received_cents is None:
            continue
        known = latest.get(check_in.partner_id)
        if known is None or order.get(check_in.milestone_id, -1) > order.get(known.milestone_id, -1):
            latest[check_in.partner_id] = check_in
    rows = []
    for voice in voices(award):
        if voice.is_lead:
            continue
        said = latest.get(voice.partner.id)
        rows.append(PartnerFunds(voice, budgeted[voice.partner.id], said.funds_received_cents if said else None,
                                 names.get(said.milestone_id) if said else None))
    return rows


# --- what the staff see: the portfolio -------------------------------------------------------------

@dataclass
class Distribution:
    statement_id: int
    text: str
    call_title: str
    counts: dict[int, int]  # rating → how many organisations' latest answers

    @property
    def answers(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        return sum(r * n for r, n in self.counts.items()) / self.answers if self.answers else None

    def percent(self, rating: int) -> float:
        return 100.0 * self.counts.get(rating, 0) / self.answers if self.answers else 0.0


@dataclass
class FlaggedAward:
    award_id: int
    reference: str
    title: str
    lead: str
    flags: list[Flag]


@dataclass
class PortfolioHealth:
    distributions: list[Distribution]
    flagged: list[FlaggedAward]
    promised_cents: int  # budgeted to community partners of the awards that reported any figure
    delivered_cents: int  # what those partners said reached them (their latest figures)
    partners_reporting: int
    partners_budgeted: int

    @property
    def delivered_percent(self) -> float | None:
        return 100.0 * self.delivered_cents / self.promised_cents if self.promised_cents else None


COUNTED_AWARDS = (AwardStatus.ACTIVE, AwardStatus.COMPLETED, AwardStatus.TERMINATED)


def portfolio_health(*, call_id: int | None = None) -> PortfolioHealth:
    """Across the awards (of ``call_id``, or all): per statement, how the organisations' latest
    answers are distributed; the awards with flags; the community partners' funds promised
    against delivered. Three grouped queries, whatever the number of awards."""
    scope = [Award.status.in_(COUNTED_AWARDS)] + ([Award.call_id == call_id] if call_id is not None else [])
    rows = db.session.execute(
        select(CheckIn.award_id, CheckIn.organisation_id, Organisation.name.label("organisation"),
               Milestone.name.label("milestone"), CheckInRating.statement_id, CheckInStatement.text,
               Call.title.label("call_title"), CheckInRating.rating)
        .join(CheckInRating, CheckInRating.check_in_id == CheckIn.id)
        .join(CheckInStatement, CheckInStatement.id == CheckInRating.statement_id)
        .join(Milestone, Milestone.id == CheckIn.milestone_id)
        .join(Award, Award.id == CheckIn.award_id)
        .join(Call, Call.id == Award.call_id)
        .join(Organisation, Organisation.id == CheckIn.organisation_id)
        .where(*scope)
        .order_by(CheckIn.award_id, CheckIn.organisation_id, CheckInRating.statement_id, Milestone.due_on,
                  Milestone.id)).all()
    series = defaultdict(list)
    statement_names = {}
    for row in rows:
        series[(row.award_id, row.organisation_id, row.statement_id)].append(row)
        statement_names[row.statement_id] = (row.text, row.call_title)
    counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    flags_by_award = defaultdict(list)
    for (award_id, _organisation_id, statement_id), answers in series.items():
        latest = answers[-1]
        counts[statement_id][latest.rating] += 1
        before = answers[-2].rating if len(answers) > 1 else None
        falling = before is not None and latest.rating < before
        if latest.rating <= LOW_AT_MOST or falling:
            flags_by_award[award_id].append(Flag(award_id, latest.organisation, latest.text, latest.milestone,
                                                 latest.rating, before if falling else None))
    distributions = [Distribution(statement_id, *statement_names[statement_id], dict(counts[statement_id]))
                     for statement_id in sorted(counts)]
    flagged = []
    if flags_by_award:
        awards = db.session.execute(
            select(Award.id, Application.reference_number, Application.title, Organisation.name)
            .join(Application, Application.id == Award.application_id)
            .join(Organisation, Organisation.id == Application.lead_organisation_id)
            .where(Award.id.in_(list(flags_by_award)))).all()
        flagged = [FlaggedAward(award_id, reference or f"award {award_id}", title, lead, flags_by_award[award_id])
                   for award_id, reference, title, lead in sorted(awards, key=lambda a: a[1] or "")]
    promised, delivered, reporting, budgeted = _community_funds(scope)
    return PortfolioHealth(distributions=distributions, flagged=flagged, promised_cents=promised,
                           delivered_cents=delivered, partners_reporting=reporting, partners_budgeted=budgeted)


def _community_funds(scope) -> tuple[int, int, int, int]:
    """(promised, delivered, partners reporting, partners budgeted) over community partners
    with a subaward on the counted awards. Promised counts only partners that reported a
    figure, so the two compare like with like."""
    community = [kind for kind in OrganisationKind if kind.is_community_partner]
    budget = db.session.execute(
        select(BudgetLine.partner_id, func.sum(BudgetLine.amount_cents))
        .join(Partner, Partner.id == BudgetLine.partner_id)
        .join(Organisation, Organisation.id == Partner.organisation_id)
        .join(Award, Award.application_id == BudgetLine.application_id)
        .where(*scope, Organisation.kind.in_(community))
        .group_by(BudgetLine.partner_id)).all()
    budgeted = {partner_id: int(total or 0) for partner_id, total in budget}
    latest = (select(CheckIn.partner_id, func.max(Milestone.due_on).label("due_on"))
              .join(Milestone, Milestone.id == CheckIn.milestone_id)
              .join(Award, Award.id == CheckIn.award_id)
              .where(*scope, CheckIn.funds_received_cents.is_not(None))
              .group_by(CheckIn.partner_id).subquery())
    said = db.session.execute(
        select(CheckIn.partner_id, func.max(CheckIn.funds_received_cents))
        .join(Milestone, Milestone.id == CheckIn.milestone_id)
        .join(latest, (latest.c.partner_id == CheckIn.partner_id) & (latest.c.due_on == Milestone.due_on))
        .where(CheckIn.funds_received_cents.is_not(None))
        .group_by(CheckIn.partner_id)).all()
    delivered = {partner_id: int(amount) for partner_id, amount in said if partner_id in budgeted}
    promised = sum(budgeted[partner_id] for partner_id in delivered)
    return promised, sum(delivered.values()), len(delivered), len(budgeted)
