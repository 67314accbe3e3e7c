"""CSV and XLSX exports of the orders behind the auditor's figures.

Columns: ids, dates, unit, requisitioner, office, trust, pickup municipality, levels, status and the
compliance flags. No patient data (no national ID, name, phone or address): an auditor judges
ordering practice, and the requisition id leads to the order when one must be read.

``DIRECT_LIMIT`` rows or fewer are written straight into the response. More are written by the task
``requisitions.tasks.export_requisitions`` (``export_create`` enqueues it after commit;
``export_run`` does the work): a file under ``export_dir()`` and an ``Export`` row with progress. The
run is safe to repeat: it claims the row with a conditional UPDATE, writes to a temporary file
renamed into place, and logs the access once, in the same transaction that marks the row done.

Every export is recorded in the access log (one entry per order, page ``audit-export``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone

from portal.access_log import log_access
from portal.models import User
from requisitions.audit_selectors import OrderFilters, filtered_orders, snapshot_rows
from requisitions.models import Requisition, Trip
from requisitions.models_exports import Export
from requisitions.selectors import requisitions_visible_to

logger = logging.getLogger(__name__)

DIRECT_LIMIT = 2000  # more rows than this go through the task
PROGRESS_EVERY = 500  # rows between progress updates
STALE_AFTER = dt.timedelta(minutes=2)  # a running export without progress for this long may be taken over
ACCESS_LOG_PAGE = "audit-export"

COLUMNS: tuple[str, ...] = (
    "requisition_id",
    "first_submitted_at",
    "first_trip_at",
    "status",
    "level",
    "recommended_level",
    "above_recommendation",
    "deviation_code",
    "late",
    "returned",
    "cancelled",
    "late_cancellation",
    "alone_without_reason",
    "two_companions",
    "unit",
    "unit_kind",
    "requisitioner",
    "requisitioner_name",
    "office",
    "trust",
    "pickup_municipality",
)
_FLAG_COLUMNS = (
    "above_recommendation",
    "late",
    "returned",
    "cancelled",
    "late_cancellation",
    "alone_without_reason",
    "two_companions",
)
_EXTRA_FIELDS = (
    "first_submitted",
    "deviation_code",
    "unit__name",
    "unit__kind",
    "requisitioner__username",
    "requisitioner__first_name",
    "requisitioner__last_name",
    "office__code",
    "office__trust__code",
    "outbound__from_municipality__number",
    "outbound__from_municipality__name",
)


def export_queryset(user, filters: OrderFilters) -> QuerySet[Requisition]:
    """The orders an export of ``filters`` holds: what the user may see, filtered, newest first."""
    qs = filtered_orders(requisitions_visible_to(user), filters)
    return qs.annotate(outbound=FilteredRelation("trips", condition=Q(trips__direction=Trip.Direction.OUTBOUND)))


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _safe(value: str) -> str:
    """Keep spreadsheet programs from reading a text cell as a formula (CSV/formula injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def rows(qs: QuerySet[Requisition]) -> Iterator[tuple]:
    """One tuple per order, in ``COLUMNS`` order (texts made formula-safe)."""
    for row in snapshot_rows(qs, *_EXTRA_FIELDS):
        flags = row["flags"]
        name = " ".join(filter(None, (row["requisitioner__first_name"], row["requisitioner__last_name"])))
        municipality = " ".join(
            filter(None, (row["outbound__from_municipality__number"], row["outbound__from_municipality__name"]))
        )
        yield (
            row["id"],
            _local(row["first_submitted"]),
            _local(row["first_trip_at"]),
            row["status"],
            row["level"],
            row["recommended_level"],
            *(int(getattr(flags, name)) for name in _FLAG_COLUMNS[:1]),
            row["deviation_code"],
            *(int(getattr(flags, name)) for name in _FLAG_COLUMNS[1:]),
            _safe(row["unit__name"] or ""),
            row["unit__kind"] or "",
            _safe(row["requisitioner__username"] or ""),
            _safe(name),
            _safe(row["office__code"] or ""),
            _safe(row["office__trust__code"] or ""),
            _safe(municipality),
        )


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(qs: QuerySet[Requisition]) -> Iterator[str]:
    """The CSV (UTF-8, comma-separated, header first) as strings, one per line."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in rows(qs):
        yield writer.writerow(row)


def write_csv(qs: QuerySet[Requisition], target, *, progress: Callable[[int], None] | None = None) -> int:
    writer = csv.writer(target)
    writer.writerow(COLUMNS)
    written = 0
    for row in rows(qs):
        writer.writerow(row)
        written += 1
        if progress and written % PROGRESS_EVERY == 0:
            progress(written)
    return written


def write_xlsx(qs: QuerySet[Requisition], target, *, progress: Callable[[int], None] | None = None) -> int:
    """An XLSX workbook (openpyxl, write-only: rows go out as they come) with one sheet."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("requisitions")
    sheet.append(COLUMNS)
    written = 0
    for row in rows(qs):
        sheet.append(row)
        written += 1
        if progress and written % PROGRESS_EVERY == 0:
            progress(written)
    workbook.save(target)
    return written


def xlsx_bytes(qs: QuerySet[Requisition]) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(qs, buffer)
    return buffer.getvalue()


def file_name(fmt: str, *, on: dt.date | None = None) -> str:
    return f"rekvisisjoner-{(on or timezone.localdate()).isoformat()}.{fmt}"


class _Seen(NamedTuple):
    pk: int
    patient_id: int


def log_export(user, qs: QuerySet[Requisition], *, batch: int = 5000) -> int:
    """Record in the access log that ``user`` exported the orders of ``qs``."""
    logged, chunk = 0, []
    for pk, patient_id in qs.order_by().values_list("pk", "patient_id").iterator(chunk_size=batch):
        chunk.append(_Seen(pk, patient_id))
        if len(chunk) >= batch:
            logged += len(log_access(user, chunk, ACCESS_LOG_PAGE))
            chunk = []
    if chunk:
        logged += len(log_access(user, chunk, ACCESS_LOG_PAGE))
    return logged


# --- large exports: the row, the task's work, the file ----------------------------------------------------------


def export_dir() -> Path:
    """Where export files go: MEDIA_ROOT/exports when set, else var/exports. Never served statically."""
    root = Path(settings.MEDIA_ROOT) if settings.MEDIA_ROOT else Path(settings.VAR_DIR)
    return root / "exports"


def export_path(export: Export) -> Path | None:
    return export_dir() / export.file_name if export.file_name else None


@transaction.atomic
def export_create(*, user: User, filters: OrderFilters, fmt: str, total: int | None = None) -> Export:
    """Record a large export and enqueue its task once the row is committed."""
    from requisitions.tasks import export_requisitions

    if fmt not in Export.Format.values:
        raise ValueError(f"Unknown export format: {fmt!r}")
    export = Export.objects.create(user=user, format=fmt, filters=filters.as_query(), rows_total=total or 0)
    export_requisitions.delay_on_commit(export.pk)
    return export


def _claim(export_id: int, token: uuid.UUID, now: dt.datetime) -> bool:
    """Take the export: waiting ones, and running ones whose run has stopped reporting progress."""
    stale = now - STALE_AFTER
    waiting = Q(status=Export.Status.PENDING)
    abandoned = Q(status=Export.Status.RUNNING) & (Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
    return bool(
        Export.objects.filter(waiting | abandoned, pk=export_id).update(
            status=Export.Status.RUNNING, claim=token, started_at=now, heartbeat_at=now, rows_done=0, error=""
        )
    )


def export_run(*, export_id: int) -> str:
    """Write the export's file (the task's work). Returns the export's status afterwards.

    A second run finds the export claimed or done and leaves it alone ("running" or "done"); a run
    that took over an abandoned export starts again from the first row.
    """
    token = uuid.uuid4()
    if not _claim(export_id, token, timezone.now()):
        status = Export.objects.filter(pk=export_id).values_list("status", flat=True).first()
        logger.info("export %s not claimed (status %s)", export_id, status)
        return status or "missing"
    export = Export.objects.select_related("user").get(pk=export_id)
    mine = Export.objects.filter(pk=export_id, claim=token)
    try:
        filters = OrderFilters.from_query(export.filters)
        qs = export_queryset(export.user, filters)
        total = qs.count()
        mine.update(rows_total=total, heartbeat_at=timezone.now())

        def progress(done: int) -> None:
            mine.update(rows_done=done, heartbeat_at=timezone.now())

        directory = export_dir()
        directory.mkdir(parents=True, exist_ok=True)
        final = f"export-{export.pk}.{export.format}"
        partial = directory / f".export-{export.pk}-{token.hex}.part"
        try:
            if export.format == Export.Format.CSV:
                with open(partial, "w", newline="", encoding="utf-8") as target:
                    written = write_csv(qs, target, progress=progress)
            else:
                with open(partial, "wb") as target:
                    written = write_xlsx(qs, target, progress=progress)
            os.replace(partial, directory / final)
        finally:
            partial.unlink(missing_ok=True)
        with transaction.atomic():
            done = mine.filter(status=Export.Status.RUNNING).update(
                status=Export.Status.DONE,
                rows_done=written,
                rows_total=max(total, written),
                file_name=final,
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
            )
            if done:
                log_export(export.user, qs)
    except Exception as exc:
        mine.update(status=Export.Status.FAILED, error=type(exc).__name__[:200], finished_at=timezone.now())
        logger.exception("export %s failed", export_id)
        raise
    logger.info("export %s: %d rows (%s)", export_id, written, "done" if done else "taken over")
    return Export.objects.filter(pk=export_id).values_list("status", flat=True).first()


def exports_of(user) -> QuerySet[Export]:
    return Export.objects.filter(user_id=user.pk)


__all__ = [
    "COLUMNS",
    "DIRECT_LIMIT",
    "csv_chunks",
    "export_create",
    "export_dir",
    "export_path",
    "export_queryset",
    "export_run",
    "exports_of",
    "file_name",
    "log_export",
    "rows",
    "write_csv",
    "write_xlsx",
    "xlsx_bytes",
]
