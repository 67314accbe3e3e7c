from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal import roles
from portal.models import RequisitioningUnit
from portal.services import api_token_for, portal_user_create, unit_get_or_create


class Command(BaseCommand):
    help = "Create or update a portal user with one role; with --token print only the API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(roles.ROLES))
        parser.add_argument("--unit", help="Requisitioning unit name (created if missing)")
        parser.add_argument(
            "--unit-kind", default=RequisitioningUnit.Kind.GP_PRACTICE, choices=RequisitioningUnit.Kind.values
        )
        parser.add_argument("--municipality", help="4-digit municipality number of a new unit")
        parser.add_argument("--office", help="Office code, for office_staff")
        parser.add_argument("--password")
        parser.add_argument("--hpr", default="", help="HPR number of a clinician")
        parser.add_argument("--token", action="store_true", help="Print only the API token")

    def handle(self, *args, **opts):
        try:
            unit = None
            if opts["unit"]:
                unit = unit_get_or_create(
                    name=opts["unit"], kind=opts["unit_kind"], municipality_number=opts["municipality"]
                )
            user = portal_user_create(
                username=opts["username"],
                role=opts["role"],
                password=opts["password"],
                unit=unit,
                office_code=opts["office"],
                hpr_number=opts["hpr"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        if opts["token"]:
            self.stdout.write(api_token_for(user))
        else:
            self.stdout.write(self.style.SUCCESS(f"User {user.username} ({opts['role']}) is ready."))
