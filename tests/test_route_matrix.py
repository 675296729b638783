"""Every URL rule × every kind of user: the expected answer, so no route ships unguarded.

A new route without an entry in MATRIX fails test_every_route_is_in_the_matrix.
Answers: OK (the page or action is served: 2xx, a redirect that is not to the login page,
or 400 for the empty form this test posts), LOGIN (redirect to the login page), 403, 404.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

import pytest

from grants.accounts.enums import OrganisationKind, Role, UserStatus
from grants.accounts.services import add_organisation_document
from grants.applications.services import start_application
from grants.extensions import db
from tests.calls.factories import build_call
from tests.conftest import PASSWORD, create_organisation, create_user, rolled_back_database

OK, LOGIN = "ok", "login"
# The reviewer's submitted review says this; nobody but staff and the reviewers who have
# submitted theirs may read it.
OTHER_REVIEW_COMMENT = "Matrix comment only other submitted reviewers may read"
ACTORS = (
    "anonymous",
    "applicant",  # of the lead organisation; owns every application below
    "other_organisation",  # an applicant of an unrelated organisation
    "reviewer",  # holds the assignments below (one submitted, one not attested yet)
    "conflicted_reviewer",  # of a partner organisation of the reviewed application, assigned to it all the same
    "pending_reviewer",  # attested on the reviewed application, own review not submitted yet
    "partner_collaborator",  # of a partner organisation: an editor on the applications and awards
    "viewer_collaborator",  # of another partner organisation: a viewer on them
    "program_officer",
    "admin",
    "deactivated",  # of the lead organisation; logged in, then deactivated by an admin
    "suspended",  # an editor on the draft; logged in, then their organisation was suspended
)
# Their sessions have ended: whatever cookie they still hold, they are anonymous.
SIGNED_OUT = ("deactivated", "suspended")


@dataclass
class Route:
    method: str
    url: callable  # world -> str
    expect: dict  # actor -> answer

    def __post_init__(self):
        self.expect = {**self.expect, **{actor: self.expect["anonymous"] for actor in SIGNED_OUT}}
        assert self.expect.keys() == set(ACTORS), f"give every actor an answer: {set(ACTORS) ^ self.expect.keys()}"


def everyone(answer):
    return {actor: answer for actor in ACTORS}


def signed_in(answer, anonymous=LOGIN):
    return {**everyone(answer), "anonymous": anonymous}


def only(*actors, others=403):
    return {**signed_in(others), **{actor: OK for actor in actors}}


ADMIN_ONLY = only("admin")
STAFF_ONLY = only("program_officer", "admin")
# The applicant's own organisation: its members and funder staff see it; anyone else gets a 404.
OWN_ORGANISATION = {**signed_in(404), "applicant": OK, "program_officer": OK, "admin": OK}
EDIT_OWN_ORGANISATION = {**signed_in(404), "applicant": 403, "program_officer": 403, "admin": OK}
# A draft call: funder staff manage it; to anyone else it does not exist. A published call is
# public, so managing it is refused openly.
DRAFT_CALL_STAFF = {**signed_in(404), "program_officer": OK, "admin": OK}
PUBLISHED_CALL_STAFF = {**signed_in(403), "program_officer": OK, "admin": OK}
# The partners' collaborators see what the owner sees; only an editor changes a draft, and
# only the owner manages people, withdraws and answers an offer (refused openly: they see it).
COLLABORATORS = {"partner_collaborator": OK, "viewer_collaborator": OK}
OWNER_ONLY = {"applicant": OK, "partner_collaborator": 403, "viewer_collaborator": 403}
# A submitted application: its owner, collaborators and funder staff see it; to anyone else
# it does not exist.
SUBMITTED_APPLICATION = {**signed_in(404), **COLLABORATORS, "applicant": OK, "program_officer": OK, "admin": OK}
# A submitted application's content is frozen: changing it is refused to those who can see it.
SUBMITTED_READ_ONLY = {**SUBMITTED_APPLICATION, **OWNER_ONLY, "applicant": 403, "program_officer": 403,
                       "admin": 403}
# A draft is private to its owner and collaborators: even funder staff do not see it.
OWN_DRAFT = {**signed_in(404), **COLLABORATORS, "applicant": OK}
EDIT_OWN_DRAFT = {**OWN_DRAFT, "viewer_collaborator": 403}
# A review assignment is private to its reviewer: to anyone else it does not exist.
OWN_ASSIGNMENT = {**signed_in(404), "reviewer": OK}
# An award: its grantees (the applicant owns the application) and funder staff see it; to
# anyone else it does not exist. Only the owner answers the offer; staff are refused openly.
OWN_AWARD = {**signed_in(404), **COLLABORATORS, "applicant": OK, "program_officer": OK, "admin": OK}
OFFER_ANSWER = {**signed_in(404), **OWNER_ONLY, "program_officer": 403, "admin": 403}
# Reviewers' stipends: payments to named people, managed by funder staff; to anyone else the
# pages do not exist (a reviewer sees their own stipends on their list, reviews.my_reviews).
STIPENDS = {**signed_in(404), "program_officer": OK, "admin": OK}
# Pages of the Reviewer role (not of one assignment).
REVIEWERS = {**signed_in(403), "reviewer": OK, "conflicted_reviewer": OK, "pending_reviewer": OK}

MATRIX: dict[str, Route] = {
    "static": Route("GET", lambda w: "/static/css/grants.css", everyone(OK)),
    "core.home": Route("GET", lambda w: "/", everyone(OK)),
    "core.healthz": Route("GET", lambda w: "/healthz", everyone(OK)),
    "core.favicon": Route("GET", lambda w: "/favicon.ico", everyone(OK)),
    "core.set_language": Route("POST", lambda w: "/language", everyone(OK)),
    "accounts.login": Route("GET", lambda w: "/login", everyone(OK)),
    "accounts.logout": Route("POST", lambda w: "/logout", signed_in(OK)),
    "accounts.register": Route("GET", lambda w: "/register", everyone(OK)),
    "accounts.forgot_password": Route("GET", lambda w: "/password/forgot", everyone(OK)),
    "accounts.reset_password": Route("GET", lambda w: "/password/reset/not-a-token", everyone(404)),
    "accounts.account": Route("GET", lambda w: "/account", signed_in(OK)),
    "api_tokens.tokens": Route("GET", lambda w: "/account/api-tokens", signed_in(OK)),
    "api_tokens.revoke": Route("POST", lambda w: f"/account/api-tokens/{w.api_tokens['applicant'][0]}/revoke",
                               {**signed_in(404), "applicant": OK}),
    # The JSON API takes a bearer token, never the session cookie: every actor's cookie gets 401
    # (what each actor's token gets is API_MATRIX below).
    "api.openapi": Route("GET", lambda w: "/api/v1/openapi.json", everyone(OK)),
    **{f"api.{name}": Route("GET", url, everyone("401")) for name, (url, _expect) in {
        "calls": (lambda w: "/api/v1/calls", None), "call": (lambda w: f"/api/v1/calls/{w.published_call.id}", None),
        "applications": (lambda w: "/api/v1/applications", None),
        "application": (lambda w: f"/api/v1/applications/{w.submitted_application.id}", None),
        "review_figures": (lambda w: f"/api/v1/calls/{w.published_call.id}/review-figures", None),
        "awards": (lambda w: "/api/v1/awards", None), "award": (lambda w: f"/api/v1/awards/{w.active_award.id}", None),
        "milestones": (lambda w: "/api/v1/milestones", None), "payments": (lambda w: "/api/v1/payments", None),
        "outcomes": (lambda w: "/api/v1/outcomes", None), "portfolio": (lambda w: "/api/v1/portfolio", None),
    }.items()},
    "accounts.my_organisation": Route("GET", lambda w: "/my-organisation", signed_in(OK)),
    "accounts.users": Route("GET", lambda w: "/admin/users", ADMIN_ONLY),
    "accounts.new_user": Route("GET", lambda w: "/admin/users/new", ADMIN_ONLY),
    "accounts.user_detail": Route("GET", lambda w: f"/admin/users/{w.applicant.id}", ADMIN_ONLY),
    "accounts.deactivate_user": Route("POST", lambda w: f"/admin/users/{w.applicant.id}/deactivate", ADMIN_ONLY),
    "accounts.reactivate_user": Route("POST", lambda w: f"/admin/users/{w.applicant.id}/reactivate", ADMIN_ONLY),
    "accounts.pending_registrations": Route("GET", lambda w: "/admin/registrations", ADMIN_ONLY),
    "accounts.approve_registration": Route("POST", lambda w: f"/admin/registrations/{w.pending.id}/approve",
                                           ADMIN_ONLY),
    "accounts.reject_registration": Route("POST", lambda w: f"/admin/registrations/{w.pending.id}/reject",
                                          ADMIN_ONLY),
    "accounts.organisations": Route("GET", lambda w: "/organisations", STAFF_ONLY),
    "accounts.new_organisation": Route("GET", lambda w: "/organisations/new", ADMIN_ONLY),
    "accounts.organisation_detail": Route("GET", lambda w: f"/organisations/{w.organisation.id}",
                                          OWN_ORGANISATION),
    "accounts.edit_organisation": Route("GET", lambda w: f"/organisations/{w.organisation.id}/edit",
                                        EDIT_OWN_ORGANISATION),
    "accounts.suspend_organisation": Route("POST", lambda w: f"/organisations/{w.organisation.id}/suspend",
                                           EDIT_OWN_ORGANISATION),
    "accounts.approve_organisation": Route("POST", lambda w: f"/organisations/{w.organisation.id}/approve",
                                           EDIT_OWN_ORGANISATION),
    "accounts.add_organisation_document": Route(
        "POST", lambda w: f"/organisations/{w.organisation.id}/documents",
        {**signed_in(404), "applicant": OK, "program_officer": 403, "admin": OK}),
    "accounts.download_organisation_document": Route(
        "GET", lambda w: f"/organisations/{w.organisation.id}/documents/{w.document.id}", OWN_ORGANISATION),
    "audit.log": Route("GET", lambda w: "/audit/", STAFF_ONLY),
    "calls.list_calls": Route("GET", lambda w: "/calls", everyone(OK)),
    "calls.call_detail": Route("GET", lambda w: f"/calls/{w.draft_call.id}",
                               {**everyone(404), "program_officer": OK, "admin": OK}),
    # A draft call's eligibility check is as hidden as the call (a published one's is public).
    "calls.check_eligibility": Route("GET", lambda w: f"/calls/{w.draft_call.id}/can-we-apply",
                                     {**everyone(404), "program_officer": OK, "admin": OK}),
    "calls.manage_calls": Route("GET", lambda w: "/manage/calls", STAFF_ONLY),
    "calls.new_call": Route("GET", lambda w: "/manage/calls/new", STAFF_ONLY),
    "calls.manage_call": Route("GET", lambda w: f"/manage/calls/{w.draft_call.id}", DRAFT_CALL_STAFF),
    "calls.edit_call": Route("GET", lambda w: f"/manage/calls/{w.draft_call.id}/edit", DRAFT_CALL_STAFF),
    "calls.edit_rules": Route("GET", lambda w: f"/manage/calls/{w.published_call.id}/rules", PUBLISHED_CALL_STAFF),
    "calls.preview_call": Route("GET", lambda w: f"/manage/calls/{w.draft_call.id}/preview", DRAFT_CALL_STAFF),
    "calls.publish_call": Route("POST", lambda w: f"/manage/calls/{w.draft_call.id}/publish", DRAFT_CALL_STAFF),
    "calls.archive_call": Route("POST", lambda w: f"/manage/calls/{w.published_call.id}/archive",
                                PUBLISHED_CALL_STAFF),
    "calls.new_item": Route("GET", lambda w: f"/manage/calls/{w.draft_call.id}/questions/new", DRAFT_CALL_STAFF),
    "calls.edit_item": Route("GET", lambda w: f"/manage/calls/{w.draft_call.id}/documents/"
                                              f"{w.draft_call.documents[0].id}", DRAFT_CALL_STAFF),
    "calls.remove_item": Route("POST", lambda w: f"/manage/calls/{w.draft_call.id}/criteria/"
                                                 f"{w.draft_call.criteria[0].id}/remove", DRAFT_CALL_STAFF),
    "calls.move_item": Route("POST", lambda w: f"/manage/calls/{w.published_call.id}/questions/"
                                               f"{w.published_call.questions[0].id}/move", PUBLISHED_CALL_STAFF),
    # The applicant's own pages: starting from an open call (led by a member institution, so
    # the community nonprofit's applicant may not), the draft's sections, submitting, withdrawing.
    "applications.start_application": Route(
        "GET", lambda w: f"/calls/{w.submitted_application.call_id}/apply", {**signed_in(403), "applicant": OK}),
    "applications.my_applications": Route("GET", lambda w: "/applications", signed_in(OK)),
    "applications.application_detail": Route("GET", lambda w: f"/applications/{w.draft_application.id}", OWN_DRAFT),
    "applications.check_answers": Route("GET", lambda w: f"/applications/{w.draft_application.id}/check",
                                        OWN_DRAFT),
    # The confirmation and the record of a submitted application: whoever may see it.
    "applications.submitted": Route("GET", lambda w: f"/applications/{w.submitted_application.id}/submitted",
                                    SUBMITTED_APPLICATION),
    "applications.application_record": Route("GET", lambda w: f"/applications/{w.submitted_application.id}/record",
                                             SUBMITTED_APPLICATION),
    "applications.edit_overview": Route("GET", lambda w: f"/applications/{w.draft_application.id}/overview",
                                        EDIT_OWN_DRAFT),
    "applications.edit_answers": Route("GET", lambda w: f"/applications/{w.draft_application.id}/answers",
                                       EDIT_OWN_DRAFT),
    "applications.partners": Route("GET", lambda w: f"/applications/{w.draft_application.id}/partners", OWN_DRAFT),
    "applications.budget": Route("GET", lambda w: f"/applications/{w.draft_application.id}/budget", OWN_DRAFT),
    "applications.submit_application": Route("POST", lambda w: f"/applications/{w.draft_application.id}/submit",
                                             EDIT_OWN_DRAFT),
    "applications.edit_partner": Route(
        "GET", lambda w: f"/applications/{w.submitted_application.id}/partners/"
                         f"{w.submitted_application.partners[0].id}/edit", SUBMITTED_READ_ONLY),
    "applications.remove_partner": Route(
        "POST", lambda w: f"/applications/{w.submitted_application.id}/partners/"
                          f"{w.submitted_application.partners[0].id}/remove", SUBMITTED_READ_ONLY),
    "applications.edit_budget_line": Route(
        "GET", lambda w: f"/applications/{w.submitted_application.id}/budget/"
                         f"{w.submitted_application.budget_lines[0].id}/edit", SUBMITTED_READ_ONLY),
    "applications.remove_budget_line": Route(
        "POST", lambda w: f"/applications/{w.submitted_application.id}/budget/"
                          f"{w.submitted_application.budget_lines[0].id}/remove", SUBMITTED_READ_ONLY),
    "applications.withdraw_application": Route(
        "POST", lambda w: f"/applications/{w.submitted_application.id}/withdraw",
        {**SUBMITTED_APPLICATION, **OWNER_ONLY, "program_officer": 403, "admin": 403}),
    # Only the owner discards a draft (asked to confirm first); its collaborators are refused openly.
    "applications.discard_application": Route(
        "GET", lambda w: f"/applications/{w.draft_application.id}/discard", {**OWN_DRAFT, **OWNER_ONLY}),
    # Intake: funder staff only, whatever the applicant's relationship to the application.
    "applications.intake": Route("GET", lambda w: f"/manage/calls/{w.submitted_application.call_id}/applications",
                                 STAFF_ONLY),
    "applications.intake_csv": Route(
        "GET", lambda w: f"/manage/calls/{w.submitted_application.call_id}/applications.csv", STAFF_ONLY),
    "applications.intake_partners_csv": Route(
        "GET", lambda w: f"/manage/calls/{w.submitted_application.call_id}/partners.csv", STAFF_ONLY),
    "applications.intake_application": Route("GET", lambda w: f"/manage/applications/{w.submitted_application.id}",
                                             STAFF_ONLY),
    "applications.screen": Route("POST", lambda w: f"/manage/applications/{w.submitted_application.id}/screen",
                                 STAFF_ONLY),
    # Two-stage calls: staff screen letters of intent and release the invitations; only the
    # invited lead starts the full proposal (staff, who may see the letter, are refused openly).
    "applications.letters_of_intent_list": Route(
        "GET", lambda w: f"/manage/calls/{w.invited_loi.call_id}/letters-of-intent", STAFF_ONLY),
    "applications.screen_letter_of_intent": Route(
        "POST", lambda w: f"/manage/letters-of-intent/{w.submitted_loi.id}/screen", STAFF_ONLY),
    "applications.release_letters_of_intent": Route(
        "POST", lambda w: f"/manage/calls/{w.invited_loi.call_id}/letters-of-intent/release", STAFF_ONLY),
    "applications.start_full_proposal": Route(
        "POST", lambda w: f"/applications/{w.invited_loi.id}/full-proposal",
        {**signed_in(404), "applicant": OK, "program_officer": 403, "admin": 403}),
    # Documents, people and sign-off of the applicant's submitted application: its owner and
    # funder staff see them; nobody can change a submitted application's files; only the owner
    # manages people; to anyone else the application does not exist.
    "applications.documents": Route("GET", lambda w: f"/applications/{w.submitted_application.id}/documents",
                                    SUBMITTED_APPLICATION),
    "applications.upload_document": Route(
        "POST", lambda w: f"/applications/{w.submitted_application.id}/documents/"
                          f"{w.submitted_application.call.documents[0].id}",
        SUBMITTED_READ_ONLY),
    "applications.download_document": Route(
        "GET", lambda w: f"/applications/{w.submitted_application.id}/documents/file/"
                         f"{w.submitted_application.documents[0].id}", SUBMITTED_APPLICATION),
    "applications.collaborators": Route(
        "GET", lambda w: f"/applications/{w.submitted_application.id}/collaborators", SUBMITTED_APPLICATION),
    "applications.revoke_collaborator": Route(
        "POST", lambda w: f"/applications/{w.submitted_application.id}/collaborators/"
                          f"{w.submitted_application.collaborators[0].id}/revoke",
        {**SUBMITTED_APPLICATION, **OWNER_ONLY, "program_officer": 403, "admin": 403}),
    "applications.accept_invitation": Route("GET", lambda w: "/invitations/not-a-token", signed_in(404)),
    # An open invitation listed on its invitee's home page: theirs alone (to anyone else it does
    # not exist); addressed to someone of neither the lead nor a partner, it is refused openly.
    "applications.open_invitation": Route("GET", lambda w: f"/my/invitations/{w.open_invitation.id}",
                                          {**signed_in(404), "other_organisation": 403}),
    "applications.partner_sign_off": Route(
        "GET", lambda w: f"/applications/{w.submitted_application.id}/partners/"
                         f"{w.submitted_application.partners[0].id}/sign-off", SUBMITTED_APPLICATION),
    # Scoring: the reviewer's own (attested, submitted) assignment; to anyone else, even funder
    # staff, it does not exist. The ranking and its detail and CSV: funder staff only.
    "reviews.read_application": Route("GET", lambda w: f"/reviews/assignments/{w.scoring_assignment.id}/application",
                                      OWN_ASSIGNMENT),
    "reviews.review_document": Route(
        "GET", lambda w: f"/reviews/assignments/{w.scoring_assignment.id}/documents/"
                         f"{w.scoring_assignment.application.documents[0].id}", OWN_ASSIGNMENT),
    "reviews.edit_review": Route("GET", lambda w: f"/reviews/assignments/{w.scoring_assignment.id}/review",
                                 OWN_ASSIGNMENT),
    "reviews.other_reviews": Route("GET", lambda w: f"/reviews/assignments/{w.scoring_assignment.id}/others",
                                   OWN_ASSIGNMENT),
    "reviews.ranking": Route("GET", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/ranking", STAFF_ONLY),
    "reviews.ranking_detail": Route(
        "GET", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/ranking/"
                         f"{w.scoring_assignment.application_id}", STAFF_ONLY),
    "reviews.ranking_csv": Route("GET", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/ranking.csv",
                                 STAFF_ONLY),
    # Panels and assignments: the officer's pages are funder staff's (a published call is
    # public, so they are refused openly); the reviewer's list is the Reviewer role's, and
    # an assignment's page and answers are its reviewer's alone.
    "reviews.review_setup": Route("GET", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/review",
                                  STAFF_ONLY),
    "reviews.invite_reviewer": Route("POST", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/review/invite",
                                     STAFF_ONLY),
    "reviews.update_panel_member": Route("POST", lambda w: f"/manage/panel-members/{_panel_member(w).id}",
                                         STAFF_ONLY),
    "reviews.remove_panel_member": Route("POST", lambda w: f"/manage/panel-members/{_panel_member(w).id}/remove",
                                         STAFF_ONLY),
    "reviews.assignments": Route("GET", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/assignments",
                                 STAFF_ONLY),
    "reviews.assign_manually": Route(
        "POST", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/assignments/manual", STAFF_ONLY),
    "reviews.confirm_proposal": Route(
        "POST", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/assignments/confirm", STAFF_ONLY),
    "reviews.waive_conflict": Route("POST", lambda w: f"/manage/assignments/{w.open_assignment.id}/waive",
                                    STAFF_ONLY),
    "reviews.withdraw_assignment": Route("POST", lambda w: f"/manage/assignments/{w.open_assignment.id}/withdraw",
                                         STAFF_ONLY),
    "reviews.call_stipends": Route("GET", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/stipends",
                                   STIPENDS),
    "reviews.stipends_csv": Route("GET", lambda w: f"/manage/calls/{w.scoring_assignment.call_id}/stipends.csv",
                                  STIPENDS),
    "reviews.mark_stipend_paid": Route("POST", lambda w: f"/manage/panel-members/{_panel_member(w).id}/stipend/paid",
                                       STIPENDS),
    "reviews.undo_stipend_paid": Route("POST", lambda w: f"/manage/panel-members/{_panel_member(w).id}/stipend/undo",
                                       STIPENDS),
    "reviews.my_reviews": Route("GET", lambda w: "/reviews", REVIEWERS),
    "reviews.assignment_detail": Route("GET", lambda w: f"/reviews/assignments/{w.open_assignment.id}",
                                       OWN_ASSIGNMENT),
    "reviews.attest": Route("POST", lambda w: f"/reviews/assignments/{w.open_assignment.id}/attest", OWN_ASSIGNMENT),
    "reviews.declare_conflict": Route(
        "POST", lambda w: f"/reviews/assignments/{w.open_assignment.id}/declare-conflict", OWN_ASSIGNMENT),
    "reviews.decline_assignment": Route("POST", lambda w: f"/reviews/assignments/{w.open_assignment.id}/decline",
                                        OWN_ASSIGNMENT),
    "reviews.accept_panel_invitation": Route("GET", lambda w: "/panel-invitations/not-a-token", signed_in(404)),
    "reviews.open_panel_invitation": Route("GET", lambda w: f"/my/panel-invitations/{w.open_panel_invitation.id}",
                                           {**signed_in(404), "pending_reviewer": OK}),
    # Decisions and awards: the officer's pages are funder staff's; the grantee's award page is
    # its grantees' and staff's, and only the application's owner accepts or declines.
    "awards.decisions": Route("GET", lambda w: f"/manage/calls/{w.offered_award.call_id}/decisions", STAFF_ONLY),
    "awards.decide": Route("POST", lambda w: f"/manage/applications/{w.open_assignment.application_id}/decision",
                           STAFF_ONLY),
    "awards.decide_in_bulk": Route("POST", lambda w: f"/manage/calls/{w.offered_award.call_id}/decisions/bulk",
                                   STAFF_ONLY),
    "awards.release": Route("POST", lambda w: f"/manage/calls/{w.offered_award.call_id}/decisions/release",
                            STAFF_ONLY),
    "awards.manage_award": Route("GET", lambda w: f"/manage/awards/{w.active_award.id}", STAFF_ONLY),
    "awards.amend_award": Route("POST", lambda w: f"/manage/awards/{w.active_award.id}/amend", STAFF_ONLY),
    "awards.add_milestone": Route("POST", lambda w: f"/manage/awards/{w.active_award.id}/milestones", STAFF_ONLY),
    "awards.adjust_milestone": Route("POST", lambda w: f"/manage/milestones/{w.active_award.milestones[0].id}",
                                     STAFF_ONLY),
    "awards.my_awards": Route("GET", lambda w: "/awards", signed_in(OK)),
    "awards.award_detail": Route("GET", lambda w: f"/awards/{w.offered_award.id}", OWN_AWARD),
    "awards.accept_award": Route("POST", lambda w: f"/awards/{w.offered_award.id}/accept", OFFER_ANSWER),
    "awards.decline_award": Route("POST", lambda w: f"/awards/{w.offered_award.id}/decline", OFFER_ANSWER),
    # Milestone reports: the grantee's pages are the award's (its grantees and staff; 404 to anyone
    # else); a draft's file is the grantee team's alone. Reviewing reports, payments and the
    # portfolio are funder staff's.
    "awards.milestone_report": Route(
        "GET", lambda w: f"/awards/{w.active_award.id}/milestones/{w.active_award.milestones[0].id}/report", OWN_AWARD),
    "awards.report_document": Route(
        "GET", lambda w: f"/awards/{w.active_award.id}/milestones/{w.active_award.milestones[0].id}/report/files/"
                         f"{w.draft_report_file.id}", OWN_DRAFT),
    "awards.report_sign_off": Route(
        "GET", lambda w: f"/awards/{w.active_award.id}/milestones/{w.active_award.milestones[0].id}/report/sign-off",
        OWN_AWARD),
    "awards.grantee_dashboard": Route("GET", lambda w: "/my/awards", signed_in(OK)),
    # A held payment's revised plan comes from the grantee's team; staff are refused openly (they see the award).
    "awards.submit_revised_plan": Route(
        "POST", lambda w: f"/awards/{w.active_award.id}/milestones/{w.active_award.milestones[0].id}/revised-plan",
        {**OWN_AWARD, "program_officer": 403, "admin": 403}),
    # Partnership check-ins: each organisation's own page is the award's (staff see a pointer to
    # theirs); every organisation's answers, the trend and follow-up notes are funder staff's.
    "checkins.check_in": Route(
        "GET", lambda w: f"/awards/{w.active_award.id}/milestones/{w.active_award.milestones[0].id}/check-in",
        OWN_AWARD),
    "checkins.award_health": Route("GET", lambda w: f"/manage/awards/{w.active_award.id}/partnership", STAFF_ONLY),
    "checkins.add_follow_up": Route("POST", lambda w: f"/manage/awards/{w.active_award.id}/partnership/follow-up",
                                    STAFF_ONLY),
    "checkins.portfolio_health": Route("GET", lambda w: "/manage/portfolio/partnership", STAFF_ONLY),
    "awards.review_milestone": Route("GET", lambda w: f"/manage/milestones/{w.active_award.milestones[0].id}",
                                     STAFF_ONLY),
    "awards.accept_milestone_report": Route(
        "POST", lambda w: f"/manage/milestones/{w.active_award.milestones[0].id}/accept", STAFF_ONLY),
    "awards.request_milestone_revision": Route(
        "POST", lambda w: f"/manage/milestones/{w.active_award.milestones[0].id}/revision", STAFF_ONLY),
    "awards.set_milestone_targets": Route(
        "POST", lambda w: f"/manage/milestones/{w.active_award.milestones[0].id}/targets", STAFF_ONLY),
    "awards.accept_revised_plan": Route(
        "POST", lambda w: f"/manage/payments/{w.active_award.payments[0].id}/plan/accept", STAFF_ONLY),
    "awards.return_revised_plan": Route(
        "POST", lambda w: f"/manage/payments/{w.active_award.payments[0].id}/plan/return", STAFF_ONLY),
    "awards.release_payment": Route("POST", lambda w: f"/manage/payments/{w.active_award.payments[0].id}/release",
                                    STAFF_ONLY),
    "awards.mark_payment_paid": Route("POST", lambda w: f"/manage/payments/{w.active_award.payments[0].id}/paid",
                                      STAFF_ONLY),
    "awards.portfolio": Route("GET", lambda w: "/manage/portfolio", STAFF_ONLY),
    "awards.call_portfolio": Route("GET", lambda w: f"/manage/calls/{w.active_award.call_id}/portfolio", STAFF_ONLY),
    "awards.portfolio_csv": Route("GET", lambda w: "/manage/portfolio.csv", STAFF_ONLY),
}


def own_assignment(owner, answer=OK):
    return {**signed_in(404), owner: answer}


def _on_assignment(which: str, owner: str, answers: dict) -> dict[str, Route]:
    """The reviewer's pages of ``owner``'s assignment (World.<which>_assignment), each with
    ``owner``'s answer; to anyone else the assignment does not exist."""
    def path(suffix):
        return lambda w: f"/reviews/assignments/{getattr(w, which + '_assignment').id}{suffix}"

    def document(w):
        assignment = getattr(w, which + "_assignment")
        return f"/reviews/assignments/{assignment.id}/documents/{assignment.application.documents[0].id}"

    pages = {"reviews.assignment_detail": ("GET", path("")),
             "reviews.declare_conflict": ("POST", path("/declare-conflict")),
             "reviews.read_application": ("GET", path("/application")),
             "reviews.review_document": ("GET", document),
             "reviews.edit_review": ("GET", path("/review")),
             "reviews.other_reviews": ("GET", path("/others"))}
    return {f"{endpoint}[{which}]": Route(pages[endpoint][0], pages[endpoint][1], own_assignment(owner, answer))
            for endpoint, answer in answers.items()}


