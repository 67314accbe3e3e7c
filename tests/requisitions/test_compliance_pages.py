"""The compliance pages: /praksis/ (own practice, drill-down) and /praksis/revisjon/ (the auditor's)."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from django.utils import timezone

from portal import roles
from portal.models import AccessLog, Office
from portal.services import portal_user_create
from requisitions import audit_selectors, compliance, rollup, states
from requisitions.audit_selectors import OrderFilters
from requisitions.compliance_selectors import Period
from requisitions.models import ComplianceDaily, Requisition
from tests.conftest import PASSWORD
from tests.requisitions.factories import advance, order_body, reference_data, requisition_for, soon  # noqa: F401

pytestmark = pytest.mark.django_db

MINE = "/praksis/"
MY_ORDERS = "/praksis/bestillinger/"
AUDIT = "/praksis/revisjon/"
AUDIT_ORDERS = "/praksis/revisjon/bestillinger/"


@pytest.fixture(autouse=True)
def in_english(client, settings):
    """Assertions read the English source strings (the Norwegian ones are the translator's)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def colleague(gp_practice):
    return portal_user_create(
        username="lege2",
        role=roles.REQUISITIONER,
        password=PASSWORD,
        unit=gp_practice,
        first_name="Kari",
        last_name="Kollega",
    )


def late_body(seed: int) -> dict:
    body = order_body(seed=seed, with_return=False)
    body["trips"][0]["appointment_at"] = soon()
    return body


def above_body(seed: int) -> dict:
    return order_body(
        seed=seed,
        level="white_car",
        deviation_code="clinical_judgement",
        deviation_reason="Pasienten tåler ikke å sitte lenge.",
    )


@pytest.fixture
def orders(clinician, colleague, office_worker):
    """The clinician: one late (then cancelled late), one above the recommendation, one returned.
    The colleague: one plain order."""
    late = requisition_for(clinician, body=late_body(1))
    above = requisition_for(clinician, body=above_body(2))
    returned = requisition_for(clinician, body=order_body(seed=3))
    advance(returned, by=office_worker, to=states.RETURNED, note="Hvilken etasje?")
    advance(late, by=clinician, to=states.CANCELLED, note="Pasienten er innlagt")
    other = requisition_for(colleague, body=order_body(seed=4))
    rollup.rollup_flush()  # events only mark their days; the refresh (beat, in production) recomputes them
    return {"late": late, "above": above, "returned": returned, "other": other}


def html(response) -> str:
    return response.content.decode()


def row_ids(page_html: str) -> set[int]:
    return {int(n) for n in re.findall(r">#(\d+)</a>", page_html)}


def svgs(page_html: str) -> list[str]:
    return [
        base64.b64decode(data).decode()
        for data in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", page_html)
    ]


# --- who may see what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [MINE, MY_ORDERS, AUDIT, AUDIT_ORDERS, f"{AUDIT_ORDERS}1/"])
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("persona", "own_pages", "audit_pages"),
    [
        ("clinician", 200, 403),
        ("ward_nurse", 200, 403),
        ("clerk", 403, 403),
        ("office_worker", 403, 403),
        ("auditor", 403, 200),
        ("outsider", 403, 403),
    ],
)
def test_each_role_reaches_only_its_own_pages(client, request, persona, own_pages, audit_pages):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(MINE).status_code == own_pages
    assert client.get(MY_ORDERS).status_code == own_pages
    assert client.get(AUDIT).status_code == audit_pages
    assert client.get(AUDIT_ORDERS).status_code == audit_pages
    assert client.post("/praksis/revisjon/eksport/", {"format": "csv"}).status_code == audit_pages


def test_the_auditors_order_view_is_404_for_an_unknown_order_and_403_for_others(client, auditor, clinician, orders):
    client.force_login(auditor)
    assert client.get(f"{AUDIT_ORDERS}999999/").status_code == 404
    client.force_login(clinician)
    assert client.get(f"{AUDIT_ORDERS}{orders['late'].pk}/").status_code == 403


# --- the requisitioner's own page ---------------------------------------------------------------------------


