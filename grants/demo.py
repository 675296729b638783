"""Demo data: a small programme a new user can click through (`flask demo load`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from grants.accounts import services
from grants.accounts.enums import OrganisationKind, OrganisationStatus, Role
from grants.accounts.models import Organisation, User
from grants.calls import services as calls
from grants.calls.enums import DocumentScope
from grants.calls.models import CallDocument, CallQuestion, MilestoneTemplate, OutcomeMetric, RubricCriterion
from grants.core.errors import StorageUnavailable
from grants.core.timezones import in_zone, local_instant
from grants.core.types import utcnow
from grants.extensions import db

demo_cli = AppGroup("demo", help="Demo data.")

DEMO_PASSWORD = "demo-password-2026"

# (organisation, kind, city, region)
ORGANISATIONS = [
    ("Community Health Trust Fund", OrganisationKind.OTHER, "Springfield", "IL"),
    ("Riverside University Medical Center", OrganisationKind.MEMBER_INSTITUTION, "Riverside", "IL"),
    ("Northgate University School of Medicine", OrganisationKind.MEMBER_INSTITUTION, "Northgate", "IL"),
    ("Eastside Community Health Alliance", OrganisationKind.COMMUNITY_NONPROFIT, "Springfield", "IL"),
    ("Lake County Health Department", OrganisationKind.PUBLIC_HEALTH_AGENCY, "Waukegan", "IL"),
    ("Families First Social Services", OrganisationKind.SOCIAL_SERVICE_AGENCY, "Riverside", "IL"),
    ("Lakeside University Health Sciences", OrganisationKind.MEMBER_INSTITUTION, "Milwaukee", "WI"),
    ("Westside Neighbors Council", OrganisationKind.COMMUNITY_NONPROFIT, "Springfield", "IL"),
]

# (role label for the README, e-mail, name, organisation, roles)
DEMO_USERS = [
    ("Admin", "admin@grants.example", "Alex Morgan", "Community Health Trust Fund", {Role.ADMIN}),
    ("Program officer", "officer@grants.example", "Priya Natarajan", "Community Health Trust Fund",
     {Role.PROGRAM_OFFICER}),
    ("Reviewer", "reviewer@northgate.example", "Dr. Samuel Okafor", "Northgate University School of Medicine",
     {Role.REVIEWER}),
    ("Reviewer (academic)", "reviewer@lakeside.example", "Dr. Mei Chen", "Lakeside University Health Sciences",
     {Role.REVIEWER}),
    ("Reviewer (community)", "reviewer@westside.example", "Rosa Delgado", "Westside Neighbors Council",
     {Role.REVIEWER}),
    ("Reviewer (community, public health)", "reviewer@lakecounty.example", "Tanya Brooks",
     "Lake County Health Department", {Role.REVIEWER}),
    ("Reviewer (community, social services)", "reviewer@familiesfirst.example", "Luis Ortega",
     "Families First Social Services", {Role.REVIEWER}),
    ("Applicant (member institution)", "applicant@riverside.example", "Dr. Maria Lopez",
     "Riverside University Medical Center", {Role.APPLICANT}),
    ("Applicant (community nonprofit)", "applicant@eastside.example", "Jordan Williams",
     "Eastside Community Health Alliance", {Role.APPLICANT}),
    ("Applicant (public-health agency)", "applicant@lakecounty.example", "Dana Kim",
     "Lake County Health Department", {Role.APPLICANT}),
    ("Applicant (second member institution)", "applicant@northgate.example", "Dr. Ana Reyes",
     "Northgate University School of Medicine", {Role.APPLICANT}),
    ("Applicant (social-service agency)", "applicant@familiesfirst.example", "Marcus Bell",
     "Families First Social Services", {Role.APPLICANT}),
]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def load_demo_data() -> None:
    """Create the demo organisations and users, one pending registration among them."""
    organisations: dict[str, Organisation] = {}
    for name, kind, city, region in ORGANISATIONS:
        organisation = services.propose_organisation(name=name, kind=kind, city=city, region=region)
        organisation.status = OrganisationStatus.APPROVED
        organisations[name] = organisation
    for _label, email, full_name, organisation, roles in DEMO_USERS:
        services.create_user(email=email, full_name=full_name, password=DEMO_PASSWORD,
                             organisation=organisations[organisation], roles=roles, created_by=None)
    # Waiting in the admin's queue: a new organisation proposed at registration.
    services.register_applicant(
        email="director@harborfoodbank.example", full_name="Chris Alvarez", password=DEMO_PASSWORD,
        new_organisation=dict(name="Harbor Food Bank", kind=OrganisationKind.COMMUNITY_NONPROFIT,
                              city="Springfield", region="IL"),
    )
    officer = services.find_user_by_email("officer@grants.example")
    model_call = load_demo_calls(officer)
    load_demo_applications(model_call, officer)
    load_demo_review(model_call, officer)
    load_demo_awards(officer)
    load_demo_two_stage_call(officer)


# --- calls: one at each stage, dated around the day the demo is loaded ------------------

ZONE = "America/Chicago"
COMMUNITY_KINDS = [OrganisationKind.COMMUNITY_NONPROFIT, OrganisationKind.PUBLIC_HEALTH_AGENCY,
                   OrganisationKind.SOCIAL_SERVICE_AGENCY]


def _day(offset_days: int, hour: int, today: date) -> datetime:
    """``hour``:00 in Chicago, ``offset_days`` from ``today``."""
    return local_instant(today + timedelta(days=offset_days), time(hour), ZONE)


def _dollars(amount: int) -> int:
    return amount * 100


MODEL_CALL = dict(
    title="Community Trust Partnerships 2027",
    summary="Up to $250,000 over two years for a member institution and at least two community partners "
            "to build trust and two-way communication with a community they serve together.",
    description=(
        "The Community Health Trust Fund invites joint applications from academic medical institutions and "
        "their community partners to build **lasting, two-way communication** between health researchers and "
        "the communities they serve.\n\n"
        "## What we fund\n\n"
        "- Community advisory boards with real decision-making power and paid members\n"
        "- Training and support for *trusted messengers*: barbers, faith leaders, promotoras, peer navigators\n"
        "- Listening sessions whose findings change how the institution communicates and does research\n"
        "- Shared plans to report research results back to the community in plain language\n\n"
        "## What we expect\n\n"
        "Partnerships in which community organisations lead, not only advise: at least 40% of the budget goes "
        "to community partners, and each partner signs off on the application. Read our "
        "[partnership principles](https://grants.example/principles) before you apply."
    ),
    eligibility=(
        "- The lead applicant is a **member institution** (an academic medical centre or school of medicine).\n"
        "- At least two partners are community nonprofits, public-health agencies or social-service agencies.\n"
        "- Projects serve communities in Illinois, Indiana or Wisconsin.\n"
        "- An organisation may lead one application, and be a partner on any number."
    ),
    award_floor_cents=_dollars(50_000), award_ceiling_cents=_dollars(250_000),
    total_funds_cents=_dollars(1_000_000), expected_awards=5,
    lead_kinds=[OrganisationKind.MEMBER_INSTITUTION], partner_kinds=COMMUNITY_KINDS,
    min_partners=2, min_community_share_percent=40, requires_partner_signoff=True,
    # Its public page in Spanish too (the switch in the header, or a browser set to Spanish).
    title_es="Alianzas de Confianza Comunitaria 2027",
    summary_es="Hasta $250,000 en dos años para una institución miembro y al menos dos socios comunitarios "
               "que construyan confianza y comunicación en ambos sentidos con una comunidad a la que sirven juntos.",
    description_es=(
        "El Community Health Trust Fund invita a presentar solicitudes conjuntas de instituciones médicas académicas "
        "y sus socios comunitarios para construir una **comunicación duradera y en ambos sentidos** entre quienes "
        "investigan en salud y las comunidades a las que sirven.\n\n"
        "## Qué financiamos\n\n"
        "- Consejos asesores comunitarios con verdadero poder de decisión y miembros remunerados\n"
        "- Formación y apoyo para *mensajeros de confianza*: barberos, líderes religiosos, promotoras, navegadores\n"
        "- Sesiones de escucha cuyos resultados cambian cómo la institución comunica e investiga\n"
        "- Planes compartidos para devolver los resultados a la comunidad en lenguaje claro\n\n"
        "## Qué esperamos\n\n"
        "Alianzas en las que las organizaciones comunitarias dirigen, no solo asesoran: al menos el 40% del "
        "presupuesto va a los socios comunitarios, y cada socio da su visto bueno a la solicitud."
    ),
    eligibility_es=(
        "- La solicitante principal es una **institución miembro** (un centro médico académico o una facultad de "
        "medicina).\n"
        "- Al menos dos socios son organizaciones comunitarias sin fines de lucro, agencias de salud pública o de "
        "servicios sociales.\n"
        "- Los proyectos sirven a comunidades de Illinois, Indiana o Wisconsin."
    ),
)
MODEL_ITEMS = [
    (CallQuestion, dict(prompt="Describe the community you will work with and the trust gaps you have heard about.",
                        help_text="Whose voices shaped this description? Cite listening sessions, surveys or "
                                  "partner experience rather than national figures alone.",
                        word_limit=750, is_required=True)),
    (CallQuestion, dict(prompt="How will the partners share decisions, money and credit?",
                        help_text="Describe governance, how community partners are paid, and how disagreements "
                                  "are resolved.", word_limit=1000, is_required=True)),
    (CallQuestion, dict(prompt="How will you know communication has become two-way, and what will last after "
                               "the grant?", help_text="Name the outcome metrics you will report and your plan to "
                                                       "sustain the work.", word_limit=750, is_required=True)),
    (CallDocument, dict(name="Letter of commitment", help_text="Signed by an executive of the partner, stating "
                        "its role and its share of the budget.", scope=DocumentScope.PER_PARTNER, is_required=True)),
    (CallDocument, dict(name="Budget justification", help_text="One to three pages explaining each budget line.",
                        scope=DocumentScope.PER_APPLICATION, is_required=True)),
    (CallDocument, dict(name="Biographical sketches of key personnel", help_text="One PDF with all sketches, "
                        "two pages each at most.", scope=DocumentScope.PER_APPLICATION, is_required=True)),
    (CallDocument, dict(name="Letters of support", help_text="From community members or leaders outside the "
                        "partnership.", scope=DocumentScope.PER_APPLICATION, is_required=False)),
    (RubricCriterion, dict(name="Community need and voice", description="The need is described by the community "
                           "itself; the trust gaps are specific.", weight=25, scale_min=1, scale_max=5,
                           anchors="1 = generic; 3 = specific but from the institution's view; "
                                   "5 = specific and in the community's own words")),
    (RubricCriterion, dict(name="Strength and equity of the partnership", description="Shared governance, fair "
                           "pay for community partners, a history of working together.", weight=30,
                           scale_min=1, scale_max=5, anchors="1 = advisory only; 5 = community partners co-lead")),
    (RubricCriterion, dict(name="Approach to two-way communication", description="Activities are feasible and "
                           "information flows both ways.", weight=20, scale_min=1, scale_max=5, anchors="")),
    (RubricCriterion, dict(name="Outcomes and evaluation", description="Realistic targets for the call's outcome "
                           "metrics and a credible way to measure them.", weight=15, scale_min=1, scale_max=5,
                           anchors="")),
    (RubricCriterion, dict(name="Sustainability", description="What continues after the grant, and who pays for it.",
                           weight=10, scale_min=1, scale_max=5, anchors="")),
    (OutcomeMetric, dict(name="Community members reached", unit="people")),
    (OutcomeMetric, dict(name="Trusted messengers trained", unit="people")),
    (OutcomeMetric, dict(name="Listening sessions held", unit="sessions")),
    (OutcomeMetric, dict(name="Research findings reported back to the community", unit="reports")),
    (MilestoneTemplate, dict(name="Partnership launch and workplan", offset_days=60, payment_share_percent=40)),
    (MilestoneTemplate, dict(name="Twelve-month progress report", offset_days=365, payment_share_percent=40)),
    (MilestoneTemplate, dict(name="Final report", offset_days=730, payment_share_percent=20)),
]

SMALL_ITEMS = [
    (CallQuestion, dict(prompt="What do you want to learn from the community, and how will you ask?",
                        help_text="", word_limit=500, is_required=True)),
    (CallQuestion, dict(prompt="Who will share what you learn, and with whom?", help_text="", word_limit=500,
                        is_required=True)),
    (CallDocument, dict(name="Letter of commitment", help_text="From each partner.", scope=DocumentScope.PER_PARTNER,
                        is_required=True)),
    (RubricCriterion, dict(name="Community engagement", description="", weight=50, scale_min=1, scale_max=5,
                           anchors="")),
    (RubricCriterion, dict(name="Feasibility", description="", weight=30, scale_min=1, scale_max=5, anchors="")),
    (RubricCriterion, dict(name="Sharing what is learnt", description="", weight=20, scale_min=1, scale_max=5,
                           anchors="")),
    (OutcomeMetric, dict(name="Listening sessions held", unit="sessions")),
    (OutcomeMetric, dict(name="Community members reached", unit="people")),
    (MilestoneTemplate, dict(name="Start-up", offset_days=30, payment_share_percent=50)),
    (MilestoneTemplate, dict(name="Final report", offset_days=365, payment_share_percent=50)),
]


def _small_call(title: str, summary: str) -> dict:
    return dict(
        title=title, summary=summary,
        description="Small grants for listening to a community and sharing back what was heard.\n\n"
                    "One member institution works with at least one community partner.",
        eligibility="Member institutions in Illinois, with at least one community partner.",
        award_floor_cents=_dollars(25_000), award_ceiling_cents=_dollars(75_000),
        total_funds_cents=_dollars(300_000), expected_awards=5,
        lead_kinds=[OrganisationKind.MEMBER_INSTITUTION], partner_kinds=COMMUNITY_KINDS,
        min_partners=1, min_community_share_percent=30, requires_partner_signoff=True,
    )


def _create_call(officer: User, fields: dict, items: list, *, opens_at, closes_at) -> object:
    call = calls.create_call(created_by=officer, time_zone=ZONE, opens_at=opens_at, closes_at=closes_at, **fields)
    for item_type, item_fields in items:
        calls.add_call_item(call, item_type, changed_by=officer, **item_fields)
    return call


def load_demo_calls(officer: User) -> None:
    """A call open now (the model programme), one opening soon, one closed, a draft, an archived one."""
    now = utcnow()
    today = in_zone(now, ZONE).date()

    model = _create_call(officer, MODEL_CALL, MODEL_ITEMS, opens_at=_day(-21, 9, today), closes_at=_day(45, 17, today))
    calls.publish_call(model, published_by=officer, now=now)

    upcoming = _create_call(
        officer, _small_call("Listening to Rural Communities 2027",
                             "Up to $75,000 for a year of listening sessions in rural Illinois, led by a member "
                             "institution with a community partner."),
        SMALL_ITEMS, opens_at=_day(30, 9, today), closes_at=_day(100, 17, today))
    calls.publish_call(upcoming, published_by=officer, now=now)

    # Published while it was open, as it would have been; it has since closed.
    closed = _create_call(
        officer, _small_call("Vaccine Confidence Community Grants 2026",
                             "Up to $75,000 for community-led conversations about vaccines."),
        SMALL_ITEMS, opens_at=_day(-120, 9, today), closes_at=_day(-30, 17, today))
    calls.publish_call(closed, published_by=officer, now=closed.opens_at - timedelta(days=7))
    closed.published_at = closed.opens_at - timedelta(days=7)

    archived = _create_call(
        officer, _small_call("Community Listening Pilot 2025", "The pilot round of listening grants."),
        SMALL_ITEMS, opens_at=_day(-500, 9, today), closes_at=_day(-420, 17, today))
    calls.publish_call(archived, published_by=officer, now=archived.opens_at - timedelta(days=7))
    calls.archive_call(archived, archived_by=officer, now=now)
    archived.published_at = archived.opens_at - timedelta(days=7)

    # A draft still being written: the officer's checklist shows what it lacks.
    draft = calls.create_call(
        created_by=officer, time_zone=ZONE, title="Maternal Health Community Partnerships 2028",
        summary="Partnerships between member institutions and community doulas, midwives and family "
                "services to improve maternal health communication.",
        description="A draft: the programme team is still writing this call.",
        lead_kinds=[OrganisationKind.MEMBER_INSTITUTION], partner_kinds=COMMUNITY_KINDS, min_partners=2,
        min_community_share_percent=40, requires_partner_signoff=True,
        award_ceiling_cents=_dollars(200_000), total_funds_cents=_dollars(800_000))
    calls.add_call_item(draft, CallQuestion, changed_by=officer,
                        prompt="Describe the families you will work with.", help_text="", word_limit=750,
                        is_required=True)
    calls.add_call_item(draft, MilestoneTemplate, changed_by=officer, name="Launch", offset_days=30,
                        payment_share_percent=50)
    return model


# --- applications to the open call: one at each stage ----------------------------------

DEMO_PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> "
            b"endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")

DEMO_ANSWERS = [
    "We will work with Black and Latino residents of the Eastside and Riverside neighbourhoods. In listening "
    "sessions run by our community partners last spring, residents told us they rarely hear back from studies "
    "they joined, and that clinic letters arrive in English only.",
    "A joint steering group of six (three community members, one from each partner, one from the lead) "
    "approves the budget and every public message. Community partners are paid as subawards, not volunteers.",
    "We will report the number of residents reached, trusted messengers trained and listening sessions held, "
    "and a yearly survey on whether residents feel heard. Partners keep the trained messengers on staff.",
]


def _build_application(call, owner: User, title: str, summary: str, partner_users: list[User],
                       *, lead_cents: int, partner_cents: int, complete: bool = True, now=None):
    """An application filled in as its owner and partners would, through the same services."""
    import secrets
    from io import BytesIO

    from grants.applications import services as applications
    from grants.applications.enums import BudgetCategory, CollaboratorRole
    from grants.applications.models import Collaborator

    application = applications.start_application(call, owner=owner, title=title, now=now)
    applications.update_overview(application, editor=owner, expected_version=None, title=title, summary=summary)
    questions = call.questions if complete else call.questions[:1]
    applications.save_answers(application, editor=owner, expected_version=None,
                              texts={q.id: text for q, text in zip(questions, DEMO_ANSWERS)})
    partners = [applications.add_partner(application, editor=owner, expected_version=None,
                                         organisation=user.organisation, contact_name=user.full_name,
                                         contact_email=user.email,
                                         role_in_project="Recruits and trains trusted messengers; co-chairs the "
                                                         "steering group.")
                for user in partner_users]
    applications.add_budget_line(application, editor=owner, expected_version=None,
                                 category=BudgetCategory.PERSONNEL, description="Project coordinator (50%)",
                                 amount_cents=lead_cents)
    for partner in partners:
        applications.add_budget_line(application, editor=owner, expected_version=None,
                                     category=BudgetCategory.CONTRACTUAL,
                                     description="Subaward: community health workers and stipends",
                                     amount_cents=partner_cents, partner_id=partner.id)
    if not complete:
        return application
    for document in call.documents:
        if not document.is_required:
            continue
        for partner in (partners if document.scope is DocumentScope.PER_PARTNER else [None]):
            name = document.name.lower().replace(" ", "-")
            applications.upload_document(application, editor=owner, expected_version=None, call_document=document,
                                         partner=partner, stream=BytesIO(DEMO_PDF), filename=f"{name}.pdf")
    for partner, user in zip(partners, partner_users):
        # The partner contact was invited and accepted (the e-mailed link is skipped here).
        application.collaborators.append(Collaborator(
            email=user.email, role=CollaboratorRole.VIEWER, token_hash=secrets.token_hex(32),
            invited_by_id=owner.id, user_id=user.id, accepted_at=utcnow()))
        db.session.flush()
        applications.sign_off_partner(partner, user=user)
    return application


def load_demo_applications(call, officer: User) -> None:
    """On the open call: one in review, one submitted, one screened out, one withdrawn, one draft."""
    from grants.applications import services as applications

    user = services.find_user_by_email
    riverside, northgate = user("applicant@riverside.example"), user("applicant@northgate.example")
    eastside, lakecounty = user("applicant@eastside.example"), user("applicant@lakecounty.example")
    families = user("applicant@familiesfirst.example")

    in_review = _build_application(
        call, riverside, "Trusted Messengers for Heart Health",
        "Barbers, faith leaders and promotoras trained to talk about blood pressure and research, with a "
        "community steering group that decides what the clinic says and how.", [eastside, lakecounty],
        lead_cents=_dollars(90_000), partner_cents=_dollars(60_000))
    applications.submit_application(in_review, submitted_by=riverside, expected_version=None)
    applications.screen_application(in_review, officer=officer, eligible=True)

    submitted = _build_application(
        call, northgate, "Listening Circles on Mental Health",
        "Monthly listening circles run by a social-service agency and a community nonprofit, feeding what "
        "residents say into the medical school's mental-health research.", [families, eastside],
        lead_cents=_dollars(80_000), partner_cents=_dollars(55_000))
    applications.submit_application(submitted, submitted_by=northgate, expected_version=None)

    screened_out = _build_application(
        call, northgate, "Mobile Clinic Conversations",
        "A mobile clinic that pairs screenings with conversations about research participation.",
        [lakecounty, families], lead_cents=_dollars(120_000), partner_cents=_dollars(60_000))
    applications.submit_application(screened_out, submitted_by=northgate, expected_version=None)
    applications.screen_application(
        screened_out, officer=officer, eligible=False,
        reason="The call funds communication and trust-building; most of this budget is for clinical services, "
               "which the call does not fund. You are welcome to apply to a later round.")

    withdrawn = _build_application(
        call, riverside, "Youth Voices in Asthma Care",
        "Teen advisory groups that co-design asthma education with school nurses.", [eastside, families],
        lead_cents=_dollars(70_000), partner_cents=_dollars(50_000))
    applications.submit_application(withdrawn, submitted_by=riverside, expected_version=None)
    applications.withdraw_application(withdrawn, withdrawn_by=riverside)

    # Still being written: the checklist shows what is missing.
    _build_application(
        call, riverside, "Faith Communities and Cancer Screening",
        "Congregations and the cancer centre co-host conversations about screening and research.", [eastside],
        lead_cents=_dollars(60_000), partner_cents=_dollars(30_000), complete=False)


# --- review of the open call: a panel in two sub-panels, assignments, scores -----------

DEMO_REVIEWS = {
    # reviewer e-mail: (scores by criterion position, recommendation, strengths, weaknesses)
    "reviewer@lakeside.example": ([5, 4, 4, 5, 4], "fund",
                                  "Community partners hold real decision power and half the budget.",
                                  "The evaluation plan needs a baseline survey before the first sessions."),
    "reviewer@westside.example": ([4, 5, 3, 4, 4], "fund_if_funds_allow",
                                  "Trusted messengers are paid, trained and supported.",
                                  "Little on how findings reach residents who do not attend church or barbershops."),
}


def load_demo_review(call, officer: User) -> None:
    """Reviewers invited and on the panel, both in-review applications assigned, one review
    submitted by each of two reviewers, one in progress, and a declared conflict."""
    from grants.applications import services as applications
    from grants.applications.enums import ApplicationStatus
    from grants.applications.models import Application
    from grants.reviews import scoring
    from grants.reviews import services as reviews
    from grants.reviews.enums import Confidence, PanelMemberStatus, Recommendation

    user = services.find_user_by_email
    reviews.update_review_settings(call, changed_by=officer, review_closes_at=call.closes_at + timedelta(days=30),
                                   show_other_reviews=True, disagreement_threshold=25, reviewers_per_application=2,
                                   default_workload_cap=6, stipend_cents=_dollars(250))
    members = {}
    for email, sub_panel in (("reviewer@northgate.example", "Academic"), ("reviewer@lakeside.example", "Academic"),
                             ("reviewer@westside.example", "Community")):
        member = reviews.invite_panel_member(call, email=email, invited_by=officer, sub_panel=sub_panel)
        # Accepted (the e-mailed link is skipped here).
        member.user_id, member.status, member.active_at = user(email).id, PanelMemberStatus.ACTIVE, utcnow()
        members[email] = member
    db.session.flush()
    listening = db.session.scalar(select(Application).where(Application.title == "Listening Circles on Mental Health"))
    applications.screen_application(listening, officer=officer, eligible=True)
    in_review = db.session.scalars(select(Application).where(Application.call_id == call.id,
                                                             Application.status == ApplicationStatus.IN_REVIEW)).all()
    due_on = (call.closes_at + timedelta(days=21)).date()
    assignments = {}
    for application in in_review:
        for email in ("reviewer@lakeside.example", "reviewer@westside.example"):
            assignments[(application.title, email)] = reviews.assign_reviewer(
                application, members[email], due_on=due_on, assigned_by=officer)
    criteria = call.criteria
    # The community reviewer is less sure of the budget-heavy parts: the ranking shows the
    # confidence-weighted mean beside the plain one.
    confidence = {"reviewer@northgate.example": Confidence.HIGH, "reviewer@westside.example": Confidence.MEDIUM}
    for email, (scores, recommendation, strengths, weaknesses) in DEMO_REVIEWS.items():
        assignment = assignments[("Trusted Messengers for Heart Health", email)]
        reviews.attest_no_conflict(assignment, reviewer=user(email))
        entry = scoring.ReviewEntry(scores={c.id: scores[i] for i, c in enumerate(criteria)},
                                    comments={c.id: "" for c in criteria}, strengths=strengths,
                                    weaknesses=weaknesses, recommendation=Recommendation(recommendation),
                                    confidence=confidence.get(email, Confidence.LOW))
        scoring.submit_review(assignment, reviewer=user(email), expected_version=None, entry=entry)
    # One review under way, one conflict declared for the officer to see.
    reviews.attest_no_conflict(assignments[("Listening Circles on Mental Health", "reviewer@lakeside.example")],
                               reviewer=user("reviewer@lakeside.example"))
    reviews.declare_conflict(assignments[("Listening Circles on Mental Health", "reviewer@westside.example")],
                             reviewer=user("reviewer@westside.example"),
                             reason="I volunteer on the board of Families First Social Services.")


# --- awards on the closed call: one active with a report accepted and paid, one offered ---

BARBERSHOP, FLU_SHOTS = "Barbershop Conversations on Vaccines", "Faith and Flu Shots Listening Tour"
# (reviewer e-mail, sub-panel, application titles assigned): the closed call's panel. Rosa declined one
# (it does not count against her set); Luis is on one only (his organisation is a partner on the other).
CLOSED_PANEL = [
    ("reviewer@lakeside.example", "Academic", (BARBERSHOP, FLU_SHOTS)),
    ("reviewer@westside.example", "Community", (BARBERSHOP, FLU_SHOTS)),
    ("reviewer@lakecounty.example", "Community", (BARBERSHOP, FLU_SHOTS)),
    ("reviewer@familiesfirst.example", "Community", (BARBERSHOP,)),
]
CLOSED_DECLINED = ("reviewer@westside.example", FLU_SHOTS)


def load_demo_closed_review(call, officer: User, in_review: list) -> None:
    """The closed call's review, done while it ran and closed since: every community reviewer's
    set is complete, so their stipends are owed, and Rosa Delgado's is paid; the academic
    reviewer is not eligible for one."""
    from grants.reviews import scoring, stipends
    from grants.reviews import services as reviews
    from grants.reviews.enums import Confidence, PanelMemberStatus, Recommendation

    user = services.find_user_by_email
    reviewing = call.closes_at + timedelta(days=2)
    review_closes_at = call.closes_at + timedelta(days=6)
    closed_on = in_zone(review_closes_at, ZONE).date()
    reviews.update_review_settings(call, changed_by=officer, review_closes_at=review_closes_at,
                                   show_other_reviews=True, disagreement_threshold=25, reviewers_per_application=3,
                                   default_workload_cap=4, stipend_cents=_dollars(200))
    by_title = {application.title: application for application in in_review}
    criteria = call.criteria
    for email, sub_panel, titles in CLOSED_PANEL:
        member = reviews.invite_panel_member(call, email=email, invited_by=officer, sub_panel=sub_panel)
        member.user_id, member.status, member.active_at = user(email).id, PanelMemberStatus.ACTIVE, reviewing
        db.session.flush()
        for title in titles:
            assignment = reviews.assign_reviewer(by_title[title], member, due_on=closed_on, assigned_by=officer,
                                                 now=reviewing)
            if (email, title) == CLOSED_DECLINED:
                reviews.decline_assignment(assignment, reviewer=user(email),
                                           reason="Away for the two weeks of the review.")
                continue
            reviews.attest_no_conflict(assignment, reviewer=user(email))
            entry = scoring.ReviewEntry(scores={c.id: 4 for c in criteria}, comments={c.id: "" for c in criteria},
                                        strengths="Community members lead the conversations.",
                                        weaknesses="The plan to report back to residents is thin.",
                                        recommendation=Recommendation.FUND, confidence=Confidence.MEDIUM)
            scoring.submit_review(assignment, reviewer=user(email), expected_version=None, entry=entry, now=reviewing)
    paid = reviews.membership(call, user("reviewer@westside.example"))
    stipends.mark_stipend_paid(paid, officer=officer, paid_on=closed_on + timedelta(days=3), reference="EFT 20417",
                               expected_version=0)


def load_demo_awards(officer: User) -> None:
    """The closed call's round: applications submitted while it was open, screened in,
    decided and released; one award accepted (its first report fell short of a target and was
    accepted, the payment released with the officer's justification and paid by bank transfer;
    the next milestone has targets too), one offer waiting for the grantee's answer."""
    from io import BytesIO

    from grants.applications import services as applications
    from grants.applications.enums import BudgetCategory
    from grants.awards import payments, targets
    from grants.awards import services as awards
    from grants.reports import services as reporting
    from grants.awards.enums import DecisionOutcome, PaymentMethod, ShortfallChoice
    from grants.calls.models import Call

    user = services.find_user_by_email
    call = db.session.scalar(select(Call).where(Call.title == "Vaccine Confidence Community Grants 2026"))
    while_open = call.opens_at + timedelta(days=10)
    riverside, northgate = user("applicant@riverside.example"), user("applicant@northgate.example")
    eastside, families = user("applicant@eastside.example"), user("applicant@familiesfirst.example")
    rounds = [
        (riverside, BARBERSHOP,
         "Barbers trained as trusted messengers host monthly conversations with clinicians.", [eastside],
         _dollars(40_000), _dollars(30_000), _dollars(70_000)),
        (northgate, FLU_SHOTS,
         "Congregations host listening sessions on vaccines; the medical school reports back what it heard.",
         [families], _dollars(35_000), _dollars(25_000), _dollars(55_000)),
    ]
    today = in_zone(utcnow(), ZONE).date()
    screened = []
    for owner, title, summary, partners, lead_cents, partner_cents, amount in rounds:
        application = _build_application(call, owner, title, summary, partners, lead_cents=lead_cents,
                                         partner_cents=partner_cents, now=while_open)
        applications.submit_application(application, submitted_by=owner, expected_version=None, now=while_open)
        applications.screen_application(application, officer=officer, eligible=True)
        screened.append((application, amount))
    load_demo_closed_review(call, officer, [application for application, _amount in screened])
    decided = []
    for application, amount in screened:
        awards.decide_application(
            application, officer=officer, outcome=DecisionOutcome.AWARD, amount_cents=amount,
            start_on=today - timedelta(days=20), end_on=today + timedelta(days=345),
            terms="Funds are used as budgeted; milestone reports as scheduled; partners are paid within 30 days.",
            rationale="Strong community leadership; ranked in the top two.")
        decided.append(application)
    awards.release_decisions(call, officer=officer)
    from grants.awards.models import Award

    active = db.session.scalar(select(Award).where(Award.application_id == decided[0].id))
    awards.accept_award(active, user=riverside, confirm_terms=True)
    first = active.milestones[0]
    # Payments tied to outcomes: the start-up report reaches one target and falls short of the other.
    sessions, reached = call.metrics[0], call.metrics[1]
    targets.set_milestone_targets(first, officer=officer, targets={sessions.id: 6, reached.id: 200})
    targets.set_milestone_targets(active.milestones[1], officer=officer, targets={sessions.id: 24, reached.id: 800})
    metrics = {metric.id: value for metric, value in zip(call.metrics, (6, 140))}
    content = reporting.ReportContent(
        narrative="Six barbershop conversations held; 140 residents took part. Barbers asked for a short guide on "
                  "side effects, which the clinic wrote with them.",
        metric_values=metrics, spending={BudgetCategory.PERSONNEL: _dollars(8_000),
                                         BudgetCategory.CONTRACTUAL: _dollars(6_000)},
        uploads=[reporting.Upload(BytesIO(DEMO_PDF), "start-up-report.pdf")])
    report = reporting.submit_report(first, author=riverside, content=content)
    reporting.sign_off_report(report, user=eastside)
    _demo_check_ins(active, riverside, eastside, officer)
    reporting.accept_report(
        first, officer=officer, comments="Thank you: a clear start.", shortfall_choice=ShortfallChoice.RELEASE,
        shortfall_reason="140 of the 200 residents: two sessions moved to the evening after the barbers asked, and "
                         "the first ones were smaller. The sessions are all held and the partnership is on track, so "
                         "the payment is released in full.")
    payment = first.payment
    payments.release_payment(payment, officer=officer, method=PaymentMethod.BANK_TRANSFER, confirmed=True)
    payments.mark_paid(payment, officer=officer, paid_on=today, reference="ACH 2026-0417", confirmed=True)
    # The next report's check-in, begun early: the partner's ratings fall; the lead has not answered yet.
    _answer(active.milestones[1], eastside, (4, 2, 5), "Still waiting for the second subaward instalment.",
            funds=_dollars(12_000))