# The same routes on other objects: "endpoint[which]". The conflicted reviewer's own
# assignment is refused to them outright (conflicts are checked on every request, whatever
# the assignment's state): they never read or score the application. The pending reviewer
# reads and scores it, but sees the others' reviews only once their own is submitted.
VARIANTS: dict[str, Route] = {
    **_on_assignment("conflicted", "conflicted_reviewer", {
        "reviews.assignment_detail": 403, "reviews.declare_conflict": 403, "reviews.read_application": 403,
        "reviews.review_document": 403, "reviews.edit_review": 403, "reviews.other_reviews": 403}),
    **_on_assignment("pending", "pending_reviewer", {
        "reviews.read_application": OK, "reviews.review_document": OK, "reviews.edit_review": OK,
        "reviews.other_reviews": 403}),
}


def _answering_get_and_post() -> set[str]:
    from grants import create_test_app

    return {rule.endpoint for rule in create_test_app().url_map.iter_rules() if {"GET", "POST"} <= rule.methods}


# A page that is also its form's target (GET and POST): MATRIX checks the page; posting to
# it gets the same answers (the empty form this test posts is refused as 400: OK), except
# where someone who may see the page may not change what it shows (refused openly).
SEE_BUT_NOT_CHANGE = {
    "applications.budget": {"viewer_collaborator": 403},
    "applications.partners": {"viewer_collaborator": 403},
    # Only the owner invites people.
    "applications.collaborators": {"partner_collaborator": 403, "viewer_collaborator": 403, "program_officer": 403,
                                   "admin": 403},
    # Staff read the report; only the grantee's team files it.
    "awards.milestone_report": {"program_officer": 403, "admin": 403},
    # A report not submitted yet has nothing to sign off.
    "awards.report_sign_off": {actor: 403 for actor in ("applicant", "partner_collaborator", "viewer_collaborator",
                                                        "program_officer", "admin")},
    # Each organisation of the partnership answers its own check-in: a collaborator whose
    # organisation is not a partner of this award, and funder staff, have none to answer.
    "checkins.check_in": {"partner_collaborator": 403, "viewer_collaborator": 403, "program_officer": 403,
                          "admin": 403},
}
POSTS = {f"{endpoint}[POST]": Route("POST", route.url, {**route.expect, **SEE_BUT_NOT_CHANGE.get(endpoint, {})})
         for endpoint, route in MATRIX.items() if route.method == "GET" and endpoint in _answering_get_and_post()}