def test_my_page_shows_my_figures_beside_the_unit_and_the_peers(client, clinician, orders):
    client.force_login(clinician)
    response = client.get(MINE)
    assert response.status_code == 200
    page = html(response)
    assert "You sent 3 orders in the period." in page
    compare = page[page.index('id="compare-table"') : page.index("</table>", page.index('id="compare-table"'))]
    # late: 1 of my 3 orders; the unit: 1 of 4; peers (me 1/3, colleague 0/1): median 1/6 ≈ 17 %.
    late_row = compare[compare.index("Ordered after the cut-off") :].split("</tr>")[0]
    assert re.findall(r">(\d+ %)<", late_row) == ["33 %", "25 %", "17 %"]
    assert "flag=late" in late_row
    assert "Kari Kollega" not in page and "lege2" not in page  # never another person's own figures


def test_my_page_draws_charts_without_javascript_and_with_a_table_beside_each(client, clinician, orders):
    client.force_login(clinician)
    page = html(client.get(MINE))
    drawn = svgs(page)
    assert len(drawn) == 3
    for svg in drawn:
        assert svg.startswith("<svg") and "<script" not in svg and "pygal.js" not in svg
    assert "<script" not in page.split("</head>", 1)[1]  # no script in the body either
    for table in ("compare-table", "levels-table", "trend-table"):
        assert f'id="{table}"' in page
    assert page.count('<tr><th scope="row" class="nowrap">') == 12  # twelve weeks in the trend table
    assert "What is BEON?" in page


def test_my_page_counts_the_orders_of_the_last_twelve_weeks_per_week(client, clinician, orders):
    client.force_login(clinician)
    page = html(client.get(MINE))
    trend = page[page.index('id="trend-table"') :]
    week = timezone.localdate().isocalendar()[1]
    this_week = trend[trend.index(f"Week {week},") :].split("</tr>")[0]
    assert ">3</a>" in this_week and "33 %" in this_week  # above the recommendation: 1 of 3


def test_my_page_refuses_a_period_that_ends_before_it_starts(client, clinician):
    client.force_login(clinician)
    response = client.get(MINE, {"from": "2026-05-02", "to": "2026-05-01"})
    assert response.status_code == 400
    assert "The start date must not be after the end date" in html(response)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("", {"late", "above", "returned"}),
        ("late", {"late"}),
        ("cancelled", {"late"}),
        ("late_cancellations", {"late"}),
        ("above_recommendation", {"above"}),
        ("returned", {"returned"}),
        ("two_companions", set()),
    ],
)
def test_the_orders_behind_my_figures_are_mine_only(client, clinician, orders, flag, expected):
    client.force_login(clinician)
    response = client.get(MY_ORDERS, {"flag": flag, "requisitioner": orders["other"].requisitioner_id})
    assert response.status_code == 200
    assert row_ids(html(response)) == {orders[name].pk for name in expected}


def test_the_drill_down_logs_each_order_shown(client, clinician, orders):
    client.force_login(clinician)
    client.get(MY_ORDERS, {"flag": "late"})
    logged = AccessLog.objects.filter(user=clinician, page="my-practice-orders")
    assert list(logged.values_list("requisition_id", flat=True)) == [orders["late"].pk]
    assert logged.get().patient_id == orders["late"].patient_id


def test_the_drill_down_answers_htmx_with_the_results_only(client, clinician, orders):
    client.force_login(clinician)
    response = client.get(MY_ORDERS, {"flag": "late"}, headers={"HX-Request": "true"})
    page = html(response)
    assert page.lstrip().startswith('<div id="results">') and "<html" not in page


# --- the auditor's dashboards --------------------------------------------------------------------------------


@pytest.mark.parametrize("by", audit_selectors.DIMENSIONS)
def test_every_dimension_has_a_chart_and_a_table(client, auditor, orders, by):
    client.force_login(auditor)
    response = client.get(AUDIT, {"by": by})
    assert response.status_code == 200
    page = html(response)
    assert 'id="dimension-table"' in page
    assert len(svgs(page)) == 1 and "<script" not in svgs(page)[0]
    assert 'aria-current="page"' in page


def test_the_dimension_tables_count_the_orders_of_the_period(client, auditor, orders):
    client.force_login(auditor)
    expected = {
        "requisitioner": "Lise Lege (Majorstuen legekontor)",
        "unit": "Majorstuen legekontor",
        "office": "Pasientreiser Oslo universitetssykehus",
        "municipality": "0301 Oslo",
        "trust": Office.objects.get(code="PR-OUS").trust.name,
    }
    for by, label in expected.items():
        table = html(client.get(AUDIT, {"by": by})).split('id="dimension-table"', 1)[1]
        row = table[table.index(label) :].split("</tr>")[0]
        orders_cell = re.search(r'<td class="num">(?:<a[^>]*>)?(\d+)', row).group(1)
        assert orders_cell == ("3" if by == "requisitioner" else "4"), by


