"""Reads for routing: turn reference data rows into the resolver's plain inputs."""

from __future__ import annotations

import datetime as dt

from portal.models import HealthTrust, Municipality, Office
from routing.models import Coverage
from routing.resolver import AMK, PASIENTREISER, Area, CoverageRow, OfficeRef

_OPEN_START = dt.date(1900, 1, 1)


def office_ref(office: Office) -> OfficeRef:
    return OfficeRef(code=office.code, name=office.name, kind=office.kind)


def area_for_municipality(municipality: Municipality) -> Area:
    rows = Coverage.objects.filter(municipality=municipality).select_related("office")
    trust = municipality.trust
    return Area(
        coverage=tuple(CoverageRow(r.office_kind, office_ref(r.office), r.valid_from, r.valid_to) for r in rows),
        white_cars_from_pasientreiser=bool(trust and trust.white_cars_from_pasientreiser),
    )


def area_for_trust(trust: HealthTrust) -> Area:
    """For a pickup outside the region: the trust's own default offices, always valid."""
    rows = []
    if trust.default_amk_id:
        rows.append(CoverageRow(AMK, office_ref(trust.default_amk), _OPEN_START))
    if trust.default_pasientreiser_id:
        rows.append(CoverageRow(PASIENTREISER, office_ref(trust.default_pasientreiser), _OPEN_START))
    return Area(coverage=tuple(rows), white_cars_from_pasientreiser=trust.white_cars_from_pasientreiser)
