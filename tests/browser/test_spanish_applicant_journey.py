"""Issue #9, in Spanish: a new applicant switches the site to Español, checks on a call's
public page that their organisation can apply, starts an application, works through the task
list, checks their answers, submits, and opens the printable record — every page in Spanish,
with dates the Spanish way ("2 de diciembre de 2026") and amounts in US dollars.

The call and the applicant are made for this test through the live app (a call without
partners, documents or sign-off, so the journey stays the applicant's own), and its dates are
counted from today, so the test holds on any day.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.browser.helpers import Page, expect  # skips this module where playwright is missing

ZONE = "America/Chicago"
CALL_TITLE = "Community Voices Small Grants 2027"
CALL_TITLE_ES = "Pequeñas Subvenciones Voces de la Comunidad 2027"
QUESTION = "How will residents take part in the project?"
APPLICANT = "ana.flores@riverside.example"
PROJECT = "Conversaciones en la barbería"
SPANISH_DATE = re.compile(r"\b\d{1,2} de (enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
                          r"octubre|noviembre|diciembre) de \d{4}\b")


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flash(page: Page):
    return page.get_by_role("status").first


def section_tab(page: Page, name: str):
    return page.get_by_role("navigation", name="Secciones de la solicitud").get_by_role("link", name=name, exact=True)


def a_call_and_a_new_applicant(live_server) -> tuple[int, str]:
    """A published call open from yesterday for thirty days, and a new applicant of a member
    institution who never chose a language. Returns the call's id and its closing date as the
    Spanish pages write it."""
    from flask_babel import force_locale
    from sqlalchemy import select

    from grants.accounts import services as accounts
    from grants.accounts.enums import OrganisationKind, Role
    from grants.accounts.models import Organisation
    from grants.calls import services as calls
    from grants.calls.models import CallQuestion, MilestoneTemplate, RubricCriterion
    from grants.core.dates import format_instant
    from grants.extensions import db

    with live_server.app.app_context():
        officer = accounts.find_user_by_email("officer@grants.example")
        today = datetime.now(ZoneInfo(ZONE)).date()
        opens_at = datetime.combine(today - timedelta(days=1), time(9), tzinfo=ZoneInfo(ZONE))
        closes_at = datetime.combine(today + timedelta(days=30), time(17), tzinfo=ZoneInfo(ZONE))
        call = calls.create_call(
            created_by=officer, time_zone=ZONE, opens_at=opens_at, closes_at=closes_at, title=CALL_TITLE,
            summary="Up to $40,000 for a member institution that listens to its neighbours.",
            description="Small grants for listening sessions.", eligibility="A member institution leads.",
            title_es=CALL_TITLE_ES,
            summary_es="Hasta $40,000 para una institución miembro que escucha a sus vecinos.",
            award_floor_cents=1_000_000, award_ceiling_cents=4_000_000, total_funds_cents=20_000_000,
            expected_awards=5, lead_kinds=[OrganisationKind.MEMBER_INSTITUTION], partner_kinds=[],
            min_partners=0, min_community_share_percent=0, requires_partner_signoff=False)
        calls.add_call_item(call, CallQuestion, changed_by=officer, prompt=QUESTION, help_text="",
                            word_limit=100, is_required=True)
        calls.add_call_item(call, RubricCriterion, changed_by=officer, name="Community voice", description="",
                            weight=100, scale_min=1, scale_max=5, anchors="")
        calls.add_call_item(call, MilestoneTemplate, changed_by=officer, name="Final report", offset_days=365,
                            payment_share_percent=100)
        calls.publish_call(call, published_by=officer)
        riverside = db.session.scalars(select(Organisation).where(
            Organisation.name == "Riverside University Medical Center")).one()
        accounts.create_user(email=APPLICANT, full_name="Ana Flores", password="a long Spanish passphrase",
                             organisation=riverside, roles={Role.APPLICANT}, created_by=None)
        db.session.commit()
        with force_locale("es_US"):
            closes = format_instant(call.closes_at, ZONE)
        return call.id, closes


def test_a_new_applicant_applies_in_spanish_from_the_eligibility_check_to_the_record(page: Page, live_server,
                                                                                      shot):
    call_id, closes_in_spanish = a_call_and_a_new_applicant(live_server)
    assert SPANISH_DATE.search(closes_in_spanish)

    # The switch, before logging in: remembered on this browser, then on the account.
    page.goto(f"/calls/{call_id}")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(heading(page)).to_contain_text(CALL_TITLE_ES)

    # Check before you start: nothing is kept, and the verdict says why.
    page.get_by_role("link", name="¿Podemos presentar una solicitud? Compruébelo en un minuto").click()
    expect(heading(page)).to_have_text("¿Podemos presentar una solicitud?")
    page.get_by_role("group", name="¿Qué tipo de organización dirigiría la solicitud?") \
        .get_by_label("Institución miembro").check()
    page.get_by_label("¿Cuánto pediría, aproximadamente? (opcional)").fill("30,000")
    page.get_by_role("button", name="Comprobar").click()
    expect(page.get_by_role("heading", name="Sí: según lo que nos dice, puede presentar una solicitud")).to_be_visible()
    shot("eligibility-yes", page)

    page.get_by_role("link", name="Iniciar sesión").first.click()
    page.get_by_label("Correo electrónico", exact=True).fill(APPLICANT)
    page.get_by_label("Contraseña", exact=True).fill("a long Spanish passphrase")
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")

    # Start the application from the call's public page.
    page.goto(f"/calls/{call_id}/apply")
    expect(heading(page)).to_have_text("Comenzar una solicitud")
    expect(page.get_by_role("main")).to_contain_text(f"Cierra el {closes_in_spanish}")
    page.get_by_label("Título provisional del proyecto").fill(PROJECT)
    page.get_by_role("button", name="Comenzar la solicitud").click()

    # The task list: every section with its status, in Spanish.
    expect(flash(page)).to_contain_text("Su solicitud ya comenzó.")
    expect(heading(page)).to_have_text("Lista de tareas")
    tasks = page.locator(".task-list")
    expect(tasks).to_contain_text("Título y resumen del proyecto")
    expect(tasks).to_contain_text("Respuestas a las preguntas de la convocatoria")
    expect(tasks).to_contain_text("Sin empezar")
    expect(tasks).to_contain_text("Todavía no se puede empezar")
    expect(page.get_by_role("main")).to_contain_text(f"La convocatoria cierra el {closes_in_spanish}.")
    shot("task-list", page)

    # Overview.
    tasks.get_by_role("link", name="Título y resumen del proyecto").click()
    expect(heading(page)).to_have_text("Descripción general")
    page.get_by_label("Resumen").fill("Barberos de confianza hablan con sus clientes sobre la investigación del corazón.")
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(flash(page)).to_contain_text("Se guardó la descripción general.")

    # Answers.
    section_tab(page, "Respuestas").click()
    expect(heading(page)).to_have_text("Respuestas")
    expect(page.get_by_role("main")).to_contain_text("0 de 100 palabras")
    page.get_by_label(QUESTION).fill("Los vecinos deciden los temas y dirigen las conversaciones.")
    expect(page.get_by_role("main")).to_contain_text("9 de 100 palabras")
    page.get_by_role("button", name="Guardar las respuestas").click()
    expect(flash(page)).to_contain_text("Se guardaron las respuestas.")

    # Budget: one line, the amount in US dollars.
    section_tab(page, "Presupuesto").click()
    expect(heading(page)).to_have_text("Presupuesto")
    page.get_by_label("Categoría").select_option(label="Personal")
    page.get_by_label("Descripción").fill("Coordinador comunitario")
    page.get_by_label("Monto (USD)").fill("30,000")
    page.get_by_role("button", name="Agregar la partida").click()
    expect(flash(page)).to_contain_text("Se agregó la partida del presupuesto.")
    expect(page.get_by_role("main")).to_contain_text("$30,000")

    # The task list now lets them check and submit.
    section_tab(page, "Lista de tareas").click()
    expect(page.get_by_role("main")).to_contain_text("ya puede revisar sus respuestas y presentar la solicitud")
    expect(page.locator(".task-list")).to_contain_text("Completada")

    # Check your answers, with a Change link per answer.
    section_tab(page, "Revisar y presentar").click()
    expect(heading(page)).to_have_text("Revise sus respuestas")
    expect(page.get_by_role("link", name="Cambiar el título del proyecto")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Total solicitado")
    shot("check-your-answers", page)
    page.get_by_role("button", name="Presentar la solicitud").click()

    # The confirmation: the reference, what happens next, whom to write to.
    expect(heading(page)).to_have_text("Solicitud presentada")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Su número de referencia")
    reference = re.search(r"PG-\d{4}-\d{3}-\d{4}", main.inner_text()).group(0)
    expect(page.get_by_role("heading", name="Qué sigue")).to_be_visible()
    expect(main).to_contain_text(f"Hasta el {closes_in_spanish}")
    expect(main).to_contain_text(f"Después del cierre de la convocatoria, el {closes_in_spanish}")
    assert SPANISH_DATE.search(main.inner_text())
    shot("submitted", page)

    # The printable record, with the time of submission in the call's time zone, in Spanish.
    page.get_by_role("link", name="Ver e imprimir la solicitud completa tal como se presentó").click()
    expect(heading(page)).to_have_text(f"Solicitud {reference}")
    record = page.get_by_role("main")
    expect(record).to_contain_text("Esta es la solicitud tal como se presentó")
    expect(record).to_contain_text("Los vecinos deciden los temas")
    expect(record).to_contain_text("Coordinador comunitario")
    submitted = record.locator("dt", has_text="Presentada").locator("xpath=following-sibling::dd[1]")
    expect(submitted).to_have_text(re.compile(SPANISH_DATE.pattern + r", \d{1,2}:\d{2} [ap]\.\s?m\. C[SD]T"))
    shot("record", page)

    # And later, from My applications.
    page.get_by_role("link", name="Mis solicitudes").first.click()
    expect(heading(page)).to_have_text("Mis solicitudes")
    expect(page.get_by_role("link", name=f"Copia de {reference}")).to_be_visible()
