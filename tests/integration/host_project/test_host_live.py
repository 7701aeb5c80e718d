"""A host project (tests/host_project: its own settings, a UUID-keyed user model logging in by
e-mail, its own tasks) deployed on the local stack from its own serverless.yml and
zappa_settings.json: one of its people follows their jobs live over the WebSocket, on their
``user:<uuid>`` topic, from ``job.queued`` to ``job.succeeded`` with the result."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from infra.local.stack import LocalStack
from tests.integration.host_project.browser import Browser
from tests.integration.host_project.host_repo import HOST_SETTINGS, build_host_repo
from tests.integration.local_stack.client import WAIT_SECONDS, Api, subscribe

pytestmark = pytest.mark.slow

EMAIL = "ada@host.example"
PASSWORD = "ada-password-1"  # a throwaway account of a throwaway stack
HOST_TASKS = "tests.host_project.reports.tasks"
TERMINAL = ("job.succeeded", "job.failed", "job.cancelled")
LIFECYCLE = ("job.queued", "job.running", "job.progress", "job.succeeded")


@pytest.fixture(scope="module")
def host_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    repo = build_host_repo(tmp_path_factory.mktemp("host-repo"))
    with LocalStack(
        state_dir=tmp_path_factory.mktemp("host-state"), serverless_path=repo.serverless, zappa_path=repo.zappa
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def person(host_stack: LocalStack) -> tuple[str, Api]:
    """Ada, made as an operator makes a person (by the model's e-mail field), with an API token."""
    person_id = host_stack.create_user(EMAIL, PASSWORD)
    return person_id, Api(host_stack, host_stack.create_token(username=EMAIL, name="host-live"))


async def _frames_until_complete(ws: Any, job_id: str) -> list[dict[str, Any]]:
    """The job's event frames, in arrival order, until a terminal one has come and so has every
    event before it (seq 1 up to the terminal's: each change of a job is one event, one seq).

    Delivery may overtake (docs/protocol.md): Django publishes ``job.queued`` after it sent the
    message, so the worker's first events can arrive before it. Every read is bounded in time."""
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            frame = json.loads(await ws.recv())
            assert frame.get("type") != "error", frame
            if frame.get("type") != "event" or frame["event"].get("job_id") != job_id:
                continue
            frames.append(frame)
            terminal = [f["event"]["seq"] for f in frames if f["event"]["type"] in TERMINAL]
            if terminal and {f["event"]["seq"] for f in frames} >= set(range(1, max(terminal) + 1)):
                return frames


def _follow(
    client: Api | Browser, person_id: str, submission: dict[str, Any], *, ws_url: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Connects with a ticket, subscribes to the person's topic, then submits (nothing missed)."""

    async def journey() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ticket = client.ticket()
        # The host's settings read the WebSocket API's URL from the stack (SSM): the local gateway.
        assert (ticket["topics"], ticket["websocket_url"]) == ([f"user:{person_id}"], ws_url)
        ws = await websockets.connect(f"{ws_url}?ticket={ticket['ticket']}", open_timeout=WAIT_SECONDS)
        try:
            await subscribe(ws, f"user:{person_id}")
            status, job = client.call("POST", "/api/jobs/", submission)
            assert status == 202, job
            return job, await _frames_until_complete(ws, job["id"])
        finally:
            await ws.close()

    return asyncio.run(journey())


def _check_followed(frames: list[dict[str, Any]], *, person_id: str, job: dict[str, Any]) -> list[dict[str, Any]]:
    """What every followed job shows: all on the person's topic and about their job, a terminal
    event with the highest seq, and the job's lifecycle in seq order. Returns the events by seq."""
    assert {frame["topic"] for frame in frames} == {f"user:{person_id}"}
    events = [frame["event"] for frame in frames]
    assert {(event["job_id"], event["owner"], event["task"]) for event in events} == {
        (job["id"], person_id, job["task"])
    }
    # A client orders by seq (delivery is at least once and may overtake): the job's events in
    # that order are its lifecycle, the terminal event (its last change) the highest.
    by_seq = sorted({event["seq"]: event for event in events}.values(), key=lambda event: event["seq"])
    kinds = [event["type"] for event in by_seq]
    assert (kinds[0], kinds[-1]) == ("job.queued", "job.succeeded"), kinds
    assert [LIFECYCLE.index(kind) for kind in kinds] == sorted(LIFECYCLE.index(kind) for kind in kinds), kinds
    return by_seq


def test_the_host_runs_its_own_settings_and_tasks(host_stack: LocalStack, person: tuple[str, Api]) -> None:
    assert host_stack.django_settings == HOST_SETTINGS
    # The Django function lists the tasks of the host's settings: the host's own, none of our samples.
    status, tasks = person[1].call("GET", "/api/tasks/")
    assert status == 200, tasks
    assert sorted(task["name"] for task in tasks) == [
        "reports.greet",
        *(f"{HOST_TASKS}.{name}" for name in ("refuse", "where_am_i", "word_total", "yearly_report")),
    ]


def test_a_person_logs_in_by_email_and_follows_the_hosts_task_live(
    host_stack: LocalStack, person: tuple[str, Api]
) -> None:
    person_id, _ = person
    assert str(uuid.UUID(person_id)) == person_id
    browser = Browser(host_stack.http_url)
    assert browser.log_in(EMAIL, "not-her-password") == 200  # the form again: no session
    assert not browser.logged_in
    assert browser.log_in(EMAIL, PASSWORD) == 302
    assert browser.logged_in

    job, frames = _follow(
        browser, person_id, {"task": "reports.greet", "params": {"name": "Ada"}}, ws_url=host_stack.ws_url
    )

    by_seq = _check_followed(frames, person_id=person_id, job=job)
    assert "job.running" in [event["type"] for event in by_seq]
    assert [(event["progress"], event["note"]) for event in by_seq if event["type"] == "job.progress"] == [
        (50, "composing")
    ]
    assert by_seq[-1]["result"] == {"greeting": "Hello, Ada!"}
    status, stored = browser.call("GET", f"/api/jobs/{job['id']}/")
    assert (status, stored["status"], stored["result"]) == (200, "succeeded", {"greeting": "Hello, Ada!"})


def test_a_program_of_hers_follows_the_hosts_django_task_live(host_stack: LocalStack, person: tuple[str, Api]) -> None:
    """Her API token (a program acting for her): a django-tasks task by module path, args and kwargs."""
    person_id, api = person
    text = "the host counts these six words"
    submission = {"task": f"{HOST_TASKS}.word_total", "params": {"args": [text], "kwargs": {"extra": 2}}}

    job, frames = _follow(api, person_id, submission, ws_url=host_stack.ws_url)

    by_seq = _check_followed(frames, person_id=person_id, job=job)
    assert by_seq[-1]["result"] == len(text.split()) + 2
