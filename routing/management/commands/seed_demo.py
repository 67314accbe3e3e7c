"""Demo units, users (one per role), a Helseekspress route and some orders. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from portal import roles
from portal.models import RequisitioningUnit, User
from portal.services import portal_user_create, unit_get_or_create

DEMO_PASSWORD = "Demo-passord-2026"

UNITS = [
    ("Majorstuen legekontor", RequisitioningUnit.Kind.GP_PRACTICE, "0301"),
    ("Drammen sykehus, medisinsk sengepost", RequisitioningUnit.Kind.WARD, "3301"),
    ("Hallingdal legevakt", RequisitioningUnit.Kind.EMERGENCY, "3324"),
    ("Skien sykehjem", RequisitioningUnit.Kind.NURSING_HOME, "4003"),
]

USERS = [
    # username, role, unit index or office code, first name, last name, HPR number
    ("lege", roles.REQUISITIONER, 0, "Lise", "Lege", "1234567"),
    ("sekretaer", roles.CLERK, 0, "Siri", "Sekretær", ""),
    ("sykepleier", roles.REQUISITIONER, 1, "Sander", "Sykepleier", "7654321"),
    ("legevakt", roles.REQUISITIONER, 2, "Lars", "Legevakt", "2345678"),
    ("sykehjem", roles.REQUISITIONER, 3, "Sofie", "Sykehjem", "3456789"),
    ("pr_ous", roles.OFFICE_STAFF, "PR-OUS", "Olav", "Pasientreiser", ""),
    ("pr_vv", roles.OFFICE_STAFF, "PR-VESTREVIKEN", "Vera", "Pasientreiser", ""),
    ("amk_oslo", roles.OFFICE_STAFF, "AMK-OSLO", "Anders", "AMK", ""),
    ("revisor", roles.AUDITOR, None, "Randi", "Revisor", ""),
]


class Command(BaseCommand):
    help = "Add demo units, one user per role, a Helseekspress route and example orders (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        units = [unit_get_or_create(name=n, kind=k, municipality_number=m) for n, k, m in UNITS]
        for username, role, where, first, last, hpr in USERS:
            portal_user_create(
                username=username,
                role=role,
                password=DEMO_PASSWORD,
                unit=units[where] if isinstance(where, int) else None,
                office_code=where if isinstance(where, str) else None,
                first_name=first,
                last_name=last,
                hpr_number=hpr,
            )
        admin, _ = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
        admin.set_password(DEMO_PASSWORD)
        admin.save()
        from routing.demo import seed_demo_data

        summary = seed_demo_data(units=units)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {summary}"))
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, where, *_rest in USERS:
            self.stdout.write(
                f"  {username:<12} {role:<14} {where if isinstance(where, str) else UNITS[where][0] if where is not None else ''}"
            )
        self.stdout.write(f"  {'admin':<12} {'administrator':<14} Django admin at /admin/")
