from django.core.management.base import BaseCommand

from portal.reference import load_reference_data


class Command(BaseCommand):
    help = "Load health trusts, offices, municipalities, postal codes and coverage (idempotent)."

    def handle(self, *args, **options):
        report = load_reference_data()
        self.stdout.write(self.style.SUCCESS(f"Reference data loaded: {report}"))
