from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from requisitions.signals import requisition_scheduled, requisition_submitted
        from routing.receivers import enqueue_routing, queue_pickup_sms

        requisition_submitted.connect(enqueue_routing, dispatch_uid="routing.enqueue_routing")
        requisition_scheduled.connect(queue_pickup_sms, dispatch_uid="routing.queue_pickup_sms")
