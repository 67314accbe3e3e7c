"""Signals other apps listen to. `requisitions` never imports `routing`: routing connects here."""

from django.dispatch import Signal

# Sent inside the submitting transaction with ``requisition_id``; receivers defer work to on_commit.
requisition_submitted = Signal()
requisition_scheduled = Signal()  # sent inside the scheduling transaction with ``requisition_id``
