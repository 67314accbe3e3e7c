"""CSV and XLSX exports of the auditor's filtered orders: direct, and through the export task."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from celery.exceptions import Retry
from django.utils import timezone
from openpyxl import load_workbook

from portal import roles
from portal.models import AccessLog, RequisitioningUnit
from portal.services import portal_user_create
from requisitions import exports, states
from requisitions.audit_selectors import OrderFilters
from requisitions.models import Export
from requisitions.tasks import export_requisitions
from tests.conftest import PASSWORD
from tests.requisitions.factories import advance, order_body, reference_data, requisition_for, soon  # noqa: F401

pytestmark = pytest.mark.django_db

EXPORT = "/praksis/revisjon/eksport/"


@pytest.fixture(autouse=True)
def export_files(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path / "exports"


@pytest.fixture
def orders(clinician, office_worker):
    late = order_body(seed=1, with_return=False)
    late["trips"][0]["appointment_at"] = soon()
    first = requisition_for(clinician, body=late)
    second = requisition_for(clinician, body=order_body(seed=2))
    advance(second, by=office_worker, to=states.RETURNED, note="Hvilken etasje?")
    third = requisition_for(clinician, body=order_body(seed=3))
    return [first, second, third]


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def download(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- small exports: straight into the response ---------------------------------------------------------------


def test_a_csv_export_lists_the_filtered_orders_without_patient_data(client, auditor, orders):
    client.force_login(auditor)
    response = client.post(EXPORT, {"format": "csv", "flag": "returned"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="rekvisisjoner-')
    text = download(response).decode("utf-8")
    rows = read_csv(text)
    assert list(rows[0]) == list(exports.COLUMNS)
    assert [int(row["requisition_id"]) for row in rows] == [orders[1].pk]
    row = rows[0]
    assert (row["returned"], row["late"], row["status"], row["level"], row["recommended_level"]) == (
        "1",
        "0",
        "returned",
        "taxi",
        "taxi",
    )
    assert (row["unit"], row["requisitioner"], row["office"], row["pickup_municipality"]) == (
        "Majorstuen legekontor",
        "lege",
        "PR-OUS",
        "0301 Oslo",
    )
    first_sent = dt.datetime.fromisoformat(row["first_submitted_at"])
    assert first_sent.utcoffset() is not None and abs(first_sent - timezone.now()) < dt.timedelta(minutes=5)
    for requisition in orders:
        assert requisition.patient.national_id not in text and requisition.patient.name not in text


def test_all_orders_of_the_period_are_exported_newest_first(client, auditor, orders):
    client.force_login(auditor)
    rows = read_csv(download(client.post(EXPORT, {"format": "csv"})).decode())
    assert [int(row["requisition_id"]) for row in rows] == [r.pk for r in reversed(orders)]
    assert [row["late"] for row in rows] == ["0", "0", "1"]


def test_an_xlsx_export_opens_in_openpyxl(client, auditor, orders):
    client.force_login(auditor)
    response = client.post(EXPORT, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(download(response)), read_only=True).active
    values = list(sheet.values)
    assert values[0] == exports.COLUMNS
    assert sorted(row[0] for row in values[1:]) == sorted(r.pk for r in orders)


def test_an_export_is_recorded_in_the_access_log(client, auditor, orders):
    client.force_login(auditor)
    download(client.post(EXPORT, {"format": "csv"}))
    logged = AccessLog.objects.filter(user=auditor, page=exports.ACCESS_LOG_PAGE)
    assert sorted(logged.values_list("requisition_id", "patient_id")) == sorted((r.pk, r.patient_id) for r in orders)


def test_texts_that_a_spreadsheet_would_run_as_formulas_are_defused(client, auditor, clinician, orders):
    RequisitioningUnit.objects.filter(pk=clinician.unit_id).update(name='=HYPERLINK("http://x","y")')
    client.force_login(auditor)
    rows = read_csv(download(client.post(EXPORT, {"format": "csv"})).decode())
    assert rows[0]["unit"] == '\'=HYPERLINK("http://x","y")'
    sheet = load_workbook(io.BytesIO(download(client.post(EXPORT, {"format": "xlsx"}))), read_only=True).active
    unit_column = exports.COLUMNS.index("unit")
    assert list(sheet.values)[1][unit_column].startswith("'=")


def test_a_bad_export_request_is_refused(client, auditor):
    client.force_login(auditor)
    assert client.post(EXPORT, {"format": "pdf"}).status_code == 400
    assert client.post(EXPORT, {"format": "csv", "from": "nonsense"}).status_code == 400
    assert client.get(EXPORT).status_code == 405


# --- large exports: the task, the progress page, the download ----------------------------------------------------


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(exports, "DIRECT_LIMIT", 2)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)


def test_a_large_export_runs_as_a_task_with_progress_and_a_download(
    client, auditor, orders, small_limit, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(EXPORT, {"format": "csv"})
    assert len(callbacks) == 1  # the task is enqueued after commit
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/praksis/revisjon/eksport/{export.pk}/"
    assert (export.status, export.rows_done, export.rows_total, export.user) == ("done", 3, 3, auditor)

    progress = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "<progress" in progress and 'value="3"' in progress
    assert "hx-trigger" not in progress  # finished: polling stops
    assert f'href="/praksis/revisjon/eksport/{export.pk}/fil/"' in progress

    file_response = client.get(f"/praksis/revisjon/eksport/{export.pk}/fil/")
    assert file_response.status_code == 200
    assert file_response["Content-Disposition"].startswith('attachment; filename="rekvisisjoner-')
    rows = read_csv(download(file_response).decode())
    assert sorted(int(row["requisition_id"]) for row in rows) == sorted(r.pk for r in orders)
    assert AccessLog.objects.filter(user=auditor, page=exports.ACCESS_LOG_PAGE).count() == 3


def test_a_running_export_polls_every_second_with_an_accessible_progress_bar(client, auditor):
    export = Export.objects.create(user=auditor, format="xlsx", status="running", rows_total=4000, rows_done=1000)
    client.force_login(auditor)
    page = client.get(f"/praksis/revisjon/eksport/{export.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert '<progress id="export-bar" max="4000" value="1000"' in page
    assert '<label class="ds-label" for="export-bar">' in page
    assert 'role="status"' in page
    assert "/fil/" not in page
    assert client.get(f"/praksis/revisjon/eksport/{export.pk}/fil/").status_code == 404


def test_running_the_export_task_twice_writes_one_file_and_logs_once(auditor, orders, export_files):
    filters = OrderFilters.from_query({})
    export = Export.objects.create(user=auditor, format="xlsx", filters=filters.as_query())

    assert export_requisitions(export.pk) == "done"
    first = (export_files / f"export-{export.pk}.xlsx").read_bytes()
    assert export_requisitions(export.pk) == "done"  # the second run finds it done

    export.refresh_from_db()
    assert (export.status, export.rows_done, export.file_name) == ("done", 3, f"export-{export.pk}.xlsx")
    assert (export_files / export.file_name).read_bytes() == first
    assert [p.name for p in export_files.iterdir()] == [export.file_name]  # no leftover partial files
    assert AccessLog.objects.filter(page=exports.ACCESS_LOG_PAGE).count() == 3
    assert len(list(load_workbook(export_files / export.file_name, read_only=True).active.values)) == 4


def test_a_run_finding_another_run_at_work_comes_back_later(auditor, orders):
    export = Export.objects.create(
        user=auditor, format="csv", filters={}, status="running", heartbeat_at=timezone.now(), rows_done=1
    )
    with pytest.raises(Retry):
        export_requisitions(export.pk)
    export.refresh_from_db()
    assert (export.status, export.rows_done) == ("running", 1)
    assert not AccessLog.objects.exists()


def test_an_abandoned_export_is_taken_over_and_finished(auditor, orders):
    stale = timezone.now() - exports.STALE_AFTER - dt.timedelta(seconds=1)
    export = Export.objects.create(user=auditor, format="csv", filters={}, status="running", heartbeat_at=stale)
    assert export_requisitions(export.pk) == "done"
    export.refresh_from_db()
    assert (export.status, export.rows_done) == ("done", 3)


def test_a_failed_export_is_marked_failed(auditor, orders, monkeypatch):
    export = Export.objects.create(user=auditor, format="csv", filters={})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exports, "write_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        export_requisitions(export.pk)
    export.refresh_from_db()
    assert (export.status, export.error) == ("failed", "OSError")
    assert not AccessLog.objects.exists()


def test_the_task_argument_survives_json(auditor, orders):
    import json

    export = Export.objects.create(user=auditor, format="csv", filters=OrderFilters.from_query({}).as_query())
    (export_id,) = json.loads(json.dumps([export.pk]))
    assert export_requisitions.apply(args=[export_id]).get() == "done"


def test_an_export_belongs_to_the_auditor_who_asked_for_it(client, auditor, orders):
    other = portal_user_create(username="revisor2", role=roles.AUDITOR, password=PASSWORD)
    export = Export.objects.create(user=auditor, format="csv", filters={})
    export_requisitions(export.pk)
    client.force_login(other)
    assert client.get(f"/praksis/revisjon/eksport/{export.pk}/").status_code == 404
    assert client.get(f"/praksis/revisjon/eksport/{export.pk}/fil/").status_code == 404


def test_the_export_holds_what_the_drill_down_shows(auditor, orders):
    filters = OrderFilters.from_query({"flag": "late"})
    ids = [row[0] for row in exports.rows(exports.export_queryset(auditor, filters))]
    assert ids == [orders[0].pk]