ROUTES = {**MATRIX, **VARIANTS, **POSTS}
# Who may read another reviewer's comment: its author and funder staff.
MAY_READ_REVIEWS = ("reviewer", "program_officer", "admin")


@dataclass
class World:
    applicant: object
    other_organisation: object
    reviewer: object
    program_officer: object
    admin: object
    pending: object
    organisation: object
    document: object
    draft_call: object
    published_call: object
    submitted_application: object = None  # the applicant's, with two partners of its own
    draft_application: object = None  # the applicant's, to the same call
    scoring_assignment: object = None  # the reviewer's, submitted, on an in-review application of the applicant's
    open_assignment: object = None  # the reviewer's, assigned (not attested yet), on another such application
    offered_award: object = None  # on an application of the applicant's (rows only), waiting for an answer
    active_award: object = None  # on another, accepted: milestones and payments
    draft_report_file: object = None  # a file of the applicant's draft report on active_award's first milestone
    conflicted_reviewer: object = None
    conflicted_assignment: object = None  # theirs, attested, on scoring_assignment's application
    pending_reviewer: object = None
    pending_assignment: object = None  # theirs, attested, a draft review, on scoring_assignment's application
    partner_collaborator: object = None
    viewer_collaborator: object = None
    deactivated: object = None
    suspended: object = None
    api_tokens: dict = None  # actor -> (token id, secret): each actor's API token, every scope
    open_invitation: object = None  # to the draft, for other_organisation (who could never accept it)
    open_panel_invitation: object = None  # to the published call's panel, for pending_reviewer
    invited_loi: object = None  # the applicant's letter of intent to a two-stage call, invited
    submitted_loi: object = None  # the applicant's other letter to it, submitted and screened


