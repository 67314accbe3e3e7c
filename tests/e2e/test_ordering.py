"""User journeys of ordering: a clinician, a clerk with attestation, and a keyboard-only user."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from requisitions.models import Requisition
from requisitions.national_id import make_synthetic_national_id

NEXT_WEEK = dt.date.today() + dt.timedelta(days=8)


def answer_taxi_checklist(page):
    for question in (
        "acute_symptoms",
        "can_travel_independently",
        "needs_monitoring",
        "needs_medical_equipment",
        "must_lie_down",
    ):
        page.locator(f"#q_{question}_no").check()
    page.locator("#q_mobility_walks_with_aid").check()


def fill_patient_and_trip(page, seed=1):
    page.get_by_label("Fødselsnummer (11 siffer)").fill(make_synthetic_national_id(seed))
    page.get_by_label("Fullt navn").fill("Test Testesen")
    page.get_by_label("Mobiltelefon").fill("912 34 567")
    page.get_by_label("Hjemmeadresse").fill("Storgata 1")
    page.locator("#id_postal_code").fill("0150")
    page.get_by_label("Behandlingssted (adresse)").fill("Kirkeveien 166")
    page.get_by_label("Postnummer til behandlingssted").fill("0450")
    page.get_by_label("Dato for timen").fill(NEXT_WEEK.isoformat())
    page.get_by_label("Klokkeslett for timen").fill("10:00")


def test_a_clinician_orders_a_taxi_and_sees_it_listed(page, login, clinician):
    login(clinician)
    page.get_by_role("link", name="Ny bestilling").first.click()
    fill_patient_and_trip(page)
    answer_taxi_checklist(page)
    expect(page.locator("#recommendation")).to_contain_text("Drosje")
    expect(page.locator("#level_taxi")).to_be_checked()
    expect(page.locator("#routing-preview")).to_contain_text("Pasientreiser Oslo universitetssykehus")
    page.get_by_role("button", name="Se over bestillingen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Se over bestillingen")
    page.get_by_role("button", name="Send bestillingen").click()
    expect(page.get_by_role("status").first).to_contain_text("Bestillingen er mottatt")
    expect(page.locator(".status.big")).to_have_text("Videresendt")
    page.get_by_role("link", name="Alle bestillinger").click()
    expect(page.locator("table.orders tbody")).to_contain_text("Test Testesen")
    assert Requisition.objects.get().level == "taxi"


def test_a_wrong_national_id_is_explained_next_to_the_field_and_nothing_is_lost(page, login, clinician):
    login(clinician)
    page.goto("/bestillinger/ny/")
    fill_patient_and_trip(page)
    page.get_by_label("Fødselsnummer (11 siffer)").fill("01010112345")
    answer_taxi_checklist(page)
    page.get_by_role("button", name="Se over bestillingen").click()
    expect(page.locator("#id_national_id_error")).to_contain_text("kontrollsifferet")
    expect(page.get_by_label("Fullt navn")).to_have_value("Test Testesen")
    expect(page.locator("#q_mobility_walks_with_aid")).to_be_checked()


def test_a_clerk_enters_an_order_and_the_clinician_attests_it(page, login, clerk, clinician):
    login(clerk)
    page.goto("/bestillinger/ny/")
    page.get_by_label("Behandler som skal attestere bestillingen").select_option(label="Lise Lege")
    fill_patient_and_trip(page, seed=2)
    answer_taxi_checklist(page)
    page.get_by_role("button", name="Se over bestillingen").click()
    page.get_by_role("button", name="Send bestillingen").click()
    expect(page.locator(".status.big")).to_have_text("Venter på attestering")
    page.get_by_role("button", name="Logg ut").click()

    login(clinician)
    page.get_by_role("link", name="Til attestering").click()
    page.locator(".cards a").first.click()
    page.get_by_role("button", name="Attester og send").click()
    expect(page.locator(".status.big")).to_have_text("Videresendt")
    requisition = Requisition.objects.get()
    assert requisition.entered_by == clerk
    assert requisition.events.filter(action="requisition.submitted", actor=clinician).exists()


def test_acute_symptoms_stop_the_order_with_a_call_113_message(page, login, clinician):
    login(clinician)
    page.goto("/bestillinger/ny/")
    page.locator("#q_acute_symptoms_yes").check()
    expect(page.get_by_role("alert")).to_contain_text("Ring 113")


def test_a_keyboard_only_user_completes_the_checklist(page, login, clinician):
    login(clinician)
    page.goto("/bestillinger/ny/")
    page.locator("#q_acute_symptoms_no").focus()
    page.keyboard.press("Space")
    answers = ["can_travel_independently", "needs_monitoring", "needs_medical_equipment"]
    for question in answers:
        # Tab leaves the radio group; Arrow keys move within it; Space selects.
        page.keyboard.press("Tab")
        expect(page.locator(f"#q_{question}_yes")).to_be_focused()
        page.keyboard.press("ArrowRight")
        expect(page.locator(f"#q_{question}_no")).to_be_checked()
    page.keyboard.press("Tab")  # oxygen: "none" is preselected
    page.keyboard.press("Tab")  # danger checkbox
    page.keyboard.press("Tab")  # must_lie_down
    page.keyboard.press("ArrowRight")
    expect(page.locator("#q_must_lie_down_no")).to_be_checked()
    page.keyboard.press("Tab")  # mobility
    page.keyboard.press("ArrowDown")
    expect(page.locator("#q_mobility_walks_with_aid")).to_be_checked()
    expect(page.locator("#recommendation")).to_contain_text("Drosje")


def test_a_patient_the_unit_has_ordered_for_before_is_filled_in(page, login, clinician):
    from tests.requisitions.factories import requisition_for

    earlier = requisition_for(clinician)
    login(clinician)
    page.goto("/bestillinger/ny/")
    page.get_by_label("Fødselsnummer (11 siffer)").fill(earlier.patient.national_id)
    page.get_by_label("Fødselsnummer (11 siffer)").press("Tab")
    expect(page.get_by_label("Fullt navn")).to_have_value(earlier.patient.name)
    expect(page.locator("#postal_code-place")).to_contain_text("Oslo")