DEMO_CHECK_IN = ("Decisions about the project are made jointly.",
                 "Our organisation receives its share of funds on time.",
                 "The community's priorities shape the work.")


def _answer(milestone, user: User, ratings, comment: str = "", funds: int | None = None) -> None:
    from grants.checkins import services as checkins

    statements = checkins.statements(milestone.award)
    checkins.answer_check_in(milestone, user=user, answer=checkins.Answer(
        ratings={s.id: rating for s, rating in zip(statements, ratings)},
        comments={statements[1].id: comment} if comment else {}, funds_received_cents=funds))


def _demo_check_ins(award, lead: User, partner: User, officer: User) -> None:
    """The call asks three check-in statements; both organisations answer the first report's
    (the partner, in confidence, on late payments) and staff note their follow-up."""
    from grants.calls.models import CheckInStatement
    from grants.checkins import services as checkins

    for text in DEMO_CHECK_IN:
        calls.add_call_item(award.call, CheckInStatement, changed_by=officer, text=text)
    first = award.milestones[0]
    _answer(first, lead, (5, 5, 4))
    _answer(first, partner, (4, 3, 5), "Our subaward payments arrive about six weeks after each invoice.",
            funds=_dollars(8_000))
    checkins.add_follow_up(award, officer=officer, note=(
        "Asked Riverside's grants office about the late subaward payments to Eastside; they now pay partner "
        "invoices within 30 days. Check again with the final report."))


