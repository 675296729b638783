"""Languages: the applicant-facing pages, the calls' public pages and applicants' e-mails in
English and Spanish; staff pages stay English; the choice is remembered per person."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale

from grants.accounts.enums import OrganisationKind, Role
from grants.core.dates import format_date, format_instant
from grants.notifications.services import queue_email
from tests.calls.factories import build_call
from tests.conftest import fresh

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "grants" / "translations" / "es" / "LC_MESSAGES"
SPANISH = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}


# --- the catalogue ---------------------------------------------------------------------------

def _spanish_catalogue():
    with open(CATALOGUE / "messages.po", "rb") as po:
        return read_po(po, locale="es")


def test_every_text_marked_for_translation_has_its_spanish(tmp_path):
    """A text added to a template or module without its Spanish fails here, naming it, so
    a Spanish page never shows English unseen (`make translations`, then translate)."""
    template = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "-o", str(template), "."], cwd=ROOT, check=True)
    with open(template, "rb") as pot:
        # A text with a context (pgettext: "Active" of an award is not "Active" of a person) is its own entry.
        wanted = {(message.id, message.context) for message in read_po(pot) if message.id}
    catalogue = _spanish_catalogue()

    def is_untranslated(message_id, context) -> bool:
        message = catalogue.get(message_id, context=context)
        return (message is None or message.fuzzy
                or not all(message.string if isinstance(message_id, tuple) else [message.string]))

    untranslated = sorted(str(message_id) + (f" (context {context})" if context else "")
                          for message_id, context in wanted if is_untranslated(message_id, context))
    assert untranslated == []


def test_the_compiled_catalogue_is_the_one_written():
    """The app reads messages.mo: a .po edited without `make translations` would not show."""
    def texts(catalogue):
        as_key = lambda value: tuple(value) if isinstance(value, (list, tuple)) else value  # noqa: E731
        return {(message.context, as_key(message.id)): as_key(message.string) for message in catalogue if message.id}

    with open(CATALOGUE / "messages.mo", "rb") as mo:
        compiled = texts(read_mo(mo))
    assert compiled == texts(_spanish_catalogue())


# --- dates, money -------------------------------------------------------------------------------

def test_dates_and_instants_read_the_spanish_way_and_amounts_keep_us_separators(app):
    instant = datetime(2026, 12, 2, 13, 22, tzinfo=timezone.utc)  # 7:22 AM in Chicago
    with force_locale("es_US"):
        assert format_date(date(2026, 12, 2)) == "2 de diciembre de 2026"
        assert format_date(date(2026, 12, 2), with_year=False) == "2 de diciembre"
        assert format_instant(instant, "America/Chicago") == "2 de diciembre de 2026, 7:22 a.m. CST"
    assert format_instant(instant, "America/Chicago") == "2 December 2026, 7:22 AM CST"


# --- whose language ------------------------------------------------------------------------------

def test_the_browser_language_is_followed_until_someone_chooses(client):
    assert "Convocatorias" in client.get("/calls", headers=SPANISH).get_data(as_text=True)
    page = client.get("/calls").get_data(as_text=True)
    assert '<html lang="en">' in page and "Funding calls" in page


def test_the_switch_changes_the_language_and_returns_to_the_page(client):
    response = client.post("/language", data={"language": "es", "next": "/calls?page=2"})
    assert response.status_code == 303 and response.headers["Location"] == "/calls?page=2"
    page = client.get("/calls").get_data(as_text=True)
    assert '<html lang="es">' in page and "Abiertas ahora" in page
    # The switch offers the other language, marked as written in it.
    assert 'value="en"' in page and 'lang="en">English</button>' in page


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_the_switch_never_sends_anyone_off_the_site(client, target):
    response = client.post("/language", data={"language": "es", "next": target})
    assert response.headers["Location"] == "/"


def test_an_unknown_language_changes_nothing(client):
    client.post("/language", data={"language": "xx", "next": "/calls"})
    assert "Funding calls" in client.get("/calls").get_data(as_text=True)


def test_the_switch_is_protected_against_cross_site_requests(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/language", data={"language": "es", "next": "/calls"})
    assert response.status_code == 400
    assert "Funding calls" in client.get("/calls").get_data(as_text=True)


def test_a_choice_made_before_logging_in_becomes_the_accounts(client, login, make_user):
    applicant = make_user(Role.APPLICANT)
    client.post("/language", data={"language": "es", "next": "/"})
    login(applicant)
    assert fresh(applicant).language == "es"
    assert "Mis solicitudes" in client.get("/").get_data(as_text=True)


def test_a_logged_in_choice_follows_the_person_to_another_browser(app, client, login, make_user):
    applicant = make_user(Role.APPLICANT)
    login(applicant)
    client.post("/language", data={"language": "es", "next": "/"})
    assert fresh(applicant).language == "es"
    other_browser = app.test_client()
    login(applicant, the_client=other_browser)
    assert "Mis solicitudes" in other_browser.get("/").get_data(as_text=True)


def test_staff_pages_stay_english_and_offer_no_switch(client, login, make_user, make_organisation):
    officer = make_user(Role.PROGRAM_OFFICER, organisation=make_organisation(kind=OrganisationKind.OTHER))
    officer.language = "es"
    login(officer)
    page = client.get("/manage/calls", headers=SPANISH).get_data(as_text=True)
    assert '<html lang="en">' in page and "Manage calls" in page and "Gestionar" not in page
    assert 'action="/language"' not in page
    # The same person reads the public pages in the language they chose.
    assert "Convocatorias" in client.get("/calls").get_data(as_text=True)


# --- a call's own texts ------------------------------------------------------------------------

def test_a_calls_public_page_shows_its_spanish_texts_to_spanish_readers(client, make_user, make_organisation):
    officer = make_user(Role.PROGRAM_OFFICER, organisation=make_organisation(kind=OrganisationKind.OTHER))
    call = build_call(officer, publish=True, title_es="Alianzas de Confianza Comunitaria",
                      description_es="Construir **confianza** juntos.")
    spanish = client.get(f"/calls/{call.id}", headers=SPANISH).get_data(as_text=True)
    assert "<h1 class=\"h2\">Alianzas de Confianza Comunitaria</h1>" in spanish
    assert "<strong>confianza</strong>" in spanish
    assert "Datos clave" in spanish and "Requisitos de la alianza" in spanish
    # No Spanish summary was given: the English one is shown rather than nothing.
    assert "Money for partnerships." in spanish
    english = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "<h1 class=\"h2\">Community Trust Partnerships</h1>" in english and "Key facts" in english


def test_an_officer_gives_the_spanish_texts_in_the_calls_form(client, login, make_user, make_organisation):
    officer = make_user(Role.PROGRAM_OFFICER, organisation=make_organisation(kind=OrganisationKind.OTHER))
    call = build_call(officer)
    login(officer)
    form = client.get(f"/manage/calls/{call.id}/edit").get_data(as_text=True)
    assert 'name="title_es"' in form and "Title in Spanish (optional)" in form


# --- e-mails --------------------------------------------------------------------------------------

def test_an_email_is_written_in_its_readers_language_whoever_sends_it(app, make_user, outbox):
    reader = make_user(Role.APPLICANT, full_name="Ana Reyes")
    reader.language = "es"
    with app.test_request_context("/manage/calls"):  # an officer's page, in English
        queue_email(recipient=reader.email, recipient_user=reader, kind="test", template="application_invitation",
                    subject=_lazy_subject(), application=_Stub(title="Salud Juntos", call=_Stub(text_in=lambda f: "C")),
                    inviter=_Stub(full_name="Officer", organisation=_Stub(name="Funder")),
                    role=_Stub(label="Editor"), link="https://example.org/x")
    message = outbox()[-1]
    assert message.subject == "Invitación a trabajar en «Salud Juntos»"
    assert message.body.startswith("Hola:") and "le invita a trabajar en la solicitud" in message.body


def test_an_address_with_an_account_gets_its_accounts_language(app, make_user, outbox):
    reader = make_user(Role.APPLICANT)
    reader.language = "es"
    with app.test_request_context("/"):
        queue_email(recipient=reader.email.upper(), kind="test", template="application_invitation",
                    subject=_lazy_subject(), application=_Stub(title="T", call=_Stub(text_in=lambda f: "C")),
                    inviter=_Stub(full_name="A", organisation=_Stub(name="B")), role=_Stub(label="Viewer"),
                    link="https://example.org/x")
    assert outbox()[-1].body.startswith("Hola:")


def _lazy_subject():
    from flask_babel import lazy_gettext

    return lazy_gettext("Invitation to work on “%(title)s”", title="Salud Juntos")


class _Stub:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def _email_context():
    """What the applicant-facing e-mails read, as plain values (the services pass models)."""
    from datetime import UTC, date, datetime
    from types import SimpleNamespace as NS

    application = NS(title="Salud Juntos", reference_number="PG-2026-0001",
                     lead_organisation=NS(name="Clínica Norte"), requested_cents=9_000_000,
                     submitted_at=datetime(2027, 2, 1, 15, 0, tzinfo=UTC),
                     call=NS(text_in=lambda field: "Convocatoria", time_zone="America/Chicago"))
    payment = NS(amount_cents=500_000, hold=None, shortfall_justification=None, hold_reason=None,
                 milestone=NS(name="Kick-off"))
    milestone = NS(name="Kick-off", due_on=date(2027, 3, 1), payment=payment, is_final=False)
    return dict(
        user=NS(full_name="Ana Reyes", organisation=NS(name="Clínica Norte")), link="https://example.org/x",
        application=application, award=NS(application=application), milestone=milestone, payment=payment,
        amendment=NS(old_amount_cents=1, new_amount_cents=2, old_end_on=date(2027, 1, 1),
                     new_end_on=date(2027, 6, 1), reason="Más tiempo"),
        call=NS(text_in=lambda field: "Convocatoria"), old_deadline="A", new_deadline="B",
        overdue=False, days_left=3, ttl=60, reason="Falta un dato", accepted=True,
        report=NS(version=2, officer_comments="Bien"),
        partner=NS(contact_name="Luis", organisation=NS(name="Vecinos Unidos")),
    )


# The e-mails an applicant, partner or grantee receives (reviewers' and officers' stay English).
APPLICANT_EMAILS = ["award_amended", "call_deadline_extended", "milestone_reminder", "password_reset",
                    "payment_released", "registration_approved", "registration_rejected", "report_decided",
                    "report_sign_off_requested", "application_submitted", "decision_decline"]


@pytest.mark.parametrize("template", APPLICANT_EMAILS)
def test_an_applicants_email_has_no_english_line_left_in_spanish(app, template):
    from flask import render_template
    from flask_babel import force_locale

    context = _email_context()
    with app.test_request_context("/"):
        english = render_template(f"email/{template}.txt", **context).splitlines()
        with force_locale("es"):
            spanish = render_template(f"email/{template}.txt", **context).splitlines()
    # A line with words of its own (not only a value or a link) reads differently in Spanish.
    values = {"https://example.org/x", "Bien", "Falta un dato", ""}
    same = [line for line, other in zip(english, spanish) if line == other and line.strip() not in values]
    assert not same, same
    assert spanish[0].startswith("Hola")


def test_a_subjects_date_is_written_in_the_readers_language(app, make_user, outbox):
    from datetime import date

    from flask_babel import LazyString, lazy_gettext

    from grants.core.dates import format_date

    reader = make_user(Role.APPLICANT)
    reader.language = "es"
    subject = lazy_gettext("Report due %(day)s: %(milestone)s, %(reference)s",
                           day=LazyString(format_date, date(2027, 3, 5), with_year=False),
                           milestone="Kick-off", reference="PG-1")
    with app.test_request_context("/manage/calls"):
        queue_email(recipient=reader.email, recipient_user=reader, kind="test", template="registration_rejected",
                    subject=subject, user=reader, reason="-")
    assert outbox()[-1].subject == "Informe que vence el 5 de marzo: Kick-off, PG-1"


# --- the grantee's reports ----------------------------------------------------------------------

def test_a_grantee_reads_their_reports_and_payments_in_spanish(app, client, login, make_user, make_organisation):
    from grants.extensions import db
    from tests.reports.factories import partner_users, reporting_award, submit

    award = reporting_award(make_user, make_organisation)
    grantee = award.application.owner
    grantee.language = "es"
    inception = award.milestones[0]
    submit(inception, grantee)
    db.session.commit()
    login(grantee)

    dashboard = client.get("/my/awards").get_data(as_text=True)
    assert '<html lang="es">' in dashboard
    assert "<h1 class=\"h3\">Informes y pagos</h1>" in dashboard
    assert "Hitos y pagos" in dashboard and "Pendiente de pago" in dashboard and "Presentado" in dashboard
    assert "Reports and payments" not in dashboard and "Still to be paid" not in dashboard

    report_url = f"/awards/{award.id}/milestones/{inception.id}/report"
    report = client.get(report_url).get_data(as_text=True)
    assert f"Informe: {inception.name}" in report
    assert "Versiones presentadas" in report and "Relato" in report and "Esperando una decisión" in report
    assert "Visto bueno de los socios" in report and "responsable de programa" in report
    assert "Submitted versions" not in report and "Narrative" not in report

    # A refusal reads in Spanish too: the next milestone submitted without its narrative.
    interim = award.milestones[1]
    refused = client.post(f"/awards/{award.id}/milestones/{interim.id}/report", data={
        "narrative": "", "submit_report": "yes"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Escriba el relato" in page and "Write the narrative" not in page

    # The partner's sign-off page, for a partner contact who reads Spanish.
    partner = partner_users(award)[0]
    partner.language = "es"
    db.session.commit()
    partner_client = app.test_client()
    login(partner, the_client=partner_client)
    sign_off = partner_client.get(f"{report_url}/sign-off").get_data(as_text=True)
    assert f"Dar el visto bueno al informe: {inception.name}" in sign_off and "Sign off the report" not in sign_off
