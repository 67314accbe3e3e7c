"""WCAG 2.1 AA checks (axe-core) on the ordering and office pages, whole page including the header."""

from __future__ import annotations

from tests.requisitions.factories import requisition_for

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_accessible(page, url=None):
    """axe-core finds no WCAG 2.1 A/AA violation on the page (after going to ``url``, if given)."""
    from axe_playwright_python.sync_playwright import Axe

    if url:
        page.goto(url)
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, f"{page.url}: {results.generate_report()}"


def test_the_login_page_is_accessible(page, db):
    assert_accessible(page, "/login/")


def test_the_ordering_pages_are_accessible(page, login, clinician):
    requisition = requisition_for(clinician)
    login(clinician)
    for url in [
        "/",
        "/bestillinger/ny/",
        "/bestillinger/",
        f"/bestillinger/{requisition.pk}/",
        "/bestillinger/attestering/",
    ]:
        assert_accessible(page, url)
    # With errors shown next to the fields.
    page.goto("/bestillinger/ny/")
    page.get_by_role("button", name="Se over bestillingen").click()
    assert page.locator(".ds-error-summary").is_visible()
    assert_accessible(page)


def test_the_office_pages_are_accessible(page, login, clinician, office_worker):
    requisition = requisition_for(clinician)
    login(office_worker)
    for url in ["/kontor/", f"/kontor/{requisition.pk}/"]:
        assert_accessible(page, url)
