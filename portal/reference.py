"""Load the region's reference data (trusts, offices, municipalities, postal codes, coverage).

The CSV files are a copy of the shared reference data kept inside the repo (portal/reference_data/).
Loading is idempotent: rows are matched on their natural keys and updated in place, so running it again
changes nothing, and rows an admin added (e.g. coverage with another start date) are left alone.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from portal.models import HealthTrust, Municipality, Office, PostalCode
from routing.models import Coverage

DATA_DIR = Path(__file__).resolve().parent / "reference_data"
# The municipality numbers in the shipped data are those in force from the 2024 county reform.
COVERAGE_VALID_FROM = dt.date(2024, 1, 1)


@dataclass
class LoadReport:
    trusts: int = 0
    offices: int = 0
    municipalities: int = 0
    postal_codes: int = 0
    coverage: int = 0

    def __str__(self) -> str:
        return (
            f"{self.trusts} trusts, {self.offices} offices, {self.municipalities} municipalities, "
            f"{self.postal_codes} postal codes, {self.coverage} coverage rows"
        )


def _rows(name: str, data_dir: Path) -> list[dict[str, str]]:
    with open(data_dir / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@transaction.atomic
def load_reference_data(data_dir: Path = DATA_DIR) -> LoadReport:
    report = LoadReport()
    trusts = {}
    for row in _rows("trusts.csv", data_dir):
        trusts[row["code"]], _ = HealthTrust.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})
        report.trusts += 1

    offices = {}
    for row in _rows("offices.csv", data_dir):
        hours, minutes = (int(part) for part in row["booking_cut_off"].split(":"))
        trust = trusts[row["trust"]]
        offices[row["code"]], _ = Office.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "kind": row["kind"],
                "trust": trust,
                "cut_off_time": dt.time(hours, minutes),
            },
        )
        if row["white_car_dispatch"].strip().lower() == "yes":
            trust.white_cars_from_pasientreiser = True
            trust.save(update_fields=["white_cars_from_pasientreiser"])
        report.offices += 1

    region_rows = _rows("municipalities.csv", data_dir)
    municipalities = {}
    for row in region_rows:
        municipalities[row["number"]], _ = Municipality.objects.update_or_create(
            number=row["number"],
            defaults={
                "name": row["name"],
                "county_number": row["county_number"],
                "county_name": row["county_name"],
                "trust": trusts[row["trust"]],
            },
        )
        report.municipalities += 1
        for kind, column in (
            (Office.Kind.AMK, "amk_office"),
            (Office.Kind.PASIENTREISER, "pasientreiser_office"),
        ):
            Coverage.objects.update_or_create(
                municipality=municipalities[row["number"]],
                office_kind=kind,
                valid_from=COVERAGE_VALID_FROM,
                defaults={"office": offices[row[column]], "valid_to": None, "note": row.get("note", "")},
            )
            report.coverage += 1

    _set_trust_defaults(trusts, offices, region_rows)
    report.postal_codes = _load_postal_codes(data_dir, municipalities)
    return report


def _set_trust_defaults(trusts, offices, region_rows) -> None:
    """A trust's default offices are those that serve most of its municipalities."""
    for code, trust in trusts.items():
        own = [row for row in region_rows if row["trust"] == code]
        amk = Counter(row["amk_office"] for row in own).most_common(1)
        pr = Counter(row["pasientreiser_office"] for row in own).most_common(1)
        trust.default_amk = offices[amk[0][0]] if amk else None
        trust.default_pasientreiser = offices[pr[0][0]] if pr else None
        trust.save(update_fields=["default_amk", "default_pasientreiser"])


def _load_postal_codes(data_dir: Path, municipalities: dict[str, Municipality]) -> int:
    rows = _rows("postal_codes.csv", data_dir)
    known = dict(municipalities)
    known.update({m.number: m for m in Municipality.objects.exclude(number__in=known)})
    for row in rows:
        number = row["municipality_number"]
        if number not in known:
            # Outside the region: a municipality without a trust, so routing uses the unit's trust.
            known[number] = Municipality.objects.create(
                number=number, name=row["municipality_name"].title(), county_number=number[:2]
            )
    existing = {p.code: p for p in PostalCode.objects.all()}
    new, changed = [], []
    for row in rows:
        values = {
            "place": row["place"],
            "municipality_id": known[row["municipality_number"]].pk,
            "category": row["category"],
        }
        current = existing.get(row["postal_code"])
        if current is None:
            new.append(PostalCode(code=row["postal_code"], **values))
        elif any(getattr(current, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(current, key, value)
            changed.append(current)
    PostalCode.objects.bulk_create(new, batch_size=1000)
    PostalCode.objects.bulk_update(changed, ["place", "municipality_id", "category"], batch_size=1000)
    return len(rows)
