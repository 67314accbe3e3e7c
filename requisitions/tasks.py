"""Celery tasks of the requisitions app: ids and JSON in, services do the work, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from requisitions.rollup import rollup_rebuild


@shared_task(acks_late=True, reject_on_worker_lost=True)
def rebuild_compliance_rollup() -> int:
    """Nightly: recompute the compliance roll-up from requisitions and events. Returns rows written."""
    return rollup_rebuild()