def build_world(make_user, make_organisation) -> World:
    funder = make_organisation("Funder", kind=OrganisationKind.OTHER)
    organisation = make_organisation("Riverside Medical")
    applicant = make_user(Role.APPLICANT, organisation=organisation)
    document = add_organisation_document(organisation, title="Registration", stream=BytesIO(b"%PDF-1.7\n%%EOF\n"),
                                         filename="registration.pdf", uploaded_by=applicant)
    program_officer = make_user(Role.PROGRAM_OFFICER, organisation=funder)
    world = World(
        applicant=applicant,
        other_organisation=make_user(Role.APPLICANT, organisation=make_organisation("Eastside Alliance",
                                                                                    kind=OrganisationKind.COMMUNITY_NONPROFIT)),
        reviewer=make_user(Role.REVIEWER, organisation=make_organisation("Northgate University")),
        program_officer=program_officer,
        admin=make_user(Role.ADMIN, organisation=funder),
        pending=make_user(status=UserStatus.PENDING),
        organisation=organisation,
        document=document,
        draft_call=build_call(program_officer, title="Unannounced draft call"),
        published_call=build_call(program_officer, title="Published open call", publish=True),
    )
    world.submitted_application, partner_users = _submitted_application(applicant, make_user, make_organisation)
    world.partner_collaborator, world.viewer_collaborator = partner_users
    world.draft_application = start_application(world.submitted_application.call, owner=applicant,
                                                title="A draft in progress")
    world.scoring_assignment = _scoring_assignment(world.submitted_application.call, applicant, world.reviewer)
    world.open_assignment = _open_assignment(world.submitted_application.call, applicant, world.reviewer)
    world.offered_award, world.active_award = _awards(world.submitted_application.call, applicant, program_officer)
    world.draft_report_file = _draft_report_file(world.active_award, applicant)
    world.deactivated = make_user(Role.APPLICANT, organisation=organisation)
    world.suspended = make_user(Role.APPLICANT, organisation=make_organisation(
        "Suspended Neighbours", kind=OrganisationKind.COMMUNITY_NONPROFIT))
    _collaborators(world)
    _reviewers(world, make_user, make_organisation)
    _open_invitations(world)
    world.invited_loi, world.submitted_loi = _letters_of_intent(applicant, program_officer)
    world.api_tokens = _api_tokens(world)
    return world


