"""A django-tasks task nobody imports: the worker imports this module when a job names the task
(tests/functional/worker/test_tasks_backend.py lists it in JOBS_EXTRA_TASK_MODULES)."""

from __future__ import annotations

from django_tasks import task


@task()
def shout(word: str) -> str:
    return word.upper()
