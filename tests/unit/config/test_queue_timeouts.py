"""settings.JOBS_QUEUES names each queue's worker timeout (the API refuses a task that could not run
there); serverless.yml sets the same timeout on the function that queue triggers. The two must
agree, or the API accepts tasks no worker can finish (or refuses ones it could)."""

from __future__ import annotations

from django.conf import settings

from infra.check.config import load_serverless, resolve_serverless
from infra.check.rules import _ref_name


def _timeouts_by_url_variable() -> dict[str, int]:
    """For each function an SQS queue triggers: the environment variable holding that queue's URL
    (the one whose value is ``!Ref <the queue>``) → the function's timeout."""
    serverless = resolve_serverless(load_serverless(), stage="dev")
    found: dict[str, int] = {}
    for function in serverless.functions.values():
        queues = {
            _ref_name(event["sqs"].get("arn"))
            for event in function.get("events") or []
            if isinstance(event, dict) and isinstance(event.get("sqs"), dict)
        }
        for variable, value in (function.get("environment") or {}).items():
            if _ref_name(value) in queues:
                found[variable] = int(function["timeout"])
    return found


def test_each_queue_in_jobs_queues_has_its_worker_functions_timeout() -> None:
    timeouts = _timeouts_by_url_variable()
    variable_of_queue = {"default": "JOBS_QUEUE_URL", "long": "JOBS_LONG_QUEUE_URL"}
    assert set(settings.JOBS_QUEUES) == set(variable_of_queue)
    for name, variable in variable_of_queue.items():
        assert settings.JOBS_QUEUES[name]["function_timeout"] == timeouts[variable], name
