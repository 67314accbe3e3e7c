from __future__ import annotations

from playwright.sync_api import expect

from requisitions.models import Requisition
from tests.requisitions.factories import requisition_for


def test_an_office_worker_accepts_and_schedules_an_order(page, login, clinician, office_worker):
    requisition = requisition_for(clinician)
    assert requisition.office.code == "PR-OUS"
    login(office_worker)
    page.get_by_role("link", name="Kø").first.click()
    row = page.locator("table.queue tbody tr").first
    expect(row).to_contain_text(requisition.patient.name)
    row.get_by_role("link").click()
    page.get_by_role("button", name="Aksepter").click()
    expect(page.locator(".status.big")).to_have_text("Akseptert")
    page.get_by_label("Hentetid").fill("2030-01-15T08:30")
    page.get_by_label("Transportør eller kjøretøy").fill("Oslo Taxi, bil 12")
    page.get_by_role("button", name="Planlegg").click()
    expect(page.locator(".status.big")).to_have_text("Planlagt")
    requisition.refresh_from_db()
    assert requisition.status == "scheduled"
    assert requisition.provider_note == "Oslo Taxi, bil 12"
    assert Requisition.objects.get(pk=requisition.pk).pickup_at is not None