def _api_tokens(world) -> dict:
    from grants.api.services import SCOPES, create_token

    tokens = {}
    for actor in ACTORS[1:]:
        token, secret = create_token(getattr(world, actor), name="Matrix", scopes=list(SCOPES), lifetime_days=30)
        tokens[actor] = (token.id, secret)
    return tokens


def _collaborators(world):
    """The partners' staff work on every application of the applicant's: one edits, one views."""
    from tests.applications.fixtures import invite_and_accept

    from grants.applications.enums import CollaboratorRole

    # complete_application invited both partner contacts as viewers for their sign-off.
    for collaborator in world.submitted_application.collaborators:
        if collaborator.user_id == world.partner_collaborator.id:
            collaborator.role = CollaboratorRole.EDITOR
    for application in (world.draft_application, world.offered_award.application, world.active_award.application):
        invite_and_accept(application, world.partner_collaborator, CollaboratorRole.EDITOR)
        invite_and_accept(application, world.viewer_collaborator, CollaboratorRole.VIEWER)
    invite_and_accept(world.draft_application, world.suspended, CollaboratorRole.EDITOR)


def _open_invitations(world):
    """Invitations not answered yet (rows only: the service would refuse the first)."""
    from grants.applications.enums import CollaboratorRole
    from grants.applications.models import Collaborator
    from grants.reviews.models import PanelMember

    world.open_invitation = Collaborator(email=world.other_organisation.email, role=CollaboratorRole.VIEWER,
                                         token_hash="matrix-open-invitation", invited_by_id=world.applicant.id)
    world.draft_application.collaborators.append(world.open_invitation)
    world.open_panel_invitation = PanelMember(call_id=world.published_call.id, email=world.pending_reviewer.email,
                                              token_hash="matrix-open-panel-invitation")
    db.session.add(world.open_panel_invitation)
    db.session.flush()


