"""Celery tasks of the requisitions app: ids and JSON in, services do the work, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from requisitions.rollup import rollup_rebuild, rollup_refresh


@shared_task(acks_late=True, reject_on_worker_lost=True)
def rebuild_compliance_rollup() -> int:
    """Nightly: recompute the compliance roll-up from requisitions and events. Returns rows written."""
    return rollup_rebuild()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def refresh_compliance_rollup() -> int:
    """Recompute the roll-up days of requisitions marked since the last run (beat, every
    ``ROLLUP_REFRESH_SECONDS``). Returns the marks taken; safe to run twice or concurrently."""
    return rollup_refresh()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def export_requisitions(self, export_id: int) -> str:
    """Write a large export's file (``requisitions.exports.export_run``). Returns the export's status.

    Safe to run twice: a run that finds the export done leaves it alone; one that finds another run
    still making progress (a redelivered message) comes back once that run would count as abandoned.
    Failures are not retried: the export is marked failed and the auditor starts a new one.
    """
    from requisitions.exports import STALE_AFTER, export_run
    from requisitions.models_exports import Export

    status = export_run(export_id=export_id)
    if status == Export.Status.RUNNING:
        raise self.retry(countdown=int(STALE_AFTER.total_seconds()) + 5)
    return status
