"""A realistic portfolio at any scale, written through the models with bulk inserts.

``flask --app wsgi bench seed --applications 10000`` fills an empty database (SQLite or
PostgreSQL) with: calls made through the call services (questions, documents, rubric,
metrics, milestones), lead and partner organisations, applicants, reviewers and an officer;
applications at every stage with answers, partners and budget lines; a panel per call with
submitted reviews and their criterion scores; released decisions, awards, milestones,
payments and milestone reports with outcome figures. One call stays open with drafts ready to
submit (the deadline rush, benchmarks/rush.py).

Rows go in with one multi-row INSERT per table and batch (``insert(Model)`` with a list of
rows), not one ORM object per row: 10,000 applications take about a minute, not hours. The
data is deterministic (a seeded random generator), so two runs at one scale are comparable.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, insert, select, update

from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role, UserStatus
from grants.accounts.models import Organisation, User, UserRole
from grants.accounts.services import hash_password
from grants.applications.enums import ApplicationStatus, BudgetCategory
from grants.applications.models import Answer, Application, BudgetLine, Partner, ReferenceCounter
from grants.awards.enums import AwardStatus, DecisionOutcome, MilestoneStatus, PaymentMethod, PaymentStatus, ReportOutcome
from grants.awards.models import Award, Decision, Milestone, MilestoneReport, Payment, ReportMetricValue
from grants.calls import services as calls
from grants.calls.enums import DocumentScope
from grants.calls.models import Call, CallDocument, CallQuestion, MilestoneTemplate, OutcomeMetric, RubricCriterion
from grants.core.types import utcnow
from grants.extensions import db
from grants.reviews.enums import AssignmentStatus, Confidence, PanelMemberStatus, Recommendation
from grants.reviews.models import CriterionScore, PanelMember, Review, ReviewAssignment, ReviewSettings

PASSWORD = "benchmark-password-2026"
DOMAIN = "bench.example"
ZONE = "America/Chicago"
BATCH = 2000
COMMUNITY_KINDS = [OrganisationKind.COMMUNITY_NONPROFIT, OrganisationKind.PUBLIC_HEALTH_AGENCY,
                   OrganisationKind.SOCIAL_SERVICE_AGENCY]
WORDS = ("community trust partners listening sessions residents messengers clinic health research results "
         "neighbourhood families shared governance steering group paid advisory board plain language survey "
         "outreach training navigators faith leaders barbers promotoras report back two-way communication").split()

CALL_ITEMS = [
    (CallQuestion, dict(prompt="Describe the community you will work with.", word_limit=750, is_required=True)),
    (CallQuestion, dict(prompt="How will the partners share decisions, money and credit?", word_limit=1000,
                        is_required=True)),
    (CallQuestion, dict(prompt="What will last after the grant?", word_limit=750, is_required=True)),
    (CallDocument, dict(name="Budget justification", scope=DocumentScope.PER_APPLICATION, is_required=True)),
    (RubricCriterion, dict(name="Community need and voice", weight=25, scale_min=1, scale_max=5)),
    (RubricCriterion, dict(name="Strength and equity of the partnership", weight=30, scale_min=1, scale_max=5)),
    (RubricCriterion, dict(name="Approach to two-way communication", weight=20, scale_min=1, scale_max=5)),
    (RubricCriterion, dict(name="Outcomes and evaluation", weight=15, scale_min=1, scale_max=5)),
    (RubricCriterion, dict(name="Sustainability", weight=10, scale_min=1, scale_max=5)),
    (OutcomeMetric, dict(name="Community members reached", unit="people")),
    (OutcomeMetric, dict(name="Trusted messengers trained", unit="people")),
    (MilestoneTemplate, dict(name="Launch and workplan", offset_days=60, payment_share_percent=20)),
    (MilestoneTemplate, dict(name="Six-month report", offset_days=180, payment_share_percent=20)),
    (MilestoneTemplate, dict(name="Twelve-month report", offset_days=365, payment_share_percent=20)),
    (MilestoneTemplate, dict(name="Eighteen-month report", offset_days=545, payment_share_percent=20)),
    (MilestoneTemplate, dict(name="Final report", offset_days=730, payment_share_percent=20)),
]


@dataclass
class Scale:
    applications: int = 10_000
    calls: int = 20
    partners_per_application: int = 3
    reviews: int = 30_000
    awards: int = 1_000
    reviewers: int = 200
    # The open call's drafts, ready to submit in the deadline rush (part of ``applications``).
    rush_drafts: int = 300
    seed: int = 2026


@dataclass
class Seeded:
    """What was made, by kind, and the logins (all with PASSWORD)."""

    counts: dict[str, int] = field(default_factory=dict)
    officer_email: str = f"officer@{DOMAIN}"
    open_call_id: int | None = None
    rush_emails: list[str] = field(default_factory=list)


def _insert(model, rows: list[dict], *, ids: bool = False) -> list[int]:
    """Multi-row INSERTs of ``rows`` in batches; the new ids in the rows' order when asked."""
    new_ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        if ids:
            statement = insert(model).returning(model.id, sort_by_parameter_order=True)
            new_ids.extend(db.session.scalars(statement, chunk).all())
        else:
            db.session.execute(insert(model), chunk)
    return new_ids


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def seed_portfolio(scale: Scale) -> Seeded:
    """Fill an empty database at ``scale``; the caller commits."""
    rng = random.Random(scale.seed)
    now = utcnow()
    result = Seeded()
    password_hash = hash_password(PASSWORD)  # once: scrypt at N=2^17 takes ~0.3 s a hash

    def users(rows: list[tuple[str, str, int, Role]]) -> list[int]:
        made = _insert(User, [dict(email=email, full_name=name, password_hash=password_hash, organisation_id=org,
                                   status=UserStatus.ACTIVE, active_at=now) for email, name, org, _ in rows], ids=True)
        _insert(UserRole, [dict(user_id=user_id, role=role) for user_id, (*_, role) in zip(made, rows)])
        return made

    # Organisations: the funder, lead institutions, community partners, reviewers' employers.
    leads = max(20, scale.applications // 20)
    partners = max(30, scale.applications // 10)
    org_rows = ([dict(name="Community Health Trust Fund (bench)", kind=OrganisationKind.OTHER)]
                + [dict(name=f"Lead Institution {i:05d}", kind=OrganisationKind.MEMBER_INSTITUTION, city="Chicago")
                   for i in range(leads)]
                + [dict(name=f"Community Partner {i:05d}", kind=COMMUNITY_KINDS[i % 3], city="Chicago")
                   for i in range(partners)]
                + [dict(name=f"Reviewer Home {i:04d}", kind=OrganisationKind.OTHER) for i in range(scale.reviewers)])
    for row in org_rows:
        row.update(status=OrganisationStatus.APPROVED, approved_at=now)
    org_ids = _insert(Organisation, org_rows, ids=True)
    funder, lead_ids = org_ids[0], org_ids[1:1 + leads]
    partner_ids = org_ids[1 + leads:1 + leads + partners]
    reviewer_org_ids = org_ids[1 + leads + partners:]

    officer_id, _admin_id = users([(result.officer_email, "Olivia Officer", funder, Role.PROGRAM_OFFICER),
                                   (f"admin@{DOMAIN}", "Adam Admin", funder, Role.ADMIN)])
    reviewer_ids = users([(f"reviewer{i:04d}@{DOMAIN}", f"Reviewer {i:04d}", reviewer_org_ids[i], Role.REVIEWER)
                          for i in range(scale.reviewers)])
    applicant_emails = [f"applicant{i:05d}@{DOMAIN}" for i in range(scale.applications)]
    applicant_ids = users([(email, f"Applicant {i:05d}", lead_ids[i % leads], Role.APPLICANT)
                           for i, email in enumerate(applicant_emails)])
    officer = db.session.get(User, officer_id)

    # Calls, through the services: all closed and decided but the last, which is open.
    call_list = []
    for number in range(scale.calls):
        is_open = number == scale.calls - 1
        opens_at = now - timedelta(days=30 if is_open else 400 - number * 10)
        closes_at = now + timedelta(days=30) if is_open else opens_at + timedelta(days=60)
        call = calls.create_call(
            created_by=officer, time_zone=ZONE, title=f"Community Partnerships Round {number + 1:02d}",
            summary="Joint projects of a member institution and community partners.",
            description="Build two-way communication between researchers and a community.",
            eligibility="A member institution leads, with community partners.", opens_at=opens_at,
            closes_at=closes_at, award_floor_cents=1_000_000, award_ceiling_cents=50_000_000,
            total_funds_cents=10_000_000_000, expected_awards=max(1, scale.awards // scale.calls),
            lead_kinds=[OrganisationKind.MEMBER_INSTITUTION], partner_kinds=COMMUNITY_KINDS, min_partners=1,
            min_community_share_percent=30, requires_partner_signoff=False)
        for item_type, fields in CALL_ITEMS:
            calls.add_call_item(call, item_type, changed_by=officer, **fields)
        calls.publish_call(call, published_by=officer, now=opens_at - timedelta(days=1))
        call.published_at = opens_at - timedelta(days=1)
        call_list.append(call)
    db.session.flush()
    open_call = call_list[-1]
    result.open_call_id = open_call.id

    # Applications: spread over the calls; the open call holds the drafts (and some submitted).
    per_call = scale.applications // scale.calls
    rush = min(scale.rush_drafts, per_call)
    app_rows, app_calls = [], []
    counters: dict[int, int] = {}
    for index in range(scale.applications):
        call = call_list[min(index // per_call, scale.calls - 1)]
        row = dict(call_id=call.id, lead_organisation_id=lead_ids[index % leads], owner_id=applicant_ids[index],
                   title=f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} partnership {index:05d}",
                   summary=_text(rng, 30), created_at=call.opens_at + timedelta(hours=1),
                   updated_at=call.opens_at + timedelta(days=1), status=ApplicationStatus.DRAFT)
        is_rush_draft = call is open_call and len(result.rush_emails) < rush
        if not is_rush_draft:
            counters[call.id] = counters.get(call.id, 0) + 1
            submitted_at = call.opens_at + timedelta(days=rng.randint(1, 29), minutes=rng.randint(0, 1440))
            status = ApplicationStatus.SUBMITTED if call is open_call else rng.choices(
                [ApplicationStatus.IN_REVIEW, ApplicationStatus.SCREENED_OUT, ApplicationStatus.WITHDRAWN],
                [90, 5, 5])[0]
            row.update(status=status, reference_number=f"PG-{call.opens_at:%Y}-{call.id:03d}-{counters[call.id]:05d}",
                       submitted_at=submitted_at, submitted_content={}, updated_at=submitted_at,
                       screening_reason="Lead is not a member institution." if status is
                       ApplicationStatus.SCREENED_OUT else "",
                       in_review_at=submitted_at + timedelta(days=40) if status is ApplicationStatus.IN_REVIEW else None,
                       screened_out_at=submitted_at + timedelta(days=40)
                       if status is ApplicationStatus.SCREENED_OUT else None,
                       withdrawn_at=submitted_at + timedelta(days=2) if status is ApplicationStatus.WITHDRAWN else None)
        else:
            result.rush_emails.append(applicant_emails[index])
        app_rows.append(row)
        app_calls.append(call)
    app_ids = _insert(Application, app_rows, ids=True)
    _insert(ReferenceCounter, [dict(call_id=call_id, last_number=last) for call_id, last in counters.items()])

    questions = {call.id: [q.id for q in call.questions] for call in call_list}
    answer_rows, partner_rows = [], []
    for app_id, call in zip(app_ids, app_calls):
        answer_rows += [dict(application_id=app_id, question_id=q, text=_text(rng, rng.randint(60, 160)))
                        for q in questions[call.id]]
        for offset in rng.sample(range(partners), scale.partners_per_application):
            partner_rows.append(dict(application_id=app_id, organisation_id=partner_ids[offset],
                                     contact_name=f"Contact {offset}", contact_email=f"contact{offset}@{DOMAIN}",
                                     role_in_project="Recruits and trains trusted messengers."))
    _insert(Answer, answer_rows)
    partner_row_ids = _insert(Partner, partner_rows, ids=True)
    budget_rows = [dict(application_id=app_id, category=BudgetCategory.PERSONNEL, description="Project coordinator",
                        amount_cents=rng.randint(50, 100) * 100_000) for app_id in app_ids]
    budget_rows += [dict(application_id=row["application_id"], category=BudgetCategory.CONTRACTUAL,
                         description="Subaward: community health workers", partner_id=partner_id,
                         amount_cents=rng.randint(20, 60) * 100_000)
                    for row, partner_id in zip(partner_rows, partner_row_ids)]
    _insert(BudgetLine, budget_rows)

    # Panels and reviews on the closed calls: each in-review application gets its share of
    # the reviews from that call's panel, all submitted with a score per criterion.
    _insert(ReviewSettings, [dict(call_id=call.id, review_closes_at=call.closes_at + timedelta(days=60))
                             for call in call_list])
    panel_size = max(6, scale.reviewers // max(1, scale.calls - 1))
    panels: dict[int, list[int]] = {}
    member_rows = []
    for number, call in enumerate(call_list[:-1]):
        chosen = [reviewer_ids[(number * panel_size + i) % len(reviewer_ids)] for i in range(panel_size)]
        panels[call.id] = chosen
        member_rows += [dict(call_id=call.id, email=f"m{call.id}-{user_id}@{DOMAIN}", user_id=user_id,
                             sub_panel="Academic" if i % 2 else "Community", workload_cap=10_000,
                             status=PanelMemberStatus.ACTIVE, token_hash=f"bench-{call.id}-{user_id}",
                             invited_by_id=officer_id, active_at=call.closes_at)
                        for i, user_id in enumerate(chosen)]
    _insert(PanelMember, member_rows)
    in_review = [(app_id, call, row) for app_id, call, row in zip(app_ids, app_calls, app_rows)
                 if row["status"] is ApplicationStatus.IN_REVIEW]
    per_application, extra = divmod(scale.reviews, max(1, len(in_review)))
    assignment_rows = []
    for position, (app_id, call, _row) in enumerate(in_review):
        count = per_application + (1 if position < extra else 0)
        for reviewer_id in rng.sample(panels[call.id], min(count, len(panels[call.id]))):
            submitted_at = call.closes_at + timedelta(days=rng.randint(5, 50))
            assignment_rows.append(dict(call_id=call.id, application_id=app_id, reviewer_id=reviewer_id,
                                        status=AssignmentStatus.SUBMITTED, due_on=(call.closes_at + timedelta(
                                            days=60)).date(), assigned_by_id=officer_id, assigned_at=call.closes_at,
                                        attested_at=call.closes_at + timedelta(days=1),
                                        in_progress_at=call.closes_at + timedelta(days=1), submitted_at=submitted_at))
    assignment_ids = _insert(ReviewAssignment, assignment_rows, ids=True)
    review_ids = _insert(Review, [dict(assignment_id=assignment_id, strengths=_text(rng, 25),
                                       weaknesses=_text(rng, 20), recommendation=rng.choice(list(Recommendation)),
                                       confidence=rng.choice(list(Confidence)),
                                       created_at=row["submitted_at"], updated_at=row["submitted_at"])
                                  for assignment_id, row in zip(assignment_ids, assignment_rows)], ids=True)
    criteria = {call.id: [c.id for c in call.criteria] for call in call_list}
    _insert(CriterionScore, [dict(review_id=review_id, criterion_id=criterion_id, score=rng.randint(1, 5),
                                  comment=_text(rng, 8))
                             for review_id, row in zip(review_ids, assignment_rows)
                             for criterion_id in criteria[row["call_id"]]])

    # Decisions and awards: the first in-review applications of each closed call are awarded,
    # with milestones from the template, payments and reports on the earlier milestones.
    award_per_call = max(1, -(-scale.awards // max(1, scale.calls - 1)))
    awarded: list[tuple[int, Call]] = []
    taken: dict[int, int] = {}
    for app_id, call, _row in in_review:
        if taken.get(call.id, 0) < award_per_call and len(awarded) < scale.awards:
            taken[call.id] = taken.get(call.id, 0) + 1
            awarded.append((app_id, call))
    decided_at = {call.id: call.closes_at + timedelta(days=70) for call in call_list}
    for start in range(0, len(awarded), BATCH):
        db.session.execute(update(Application).where(Application.id.in_([a for a, _ in awarded[start:start + BATCH]]))
                           .values(status=ApplicationStatus.AWARDED, awarded_at=now)
                           .execution_options(synchronize_session=False))
    decision_rows, award_rows = [], []
    for app_id, call in awarded:
        start_on = decided_at[call.id].date() + timedelta(days=30)
        amount = rng.randint(10, 50) * 1_000_000
        decision_rows.append(dict(application_id=app_id, call_id=call.id, outcome=DecisionOutcome.AWARD,
                                  amount_cents=amount, start_on=start_on, end_on=start_on + timedelta(days=730),
                                  rationale="Ranked above the funding line.", decided_by_id=officer_id,
                                  decided_at=decided_at[call.id], released_at=decided_at[call.id]))
        award_rows.append(dict(application_id=app_id, call_id=call.id, amount_cents=amount, start_on=start_on,
                               end_on=start_on + timedelta(days=730), status=AwardStatus.ACTIVE,
                               offered_at=decided_at[call.id], accepted_at=decided_at[call.id] + timedelta(days=5),
                               active_at=decided_at[call.id] + timedelta(days=5)))
    _insert(Decision, decision_rows)
    award_ids = _insert(Award, award_rows, ids=True)
    templates = {call.id: list(call.milestones) for call in call_list}
    metrics = {call.id: [m.id for m in call.metrics] for call in call_list}
    milestone_rows, payment_plan = [], []
    today = now.date()
    for award_id, row in zip(award_ids, award_rows):
        for position, template in enumerate(templates[row["call_id"]]):
            due_on = row["start_on"] + timedelta(days=template.offset_days)
            reported = due_on < today
            milestone_rows.append(dict(award_id=award_id, name=template.name, due_on=due_on,
                                       is_final=position == len(templates[row["call_id"]]) - 1,
                                       status=MilestoneStatus.ACCEPTED if reported else MilestoneStatus.UPCOMING,
                                       submitted_at=_instant(due_on) if reported else None,
                                       accepted_at=_instant(due_on) + timedelta(days=7) if reported else None))
            payment_plan.append((award_id, row["amount_cents"] * template.payment_share_percent // 100, reported))
    milestone_ids = _insert(Milestone, milestone_rows, ids=True)
    _insert(Payment, [dict(award_id=award_id, milestone_id=milestone_id, amount_cents=amount,
                           status=PaymentStatus.PAID if reported else PaymentStatus.SCHEDULED,
                           released_at=row["accepted_at"] if reported else None,
                           paid_at=row["accepted_at"] + timedelta(days=3) if reported else None,
                           paid_on=(row["accepted_at"] + timedelta(days=3)).date() if reported else None,
                           payment_method=PaymentMethod.BANK_TRANSFER if reported else None,
                           payment_reference=f"ACH {milestone_id}" if reported else "")
                      for milestone_id, row, (award_id, amount, reported) in zip(milestone_ids, milestone_rows,
                                                                                  payment_plan)])
    reports = [(milestone_id, row) for milestone_id, row in zip(milestone_ids, milestone_rows) if row["submitted_at"]]
    report_ids = _insert(MilestoneReport, [dict(milestone_id=milestone_id, narrative=_text(rng, 80),
                                                submitted_by_id=officer_id, submitted_at=row["submitted_at"],
                                                outcome=ReportOutcome.ACCEPTED, decided_by_id=officer_id,
                                                decided_at=row["accepted_at"]) for milestone_id, row in reports],
                         ids=True)
    award_call = {award_id: row["call_id"] for award_id, row in zip(award_ids, award_rows)}
    _insert(ReportMetricValue, [dict(report_id=report_id, metric_id=metric_id, value=rng.randint(10, 500))
                                for report_id, (_milestone_id, row) in zip(report_ids, reports)
                                for metric_id in metrics[award_call[row["award_id"]]]])
    db.session.flush()
    for model in (Organisation, User, Call, Application, Answer, Partner, BudgetLine, ReviewAssignment, Review,
                  CriterionScore, Decision, Award, Milestone, Payment, MilestoneReport):
        result.counts[model.__tablename__] = db.session.scalar(select(func.count()).select_from(model))
    return result


def _instant(day):
    from datetime import datetime, time, timezone

    return datetime.combine(day, time(15), tzinfo=timezone.utc)