def test_a_share_less_than_twice_the_peers_median_is_no_outlier(client, auditor, clinician, colleague):
    today = timezone.localdate()
    ComplianceDaily.objects.create(
        requisitioner=clinician, unit=clinician.unit, day=today, orders=10, level_taxi=10, late=6
    )
    ComplianceDaily.objects.create(
        requisitioner=colleague, unit=colleague.unit, day=today, orders=10, level_taxi=10, late=1
    )
    client.force_login(auditor)
    page = html(client.get(AUDIT))
    outliers = page[page.index('id="outlier-table"') : page.index("</table>", page.index('id="outlier-table"'))]
    assert "No outliers in the period." in outliers  # 60 % < 2 × median(60 %, 10 %) = 70 %


def test_an_outlier_is_far_above_the_median_of_peers(client, auditor, clinician, gp_practice):
    today = timezone.localdate()
    ComplianceDaily.objects.create(
        requisitioner=clinician, unit=gp_practice, day=today, orders=10, level_taxi=10, late=5
    )
    for n in range(3):
        peer = portal_user_create(username=f"peer{n}", role=roles.REQUISITIONER, password=PASSWORD, unit=gp_practice)
        ComplianceDaily.objects.create(
            requisitioner=peer, unit=gp_practice, day=today, orders=10, level_taxi=10, late=1
        )
    client.force_login(auditor)
    page = html(client.get(AUDIT))
    outliers = page[page.index('id="outlier-table"') : page.index("</table>", page.index('id="outlier-table"'))]
    assert "Lise Lege" in outliers and "peer0" not in outliers
    assert "Ordered after the cut-off: 50 % (peers&#x27; median 10 %)" in outliers
    assert f"requisitioner={clinician.pk}" in outliers and "flag=late" in outliers


def test_the_dashboard_filters_by_office_and_answers_htmx_with_the_dashboard(client, auditor, orders):
    client.force_login(auditor)
    other_office = Office.objects.exclude(code="PR-OUS").first()
    response = client.get(AUDIT, {"office": other_office.pk, "by": "unit"}, headers={"HX-Request": "true"})
    page = html(response)
    assert page.lstrip().startswith('<div id="dimension') or page.lstrip().startswith('<div id="dashboard">')
    assert "No orders in the period." in page


# --- the auditor's drill-down --------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["", *compliance.COUNTS])
def test_the_orders_behind_each_figure_add_up_to_the_figure(client, auditor, orders, flag):
    client.force_login(auditor)
    figures = audit_selectors.total_figures(Period.default())
    page = html(client.get(AUDIT_ORDERS, {"flag": flag}))
    assert len(row_ids(page)) == (getattr(figures, flag) if flag else figures.orders)


def test_the_drill_down_filters_by_requisitioner_level_municipality_and_trust(client, auditor, clinician, orders):
    client.force_login(auditor)
    mine = {orders[name].pk for name in ("late", "above", "returned")}
    assert row_ids(html(client.get(AUDIT_ORDERS, {"requisitioner": clinician.pk}))) == mine
    assert row_ids(html(client.get(AUDIT_ORDERS, {"level": "white_car"}))) == {orders["above"].pk}
    oslo = orders["late"].trips.get(direction="outbound").from_municipality_id
    assert len(row_ids(html(client.get(AUDIT_ORDERS, {"municipality": oslo})))) == 4
    trust = Office.objects.get(code="PR-OUS").trust_id
    assert len(row_ids(html(client.get(AUDIT_ORDERS, {"trust": trust})))) == 4
    assert row_ids(html(client.get(AUDIT_ORDERS, {"trust": trust + 1000}))) == set()


def test_the_drill_down_counts_an_order_on_the_day_it_was_first_sent(client, auditor, orders):
    client.force_login(auditor)
    today = timezone.localdate()
    assert len(row_ids(html(client.get(AUDIT_ORDERS, {"from": today, "to": today})))) == 4
    yesterday = today - dt.timedelta(days=1)
    assert row_ids(html(client.get(AUDIT_ORDERS, {"from": yesterday, "to": yesterday}))) == set()


