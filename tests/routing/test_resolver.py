"""The routing resolver, table-driven over every municipality of the region (no database)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from portal.reference import COVERAGE_VALID_FROM, DATA_DIR
from routing.resolver import AMK, PASIENTREISER, Area, CoverageRow, OfficeRef, UnknownLevel, resolve

DAY = dt.date(2026, 11, 27)

with open(DATA_DIR / "municipalities.csv", encoding="utf-8") as fh:
    MUNICIPALITIES = list(csv.DictReader(fh))
with open(DATA_DIR / "offices.csv", encoding="utf-8") as fh:
    OFFICES = {row["code"]: row for row in csv.DictReader(fh)}
WHITE_CAR_TRUSTS = {row["trust"] for row in OFFICES.values() if row["white_car_dispatch"] == "yes"}


def office(code: str) -> OfficeRef:
    return OfficeRef(code=code, name=OFFICES[code]["name"], kind=OFFICES[code]["kind"])


def area_of(row: dict[str, str]) -> Area:
    return Area(
        coverage=(
            CoverageRow(AMK, office(row["amk_office"]), COVERAGE_VALID_FROM),
            CoverageRow(PASIENTREISER, office(row["pasientreiser_office"]), COVERAGE_VALID_FROM),
        ),
        white_cars_from_pasientreiser=row["trust"] in WHITE_CAR_TRUSTS,
    )


def test_the_region_has_146_municipalities():
    assert len(MUNICIPALITIES) == 146


@pytest.mark.parametrize("row", MUNICIPALITIES, ids=lambda r: f"{r['number']}-{r['name']}")
def test_each_municipality_resolves_to_one_amk_and_one_pasientreiser_office(row):
    area = area_of(row)
    ambulance = resolve("ambulance", area, on=DAY)
    taxi = resolve("taxi", area, on=DAY)
    assert ambulance.kind == AMK and ambulance.code == row["amk_office"]
    assert taxi.kind == PASIENTREISER and taxi.code == row["pasientreiser_office"]
    for level in ("helseekspress", "wheelchair_taxi"):
        assert resolve(level, area, on=DAY) == taxi
    white_car = resolve("white_car", area, on=DAY)
    assert white_car == (taxi if row["trust"] == "OUS" else ambulance)
    assert resolve("public_transport", area, on=DAY) is None


def _by_name(name):
    return next(row for row in MUNICIPALITIES if row["name"] == name)


@pytest.mark.parametrize(
    ("county", "level", "office_code"),
    [
        ("Telemark", "ambulance", "AMK-VESTFOLD"),
        ("Vestfold", "taxi", "PR-TELEMARK"),
        ("Østfold", "ambulance", "AMK-OSLO"),
    ],
)
def test_county_exceptions_of_the_seed_plan_hold(county, level, office_code):
    rows = [row for row in MUNICIPALITIES if row["county_name"] == county]
    assert rows
    assert {resolve(level, area_of(row), on=DAY).code for row in rows} == {office_code}


@pytest.mark.parametrize("name", ["Kongsvinger", "Nord-Odal", "Sør-Odal", "Eidskog", "Grue", "Åsnes"])
def test_the_kongsvinger_region_has_amk_oslo(name):
    assert resolve("ambulance", area_of(_by_name(name)), on=DAY).code == "AMK-OSLO"


@pytest.mark.parametrize(
    ("name", "white_car"),
    [("Oslo", "PR-OUS"), ("Lillestrøm", "PR-OUS"), ("Bærum", "AMK-OSLO"), ("Drammen", "AMK-VESTREVIKEN")],
)
def test_white_cars_follow_the_trusts_dispatch_setting(name, white_car):
    assert resolve("white_car", area_of(_by_name(name)), on=DAY).code == white_car


def test_coverage_is_chosen_by_date():
    old, new = OfficeRef("A", "Old", AMK), OfficeRef("B", "New", AMK)
    area = Area(
        coverage=(
            CoverageRow(AMK, old, dt.date(2020, 1, 1), dt.date(2026, 12, 31)),
            CoverageRow(AMK, new, dt.date(2027, 1, 1)),
        )
    )
    assert resolve("ambulance", area, on=dt.date(2026, 12, 31)) == old
    assert resolve("ambulance", area, on=dt.date(2027, 1, 1)) == new
    assert resolve("ambulance", area, on=dt.date(2019, 12, 31)) is None


def test_no_coverage_gives_no_office():
    assert resolve("taxi", Area(coverage=()), on=DAY) is None


def test_an_unknown_level_is_refused():
    with pytest.raises(UnknownLevel):
        resolve("helicopter", Area(coverage=()), on=DAY)