def _reviewers(world, make_user, make_organisation):
    """A reviewer of a partner organisation of the reviewed application (conflicted, assigned
    and attested all the same: rows allow what the rules refuse), and one who has not
    submitted their own review yet."""
    from tests.reviews.fixtures import assign
    from tests.reviews.scoring_factories import submitted_review

    from grants.applications.models import Partner

    application = world.scoring_assignment.application
    partner_organisation = make_organisation("Matrix conflicted partner", kind=OrganisationKind.COMMUNITY_NONPROFIT)
    application.partners.append(Partner(organisation_id=partner_organisation.id, contact_name="Pat Partner",
                                        contact_email="pat@conflicted.example", role_in_project="Outreach"))
    world.conflicted_reviewer = make_user(Role.REVIEWER, organisation=partner_organisation)
    world.conflicted_assignment = assign(application, world.conflicted_reviewer)
    world.pending_reviewer = make_user(Role.REVIEWER, organisation=make_organisation("Lakeside College"))
    world.pending_assignment = assign(application, world.pending_reviewer)
    submitted_review(application, world.pending_reviewer, 60, submit=False)


def _submitted_application(owner, make_user, make_organisation):
    from tests.applications.fixtures import make_application, make_call

    partners = [make_user(Role.APPLICANT, organisation=make_organisation(f"Matrix partner {kind.value}", kind=kind))
                for kind in (OrganisationKind.COMMUNITY_NONPROFIT, OrganisationKind.PUBLIC_HEALTH_AGENCY)]
    return make_application(make_call(title="Call with a submitted application"), owner, submitted=True,
                            partner_users=partners), partners