def test_bad_filters_are_explained_not_a_500(client, auditor):
    client.force_login(auditor)
    response = client.get(AUDIT_ORDERS, {"from": "yesterday", "flag": "nonsense", "unit": "x"})
    assert response.status_code == 400
    page = html(response)
    assert "Give dates as YYYY-MM-DD." in page and 'aria-invalid="true"' in page


def test_the_drill_down_logs_the_access_and_shows_no_patient_data(client, auditor, orders):
    client.force_login(auditor)
    page = html(client.get(AUDIT_ORDERS))
    for requisition in orders.values():
        assert requisition.patient.national_id not in page and requisition.patient.name not in page
    logged = set(AccessLog.objects.filter(user=auditor, page="audit-orders").values_list("requisition_id", flat=True))
    assert logged == {r.pk for r in orders.values()}


def test_the_drill_down_query_count_does_not_grow_with_the_rows(
    client, auditor, clinician, orders, django_assert_max_num_queries
):
    client.force_login(auditor)
    client.get(AUDIT_ORDERS)  # warm caches (roles, session)
    for seed in range(10, 16):
        requisition_for(clinician, body=order_body(seed=seed))
    with django_assert_max_num_queries(20):
        response = client.get(AUDIT_ORDERS)
    assert len(row_ids(html(response))) == 10


def test_the_auditor_reads_one_order_without_the_patients_identity(client, auditor, orders):
    client.force_login(auditor)
    requisition = orders["above"]
    response = client.get(f"{AUDIT_ORDERS}{requisition.pk}/")
    assert response.status_code == 200
    page = html(response)
    assert "Pasienten tåler ikke å sitte lenge." in page  # the justification is what is audited
    assert requisition.patient.national_id not in page and requisition.patient.name not in page
    assert AccessLog.objects.filter(user=auditor, page="audit-order", requisition_id=requisition.pk).count() == 1


def test_filters_round_trip_through_a_query_string():
    filters = OrderFilters.from_query({"from": "2026-01-01", "to": "2026-01-31", "unit": "3", "flag": "late"})
    assert OrderFilters.from_query(filters.as_query()) == filters
    assert filters.as_query() == {"from": "2026-01-01", "to": "2026-01-31", "unit": "3", "flag": "late"}


def test_the_default_period_is_the_last_ninety_days():
    filters = OrderFilters.from_query({}, today=dt.date(2026, 3, 31))
    assert (filters.period.start, filters.period.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def test_orders_never_sent_are_not_behind_any_figure(client, auditor, clerk, clinician):
    requisition_for(clerk, requisitioner=clinician, body=order_body(seed=5))  # awaiting attestation
    client.force_login(auditor)
    assert row_ids(html(client.get(AUDIT_ORDERS))) == set()
    assert Requisition.objects.count() == 1


# --- the auditor's list equals the API's reads ---------------------------------------------------------------


@pytest.mark.parametrize("scope", ["all", "office", "unit"])
def test_the_per_requisitioner_list_equals_the_apis_selectors(clinician, colleague, ward_nurse, gp_practice, scope):
    from requisitions.compliance_selectors import figures_per_requisitioner, peer_medians_by_kind

    today = timezone.localdate()
    office = Office.objects.get(code="PR-OUS")
    other = Office.objects.exclude(pk=office.pk).first()
    rows = [
        (clinician, office, 12, 5, 1),
        (clinician, other, 3, 0, 2),
        (colleague, office, 10, 1, 0),
        (ward_nurse, None, 20, 9, 4),
    ]
    for n, (person, at, orders_, late, returned) in enumerate(rows):
        ComplianceDaily.objects.create(
            requisitioner=person,
            unit=person.unit,
            office=at,
            day=today - dt.timedelta(days=n),
            orders=orders_,
            level_taxi=orders_,
            late=late,
            returned=returned,
        )
    period = Period.default()
    office_id = office.pk if scope == "office" else None
    unit_id = gp_practice.pk if scope == "unit" else None
    medians = peer_medians_by_kind(period, office_id=office_id)
    expected = [
        (r, tuple(compliance.outlier_reasons(r.figures, medians.get(r.unit_kind, (0, {}))[1])))
        for r in figures_per_requisitioner(period, office_id=office_id, unit_id=unit_id)
    ]
    got = audit_selectors.requisitioner_rows(period, office_id=office_id, unit_id=unit_id)
    assert [(row.figures, tuple(name for name, _r, _m in row.reasons)) for row in got] == expected
    assert any(row.outlier for row in got) or scope == "office"
