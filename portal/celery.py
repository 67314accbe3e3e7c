"""The Celery application; configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(task=None, **kwargs):
    """With connections reused between tasks, drop broken or expired ones as Django does per request."""
    if task is not None and getattr(task.request, "is_eager", False):
        return  # an eager task runs inside the caller's transaction
    from django.db import close_old_connections as close

    close()