def _letters_of_intent(owner, officer):
    """A two-stage call whose letters of intent have closed (full proposals still open): one
    of the applicant's letters invited, another submitted and screened (rows only)."""
    from datetime import timedelta

    from grants.applications.enums import ApplicationStatus, LoiOutcome
    from grants.calls.enums import QuestionStage
    from grants.core.types import utcnow
    from tests.applications.fixtures import make_call

    call = make_call(title="Two-stage call")
    call.loi_closes_at = utcnow() + timedelta(days=1)
    call.questions[0].stage = QuestionStage.BOTH
    lois = [start_application(call, owner=owner, title=title) for title in ("Invited letter", "Screened letter")]
    now = utcnow()
    for number, loi in enumerate(lois, 1):
        loi.status, loi.reference_number, loi.submitted_at = ApplicationStatus.SUBMITTED, f"LOI-M-{number}", now
    lois[0].status, lois[0].invited_at = ApplicationStatus.INVITED, now
    lois[1].loi_outcome = LoiOutcome.INVITE
    call.loi_closes_at = now - timedelta(hours=1)
    db.session.flush()
    return lois


def _scoring_assignment(call, owner, reviewer):
    """``reviewer``'s submitted review of an in-review application (rows only) with one document."""
    from tests.applications.fixtures import PDF
    from tests.reviews.fixtures import assign
    from tests.reviews.scoring_factories import light_application, submitted_review

    from grants.applications.models import ApplicationDocument
    from grants.attachments.services import store_upload

    application = light_application(call, owner, title="Matrix application in review")
    stored = store_upload(BytesIO(PDF), "proposal.pdf", uploaded_by=owner)
    application.documents.append(ApplicationDocument(call_document_id=call.documents[0].id, stored_file=stored))
    assignment = assign(application, reviewer)
    submitted_review(application, reviewer, 80, comment=OTHER_REVIEW_COMMENT)
    return assignment


def _open_assignment(call, owner, reviewer):
    from tests.reviews.fixtures import assign
    from tests.reviews.scoring_factories import light_application

    return assign(light_application(call, owner, title="Matrix application to attest"), reviewer, attested=False)


def _awards(call, owner, officer):
    from tests.awards.fixtures import make_active_award, make_offered_award
    from tests.reviews.scoring_factories import light_application

    offered = make_offered_award(None, None, officer=officer,
                                 application=light_application(call, owner, title="Matrix application offered"))
    active = make_active_award(None, None, officer=officer, milestones=None,
                               application=light_application(call, owner, title="Matrix application awarded"))
    return offered, active


def _draft_report_file(award, owner):
    from tests.applications.fixtures import PDF

    from grants.reports.services import ReportContent, Upload, save_report_draft

    draft = save_report_draft(award.milestones[0], author=owner, content=ReportContent(
        narrative="Matrix draft", uploads=[Upload(BytesIO(PDF), "matrix-draft.pdf")]))
    return draft.documents[0]


def _panel_member(world):
    """The reviewer's place on the panel of the call with the applicant's applications."""
    from sqlalchemy import select

    from grants.reviews.models import PanelMember

    return db.session.scalar(select(PanelMember).where(PanelMember.call_id == world.open_assignment.call_id,
                                                       PanelMember.user_id == world.reviewer.id))


@dataclass
class Facts:
    """What the tests need from the world, read once: its objects are not touched again."""

    urls: dict  # endpoint -> URL
    cookies: dict  # actor -> session cookie of a login made while building the world
    api_urls: dict  # API_MATRIX endpoint -> URL
    api_secrets: dict  # actor -> their API token
    secrets: tuple  # text a refusal must never carry
    extra_urls: dict = None  # name -> URL: what a module asked built_world for