def demo_logins_table() -> str:
    lines = ["| role | e-mail | password |", "|---|---|---|"]
    lines += [f"| {label} | {email} | {DEMO_PASSWORD} |" for label, email, *_ in DEMO_USERS]
    return "\n".join(lines)


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Only load into a database without users.")
def load_command(if_empty: bool) -> None:
    if if_empty and not database_is_empty():
        click.echo("The database already has users; demo data not loaded.")
    else:
        try:
            load_demo_data()
        except StorageUnavailable as exc:
            # The demo stores files: say what the store refused instead of a traceback.
            db.session.rollback()
            raise click.ClickException(f"Demo data not loaded. {exc.message} (The log above says why.)") from exc
        db.session.commit()
        click.echo("Demo data loaded.")
    click.echo("\nDemo logins:\n" + demo_logins_table())


# --- a two-stage call: letters of intent at every state, one invited full proposal ----------

def load_demo_two_stage_call(officer: User) -> None:
    """Letters of intent closed five days ago (full proposals close in six weeks): one draft
    never sent, one submitted and not screened, one invited (its full proposal in progress)
    and one declined, the invitations released in one go."""
    from grants.applications import letters_of_intent
    from grants.applications import services as applications
    from grants.applications.enums import LoiOutcome
    from grants.calls.enums import QuestionStage

    now = utcnow()
    today = in_zone(now, ZONE).date()
    fields = _small_call("Trusted Voices Two-Stage Grants 2027",
                         "A short letter of intent first; invited partnerships then send a full proposal.")
    call = calls.create_call(created_by=officer, time_zone=ZONE, opens_at=_day(-30, 9, today),
                             loi_closes_at=_day(-5, 17, today), closes_at=_day(40, 17, today), **fields)
    call.loi_min_partners = 1
    for position, (prompt, limit, stage) in enumerate([
            ("Which community will the partnership work with, and why now?", 300, QuestionStage.BOTH),
            ("In a paragraph: who are the partners and what will each do?", 150, QuestionStage.LOI),
            ("How will the partnership share what it hears back with the community?", 750, QuestionStage.FULL)]):
        calls.add_call_item(call, CallQuestion, changed_by=officer, prompt=prompt, help_text="", word_limit=limit,
                            is_required=True, stage=stage)
    for item_type, item_fields in SMALL_ITEMS:
        if item_type is not CallQuestion:
            calls.add_call_item(call, item_type, changed_by=officer, **item_fields)
    calls.publish_call(call, published_by=officer, now=call.opens_at - timedelta(days=7))
    call.published_at = call.opens_at - timedelta(days=7)

    user = services.find_user_by_email
    riverside, northgate = user("applicant@riverside.example"), user("applicant@northgate.example")
    eastside, lakecounty = user("applicant@eastside.example"), user("applicant@lakecounty.example")
    while_open = call.opens_at + timedelta(days=3)

    def letter(owner, partner, title, *, submit=True):
        loi = applications.start_application(call, owner=owner, title=title, now=while_open)
        applications.update_overview(loi, editor=owner, expected_version=None, title=title,
                                     summary="Trusted messengers from the neighbourhood, with clinicians.")
        applications.save_answers(loi, editor=owner, expected_version=None, texts={
            q.id: text for q, text in zip(loi.questions, DEMO_ANSWERS)})
        applications.add_partner(loi, editor=owner, expected_version=None, organisation=partner.organisation,
                                 contact_name=partner.full_name, contact_email=partner.email,
                                 role_in_project="Hosts the listening sessions.")
        if submit:
            applications.submit_application(loi, submitted_by=owner, expected_version=None, now=while_open)
            loi.submitted_at = while_open  # the transition stamps the real time, not the demo's
        db.session.flush()
        return loi

    invited = letter(riverside, eastside, "Barbershop health conversations")
    declined = letter(northgate, lakecounty, "Radio call-ins on clinic access")
    letter(northgate, eastside, "Faith leaders and flu season")  # submitted, not screened
    letter(riverside, lakecounty, "Neighbourhood data walks", submit=False)  # a draft never sent
    letters_of_intent.screen_loi(invited, officer=officer, outcome=LoiOutcome.INVITE,
                                 note="Clear partnership; strong community voice.")
    letters_of_intent.screen_loi(declined, officer=officer, outcome=LoiOutcome.DECLINE,
                                 note="Outside the call's region.")
    # The third letter is not screened yet: it waits for the next release.
    letters_of_intent.release_loi_decisions(call, officer=officer, now=now)
    proposal = letters_of_intent.start_full_proposal(invited, owner=riverside, now=now)
    full_question = next(q for q in proposal.questions if q.stage is QuestionStage.FULL)
    applications.save_answers(proposal, editor=riverside, expected_version=None,
                              texts={full_question.id: DEMO_ANSWERS[2]})
    db.session.flush()
