from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequisitionsConfig(AppConfig):
    name = "requisitions"
    verbose_name = _("Requisitions")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from requisitions.models import RequisitionEvent
        from requisitions.rollup import on_event_saved

        post_save.connect(on_event_saved, sender=RequisitionEvent, dispatch_uid="requisitions.rollup.on_event_saved")