@contextmanager
def built_world(app, *, extend=None, extra_urls=None):
    """Build the world inside a transaction rolled back at the end; yield (facts, connection).
    ``extend(world)`` adds objects of a module's own; ``extra_urls`` (name -> world -> URL)
    are read while the world is live, into ``facts.extra_urls``."""
    with app.app_context(), rolled_back_database() as connection:
        world = build_world(create_user, create_organisation)
        if extend is not None:
            extend(world)
        db.session.commit()
        facts = Facts(urls={endpoint: route.url(world) for endpoint, route in ROUTES.items()},
                      cookies={actor: _session_cookie(app, getattr(world, actor)) for actor in ACTORS[1:]},
                      api_urls={endpoint: url(world) for endpoint, (url, _expect) in API_MATRIX.items()},
                      api_secrets={actor: secret for actor, (_id, secret) in world.api_tokens.items()},
                      secrets=(world.organisation.name, world.draft_call.title),
                      extra_urls={name: url(world) for name, url in (extra_urls or {}).items()})
        _end_sessions(world)
        db.session.commit()
        db.session.close()
        yield facts, connection


@pytest.fixture(scope="module")
def matrix(app):
    """The world, built once for the module; each test runs in a savepoint of its own (see
    `database` below)."""
    with built_world(app) as built:
        yield built


def _end_sessions(world):
    from grants.accounts.services import deactivate_user, suspend_organisation

    deactivate_user(world.deactivated, deactivated_by=world.admin)
    suspend_organisation(world.suspended.organisation, suspended_by=world.admin, reason="Matrix: audit pending")


def _session_cookie(app, user) -> str:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


@pytest.fixture
def database(matrix):
    """Overrides the suite's: a savepoint inside the module's world, rolled back after each
    test, so a POST that deactivates, publishes or logs out leaves the world as it was."""
    _facts, connection = matrix
    savepoint = connection.begin_nested()
    try:
        yield db.session
    finally:
        db.session.remove()
        if savepoint.is_active:
            savepoint.rollback()


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - MATRIX.keys() == set(), "add these routes to MATRIX with the answer each user should get"
    assert MATRIX.keys() - endpoints == set(), "MATRIX names routes that no longer exist"
    assert {key.split("[")[0] for key in VARIANTS} - endpoints == set(), "VARIANTS name routes that no longer exist"
    assert SEE_BUT_NOT_CHANGE.keys() - {key.split("[")[0] for key in POSTS} == set(), "SEE_BUT_NOT_CHANGE: not a page"
    # Posting never answers more people than the page does.
    assert [(key, actor) for key, route in POSTS.items() for actor, answer in route.expect.items()
            if answer == OK and MATRIX[key.split("[")[0]].expect[actor] != OK] == []


def _answer(response) -> str:
    status = response.status_code
    if status in (302, 303) and response.location.startswith("/login"):
        return LOGIN
    if status in (200, 302, 303, 400):
        return OK
    return str(status) if status not in (403, 404) else status


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_each_kind_of_user(app, client, matrix, endpoint, actor):
    facts, _connection = matrix
    route, url = ROUTES[endpoint], facts.urls[endpoint]
    if actor != "anonymous":
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], facts.cookies[actor])
    response = client.open(url, method=route.method)
    try:
        assert _answer(response) == route.expect[actor], (
            f"{route.method} {url} as {actor}: expected {route.expect[actor]}, got {response.status_code}")
        if route.expect[actor] in (403, 404):
            # A refusal never carries the object's content.
            page = response.get_data(as_text=True)
            assert not [secret for secret in facts.secrets if secret in page]
        if actor not in MAY_READ_REVIEWS:
            assert OTHER_REVIEW_COMMENT.encode() not in response.get_data(), f"{url} shows {actor} another's review"
    finally:
        response.close()


# --- the JSON API with each actor's own token -----------------------------------------------------

def _by_token(expect: dict) -> dict:
    """With a token, as on the pages; no token, or one whose user can no longer log in: 401."""
    return {**expect, "anonymous": "401", **{actor: "401" for actor in SIGNED_OUT}}


STAFF_ELSE_HIDDEN = {**everyone(404), "program_officer": OK, "admin": OK}
API_MATRIX = {
    "api.calls": (lambda w: "/api/v1/calls", _by_token(everyone(OK))),
    "api.call": (lambda w: f"/api/v1/calls/{w.draft_call.id}", _by_token(STAFF_ELSE_HIDDEN)),
    "api.applications": (lambda w: "/api/v1/applications", _by_token(everyone(OK))),
    "api.application": (lambda w: f"/api/v1/applications/{w.submitted_application.id}",
                        _by_token({**everyone(404), **COLLABORATORS, "applicant": OK, "program_officer": OK,
                                   "admin": OK})),
    "api.review_figures": (lambda w: f"/api/v1/calls/{w.submitted_application.call_id}/review-figures",
                           _by_token(STAFF_ELSE_HIDDEN)),
    "api.awards": (lambda w: "/api/v1/awards", _by_token(everyone(OK))),
    "api.award": (lambda w: f"/api/v1/awards/{w.active_award.id}",
                  _by_token({**everyone(404), **COLLABORATORS, "applicant": OK, "program_officer": OK, "admin": OK})),
    "api.milestones": (lambda w: "/api/v1/milestones", _by_token(everyone(OK))),
    "api.payments": (lambda w: "/api/v1/payments", _by_token(everyone(OK))),
    "api.outcomes": (lambda w: "/api/v1/outcomes", _by_token(everyone(OK))),
    "api.portfolio": (lambda w: "/api/v1/portfolio", _by_token(STAFF_ELSE_HIDDEN)),
}


def test_every_api_endpoint_is_in_the_api_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    assert endpoints - {"api.openapi"} == API_MATRIX.keys()


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", sorted(API_MATRIX))
def test_api_answers_each_kind_of_user_by_token(client, matrix, endpoint, actor):
    facts, _connection = matrix
    _url, expect = API_MATRIX[endpoint]
    headers = {"Authorization": f"Bearer {facts.api_secrets[actor]}"} if actor != "anonymous" else {}
    response = client.get(facts.api_urls[endpoint], headers=headers)
    assert _answer(response) == expect[actor], (
        f"{facts.api_urls[endpoint]} as {actor}: expected {expect[actor]}, got {response.status_code}")
    if response.status_code == 200 and endpoint.endswith("s") and actor not in ("program_officer", "admin"):
        # A list shows only what the actor may see: never the draft call or another's draft.
        body = response.get_data(as_text=True)
        assert "Unannounced draft call" not in body
