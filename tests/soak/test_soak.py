"""The soak's scenario at CI size (``make soak`` runs it at full size): the same load shape, every
fault switched on, the same assertions. Needs PostgreSQL (a failure under CI=true when absent)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.soak.scenario import REPO, SoakConfig, SoakResult, run_soak

pytestmark = [pytest.mark.soak, pytest.mark.slow, pytest.mark.timeout(600)]


def _postgres_url() -> str:
    done = subprocess.run(
        ["bash", str(REPO / "infra/scripts/postgres.sh")], capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {done.stderr.strip()}")
        pytest.skip(f"PostgreSQL unavailable: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> SoakResult:
    config = SoakConfig(
        database_url=_postgres_url(),
        users=5,
        clients=30,
        jobs=200,
        rate=8.0,
        kill_share=0.03,
        duplicate_share=0.05,
        poison_each=1,
        vanish_share=0.1,
        reconnect_share=0.15,
        throttle_share=0.05,
        restart_postgres=True,
        time_limit=300.0,
    )
    result = run_soak(config, work_dir=Path(tmp_path_factory.mktemp("soak")))
    print(result.table())
    return result


def test_every_job_succeeded_and_none_was_lost(soak: SoakResult) -> None:
    assert soak.tally.submitted == soak.config.jobs
    assert soak.lost == 0
    assert soak.not_terminal == 0
    assert soak.jobs_by_status == {"succeeded": soak.config.jobs}


def test_no_task_body_completed_twice(soak: SoakResult) -> None:
    assert soak.double_run == 0


def test_every_connected_owner_saw_every_terminal_event(soak: SoakResult) -> None:
    assert soak.missed_terminal == 0, soak.missed_detail


def test_the_dlq_holds_exactly_the_poison_messages(soak: SoakResult) -> None:
    assert len(soak.tally.poison) == 4
    assert soak.dlq_matches_poison, (soak.dlq_bodies, soak.tally.poison)


def test_no_http_5xx_and_no_unhandled_exception(soak: SoakResult) -> None:
    assert soak.tally.http_5xx == []
    assert soak.function_errors == []


def test_it_keeps_its_pace_beside_a_cpu_bound_process(soak: SoakResult) -> None:
    assert soak.config.cpu_hogs == 1
    assert not soak.timed_out
    assert soak.spare >= soak.config.spare_share, soak.verdict()
    assert soak.stack_cpu_seconds > 0


def test_the_faults_really_happened(soak: SoakResult) -> None:
    # A soak whose faults did not fire proves nothing.
    tally = soak.tally
    assert tally.kills >= 1
    assert soak.killed_invocations == tally.kills
    assert tally.duplicates >= 1
    assert tally.vanished >= 1
    assert tally.reconnects >= 1
    assert soak.throttled_posts >= 1
    assert tally.restarts == 1
