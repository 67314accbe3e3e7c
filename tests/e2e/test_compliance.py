"""Compliance journeys: an auditor opens the dashboards, drills down and downloads a CSV; a clinician
reads their own practice. Strings not yet translated are matched by id or role, not by text."""

from __future__ import annotations

import csv
import io
import os
import re

import pytest
from playwright.sync_api import expect

from portal.models import AccessLog
from requisitions import states
from requisitions.rollup import rollup_flush
from tests.requisitions.factories import advance, order_body, requisition_for, soon

SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS", "")  # a directory: keep screenshots for a look


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def export_files(settings, tmp_path):
    """Large exports write under MEDIA_ROOT (var/ otherwise): keep them out of the work tree."""
    settings.MEDIA_ROOT = str(tmp_path)


def late_body(seed: int) -> dict:
    body = order_body(seed=seed, with_return=False)
    body["trips"][0]["appointment_at"] = soon()
    return body


def make_orders(clinician, office_worker):
    late = requisition_for(clinician, body=late_body(1))
    on_time = requisition_for(clinician, body=order_body(seed=2))
    returned = requisition_for(clinician, body=order_body(seed=3))
    advance(returned, by=office_worker, to=states.RETURNED, note="Hvilken etasje?")
    rollup_flush()  # what the beat task does every few seconds in production
    return late, on_time, returned


def test_an_auditor_drills_down_from_the_dashboard_and_downloads_a_csv(page, login, auditor, clinician, office_worker):
    late, _on_time, _returned = make_orders(clinician, office_worker)
    login(auditor)
    page.locator("nav.site-nav a[href='/praksis/revisjon/']").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("#dimension-table tbody")).to_contain_text("Lise Lege")
    expect(page.locator("#dimension-table img, .chart img").first).to_be_visible()
    _shot(page, "audit-dashboard")

    page.locator(".dimension-nav a[href*='by=week']").click()
    expect(page.locator(".dimension-nav a[aria-current='page']")).to_have_attribute(
        "href", "/praksis/revisjon/?" + page.url.split("?", 1)[1]
    )
    _shot(page, "audit-week")

    page.locator(".dimension-nav a[href*='by=requisitioner']").click()
    page.locator("#dimension-table tbody tr", has_text="Lise Lege").get_by_role("link").click()
    expect(page.locator("#orders-table tbody tr")).to_have_count(3)

    page.locator("#a-flag").select_option("late")  # htmx swaps the results
    expect(page.locator("#orders-table tbody tr")).to_have_count(1)
    expect(page.locator("#orders-table tbody")).to_contain_text(f"#{late.pk}")
    assert "flag=late" in page.url
    _shot(page, "audit-orders")

    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert [int(row["requisition_id"]) for row in rows] == [late.pk]
    assert rows[0]["late"] == "1"
    assert late.patient.national_id not in open(download.path(), encoding="utf-8").read()

    page.locator("#orders-table tbody tr").first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(str(late.pk))
    expect(page.locator("main")).not_to_contain_text(late.patient.national_id)
    _shot(page, "audit-order")
    logged = set(AccessLog.objects.filter(user=auditor).values_list("page", flat=True))
    assert {"audit-orders", "audit-export", "audit-order"} <= logged


def test_a_clinician_reads_their_practice_and_opens_the_orders_behind_a_figure(page, login, clinician, office_worker):
    late, _on_time, _returned = make_orders(clinician, office_worker)
    login(clinician)
    page.locator("nav.site-nav a[href='/praksis/']").click()
    expect(page.locator("#compare-table")).to_be_visible()
    expect(page.locator(".chart img")).to_have_count(3)
    assert page.locator("script[src*='pygal']").count() == 0
    _shot(page, "my-practice")
    page.locator("#compare-table a[href$='flag=late']").click()
    expect(page.locator("#orders-table tbody tr")).to_have_count(1)
    expect(page.locator("#orders-table tbody")).to_contain_text(late.patient.name)
    _shot(page, "my-orders")


def test_the_dashboard_filters_work_with_the_keyboard(page, login, auditor, clinician, ward_nurse, office_worker):
    make_orders(clinician, office_worker)
    requisition_for(ward_nurse, body=order_body(seed=9))
    rollup_flush()
    login(auditor)
    page.goto("/praksis/revisjon/?by=unit")
    expect(page.locator("#dimension-table tbody tr")).to_have_count(2)
    page.locator("#d-unit").focus()
    page.keyboard.press("ArrowDown")  # the first unit by name; htmx swaps the dashboard and the URL
    expect(page).to_have_url(re.compile(r"unit=\d+"))
    expect(page.locator("#dimension-table tbody tr")).to_have_count(1)
    expect(page.locator("#d-unit")).to_be_focused()


def test_a_large_export_shows_its_progress_and_then_the_download(page, login, auditor, clinician, office_worker):
    from requisitions.exports import export_run
    from requisitions.models import Export

    make_orders(clinician, office_worker)
    export = Export.objects.create(user=auditor, format="csv", filters={}, status="pending", rows_total=3)
    login(auditor)
    page.goto(f"/praksis/revisjon/eksport/{export.pk}/")
    expect(page.locator("#export-bar")).to_be_visible()
    expect(page.get_by_label(re.compile("CSV"))).to_have_attribute("value", "0")
    assert export_run(export_id=export.pk) == "done"  # as the worker would; htmx polls every second
    expect(page.locator("#export-download")).to_be_visible(timeout=5_000)
    expect(page.locator("#export-announce")).not_to_be_empty()
    _shot(page, "export-done")
    with page.expect_download() as download_info:
        page.locator("#export-download").click()
    rows = list(csv.DictReader(open(download_info.value.path(), encoding="utf-8")))
    assert len(rows) == 3


def test_the_compliance_pages_pass_axe_wcag_aa_checks(page, login, auditor, clinician, office_worker):
    from axe_playwright_python.sync_playwright import Axe

    make_orders(clinician, office_worker)
    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    pages = {clinician: ["/praksis/", "/praksis/bestillinger/?flag=late"]}
    pages[auditor] = ["/praksis/revisjon/", "/praksis/revisjon/?by=week", "/praksis/revisjon/bestillinger/"]
    for user, urls in pages.items():
        login(user)
        for url in urls:
            page.goto(url)
            results = axe.run(page, context="#main", options=options)
            assert results.violations_count == 0, f"{url}: {results.generate_report()}"
        page.get_by_role("button", name="Logg ut").click()
