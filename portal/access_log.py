"""Record who saw which patient's data: one AccessLog row per requisition (or patient) shown."""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps

from portal.models import AccessLog


def _patient_ids_of(requisition_ids: list[int]) -> dict[int, int]:
    # Looked up through the app registry: portal does not import requisitions.
    requisition_model = apps.get_model("requisitions", "Requisition")
    return dict(requisition_model.objects.filter(pk__in=requisition_ids).values_list("pk", "patient_id"))


def log_access(
    user,
    requisitions: Iterable,
    page: str,
    *,
    via: str = AccessLog.Via.WEB,
    patient_ids: Iterable[int] = (),
) -> list[AccessLog]:
    """Log that ``user`` saw ``requisitions`` on ``page`` (one bulk insert).

    ``requisitions`` holds requisition objects (anything with ``pk`` and ``patient_id``: no query) or
    requisition ids (one query for their patients; unknown ids are skipped). ``patient_ids`` logs a
    patient seen without a particular requisition. Anonymous users are not logged (they see nothing).
    """
    if not getattr(user, "is_authenticated", False):
        return []
    if via not in AccessLog.Via.values:
        raise ValueError(f"via must be one of {AccessLog.Via.values}, got {via!r}")
    pairs: list[tuple[int | None, int]] = []
    ids: list[int] = []
    for item in requisitions:
        if isinstance(item, int):
            ids.append(item)
        else:
            pairs.append((item.pk, item.patient_id))
    if ids:
        patients = _patient_ids_of(ids)
        pairs.extend((pk, patients[pk]) for pk in ids if pk in patients)
    pairs.extend((None, patient_id) for patient_id in patient_ids)
    entries = [
        AccessLog(user=user, requisition_id=requisition_id, patient_id=patient_id, page=page[:80], via=via)
        for requisition_id, patient_id in dict.fromkeys(pairs)
    ]
    return AccessLog.objects.bulk_create(entries)
