from __future__ import annotations

from playwright.sync_api import expect


def test_a_clinician_logs_in_and_sees_the_home_page(page, login, clinician):
    login(clinician)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Velkommen, Lise Lege")
    expect(page.get_by_role("heading", name="Bestill pasienttransport")).to_be_visible()


def test_a_wrong_password_is_explained(page, clinician):
    page.goto("/login/")
    page.get_by_label("Brukernavn").fill(clinician.username)
    page.get_by_label("Passord").fill("not-the-password")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("alert")).to_contain_text("Feil brukernavn eller passord")


def test_the_skip_link_is_the_first_tab_stop(page, login, clinician):
    login(clinician)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Hopp til hovedinnhold")
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
