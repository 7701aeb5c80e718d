"""Rate limits of logging in and of minting WebSocket tickets, at the production defaults.

The test settings raise every limit so that other tests never meet one; the ``limits`` fixture puts
the defaults of ``config/settings/base.py`` back. Time is the ``clock`` fixture, never a sleep.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient
from zappa.wsgi import create_wsgi_request

from django_app.accounts import apis, ratelimits
from django_app.accounts.models import RateLimitCounter
from django_app.accounts.ratelimits import rate_limit_hit
from django_app.accounts.tokens import api_token_create
from django_app.jobs.sweeps import sweeps_run
from tests.lambda_events import http_v2_event, rest_v1_event

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[3]
WINDOW = 60
HOME_IP, OTHER_IP = "198.51.100.1", "198.51.100.2"
# The documented production defaults (docs/security.md); the settings must agree with them.
DEFAULTS = {
    "window_seconds": 60,
    "login_per_ip": 30,
    "login_failures_per_username": 10,
    "tickets_per_user": 30,
    "tickets_per_ip": 120,
    "login_per_username": 50,
    "grants_per_user": 60,
    "introspections_per_user": 600,
    "tokens_per_user": 30,
}


class Clock:
    """Seconds since the epoch, moved by the test; starts 5 s into a window."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def limits(settings: Any) -> dict[str, int]:
    settings.RATE_LIMITS = dict(settings.RATE_LIMIT_DEFAULTS)
    return dict(settings.RATE_LIMITS)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import time

    clock = Clock(int(time.time()) // WINDOW * WINDOW + 5)
    monkeypatch.setattr(ratelimits, "now", clock)
    return clock


def test_the_defaults_are_the_documented_ones(settings: Any) -> None:
    assert settings.RATE_LIMIT_DEFAULTS == DEFAULTS


# --- logging in ----------------------------------------------------------------------------------


def log_in(client: Any, username: str, password: str, *, ip: str = HOME_IP, path: str = "/login/") -> Any:
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def assert_refused_login(response: Any, *, retry_after: int) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    page = response.content.decode()
    assert f"Too many login attempts. Try again in {retry_after} second" in page
    assert 'name="username"' in page  # the form, to try again later
    assert 'name="password"' in page
    assert "sessionid" not in response.cookies


def test_failed_logins_per_username_are_limited(client: Any, user: Any, limits: Any, clock: Clock) -> None:
    for _ in range(limits["login_failures_per_username"]):
        assert log_in(client, "alice", "wrong").status_code == 200

    assert_refused_login(log_in(client, "alice", "wrong"), retry_after=55)
    # Even the right password is not checked now: no session, still anonymous.
    assert_refused_login(log_in(client, "alice", "alice-password-1"), retry_after=55)
    assert client.get("/").status_code == 302


def test_the_username_count_ignores_case(client: Any, user: Any, limits: Any, clock: Clock) -> None:
    for index in range(limits["login_failures_per_username"]):
        log_in(client, "alice" if index % 2 else "ALICE", "wrong")
    assert log_in(client, "Alice", "wrong").status_code == 429


def test_a_success_clears_the_failures(client: Any, user: Any, limits: Any, clock: Clock) -> None:
    for _ in range(limits["login_failures_per_username"] - 1):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", "alice-password-1").status_code == 302
    client.post("/logout/")

    for _ in range(limits["login_failures_per_username"]):
        assert log_in(client, "alice", "wrong").status_code == 200
    assert log_in(client, "alice", "wrong").status_code == 429


def test_other_usernames_and_addresses_are_counted_apart(
    client: Any, user: Any, other_user: Any, limits: Any, clock: Clock
) -> None:
    for _ in range(limits["login_failures_per_username"] + 1):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", "wrong").status_code == 429

    assert log_in(client, "bob", "bob-password-1").status_code == 302  # another username, same address
    client.post("/logout/")
    assert log_in(client, "alice", "alice-password-1", ip=OTHER_IP).status_code == 302  # the owner, elsewhere


def test_every_login_attempt_counts_per_address(client: Any, user: Any, limits: Any, clock: Clock) -> None:
    for index in range(limits["login_per_ip"]):
        assert log_in(client, f"guess-{index}", "wrong").status_code == 200

    assert_refused_login(log_in(client, "alice", "alice-password-1"), retry_after=55)
    assert log_in(client, "alice", "alice-password-1", ip=OTHER_IP).status_code == 302


def test_the_limit_lifts_when_the_window_ends(client: Any, user: Any, limits: Any, clock: Clock) -> None:
    for _ in range(limits["login_failures_per_username"]):
        log_in(client, "alice", "wrong")
    clock.advance(30)
    assert_refused_login(log_in(client, "alice", "wrong"), retry_after=25)

    clock.advance(25)  # the next window
    assert log_in(client, "alice", "alice-password-1").status_code == 302


def test_the_admin_login_has_the_same_limits(client: Any, admin_user: Any, limits: Any, clock: Clock) -> None:
    for _ in range(limits["login_failures_per_username"]):
        assert log_in(client, "admin", "wrong", path="/admin/login/").status_code == 200

    response = log_in(client, "admin", "password", path="/admin/login/")  # pytest-django's admin password

    assert_refused_login(response, retry_after=55)
    assert client.get("/admin/").status_code == 302  # not logged in
    assert log_in(client, "admin", "password", ip=OTHER_IP, path="/admin/login/").status_code == 302


def test_a_signed_in_admin_over_the_limit_gets_a_plain_429(
    client: Any, admin_user: Any, limits: Any, clock: Clock
) -> None:
    """The admin's login page redirects a signed-in admin, so there is no form to show."""
    client.force_login(admin_user)
    for _ in range(limits["login_failures_per_username"]):
        log_in(client, "admin", "wrong", path="/admin/login/")

    response = log_in(client, "admin", "wrong", path="/admin/login/")

    assert response.status_code == 429
    assert response["Retry-After"] == "55"
    assert response.content.decode() == "Too many login attempts. Try again in 55 seconds."


def test_looking_at_the_login_page_is_not_counted(client: Any, limits: Any, clock: Clock) -> None:
    for _ in range(limits["login_per_ip"] + 1):
        assert client.get("/login/", REMOTE_ADDR=HOME_IP).status_code == 200
    assert not RateLimitCounter.objects.exists()


# --- the client's address ------------------------------------------------------------------------


def through_zappa(event: dict[str, Any]) -> dict[str, Any]:
    """What Zappa's handler adds to the WSGI environ of an API Gateway event."""
    environ = create_wsgi_request(event)
    return {"REMOTE_ADDR": environ["REMOTE_ADDR"], "lambda.event": event}


def test_the_address_is_api_gateways_source_ip_not_x_forwarded_for(
    client: Any, user: Any, limits: Any, clock: Clock
) -> None:
    source_ip = rest_v1_event()["requestContext"]["identity"]["sourceIp"]
    spoofed = [f"192.0.2.{index}, {source_ip}" for index in range(limits["login_per_ip"] + 1)]
    # Behind a regional endpoint a client writes the left part of X-Forwarded-For, and Zappa takes
    # the second-to-last entry for REMOTE_ADDR: a new address on every request.
    assert through_zappa(rest_v1_event(headers={"X-Forwarded-For": spoofed[0]}))["REMOTE_ADDR"] == "192.0.2.0"

    answers = [
        client.post(
            "/login/",
            {"username": f"guess-{index}", "password": "wrong"},
            **through_zappa(rest_v1_event(method="POST", path="/login/", headers={"X-Forwarded-For": forwarded})),
        ).status_code
        for index, forwarded in enumerate(spoofed)
    ]

    assert answers == [200] * limits["login_per_ip"] + [429]


def test_the_address_of_an_http_api_event(rf: Any) -> None:
    event = http_v2_event(headers={"x-forwarded-for": "192.0.2.9"})
    request = rf.get("/", **{"lambda.event": event, "REMOTE_ADDR": "192.0.2.9"})
    assert ratelimits.client_ip(request) == event["requestContext"]["http"]["sourceIp"] != "192.0.2.9"
    assert ratelimits.client_ip(rf.get("/", REMOTE_ADDR=OTHER_IP)) == OTHER_IP


# --- WebSocket tickets ---------------------------------------------------------------------------


@pytest.fixture
def minted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The user ids of the tickets the API actually minted."""
    calls: list[int] = []
    real = apis.ticket_mint

    def spy(*, user_id: int, **kwargs: Any) -> Any:
        calls.append(user_id)
        return real(user_id=user_id, **kwargs)

    monkeypatch.setattr(apis, "ticket_mint", spy)
    return calls


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='rate')[1]}")
    return client


def mint(client: APIClient, *, ip: str = HOME_IP) -> Any:
    return client.post("/api/ws/tickets/", {"jobs": []}, format="json", REMOTE_ADDR=ip)


def assert_rate_limited(response: Any, *, retry_after: int) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert f"in {retry_after} second" in error["message"]
    assert "ticket" not in response.json()


def test_tickets_per_user_are_limited(api: Any, user: Any, limits: Any, clock: Clock, minted: list[int]) -> None:
    for _ in range(limits["tickets_per_user"]):
        assert mint(api).status_code == 201

    assert_rate_limited(mint(api), retry_after=55)
    assert_rate_limited(mint(api, ip=OTHER_IP), retry_after=55)  # the user's count, from anywhere
    assert minted == [user.pk] * limits["tickets_per_user"]


def test_another_users_tickets_are_counted_apart(
    api: Any, other_user: Any, limits: Any, clock: Clock, minted: list[int]
) -> None:
    for _ in range(limits["tickets_per_user"] + 1):
        mint(api)
    assert mint(client_for(other_user)).status_code == 201


def test_tickets_per_address_are_limited(django_user_model: Any, limits: Any, clock: Clock, minted: list[int]) -> None:
    """Five people behind one address, each under their own limit, together over the address's."""
    users = [django_user_model.objects.create_user(username=f"office-{index}") for index in range(5)]
    share = limits["tickets_per_ip"] // len(users)
    assert share < limits["tickets_per_user"]
    assert share * len(users) == limits["tickets_per_ip"]
    for user in users:
        for _ in range(share):
            assert mint(client_for(user)).status_code == 201

    assert_rate_limited(mint(client_for(users[0])), retry_after=55)
    assert len(minted) == limits["tickets_per_ip"]
    assert mint(client_for(users[0]), ip=OTHER_IP).status_code == 201


def test_ticket_limits_lift_when_the_window_ends(api: Any, limits: Any, clock: Clock) -> None:
    for _ in range(limits["tickets_per_user"]):
        mint(api)
    clock.advance(54.5)
    assert_rate_limited(mint(api), retry_after=1)  # never 0: a client must wait before retrying

    clock.advance(0.5)
    assert mint(api).status_code == 201


def test_unauthenticated_requests_are_refused_before_counting(limits: Any, clock: Clock) -> None:
    assert APIClient().post("/api/ws/tickets/", {}, format="json").status_code == 401
    assert not RateLimitCounter.objects.exists()


def test_a_limit_of_zero_is_no_limit(api: Any, settings: Any, limits: Any, clock: Clock) -> None:
    settings.RATE_LIMITS = {**limits, "tickets_per_user": 0, "tickets_per_ip": 0}
    for _ in range(limits["tickets_per_user"] + 1):
        assert mint(api).status_code == 201
    assert not RateLimitCounter.objects.exists()


# --- shared between containers -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_containers_share_the_counts(user: Any, limits: Any, clock: Clock) -> None:
    """Two clients stand for two Lambda containers; a fresh database connection sees their count."""
    first, second = client_for(user), client_for(user)
    half = limits["tickets_per_user"] // 2
    for _ in range(half):
        assert mint(first).status_code == 201
        assert mint(second).status_code == 201

    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            table = fresh.ops.quote_name(RateLimitCounter._meta.db_table)
            cursor.execute(f"SELECT hits FROM {table} WHERE {fresh.ops.quote_name('key')} LIKE %s", ["tickets-user:%"])  # noqa: S608
            assert cursor.fetchall() == [(2 * half,)]
    finally:
        fresh.close()
    assert mint(first).status_code == 429
    assert mint(second).status_code == 429


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (runs in the PostgreSQL pass: make test-postgres)")


def in_threads(count: int, work: Callable[[], Any]) -> list[Any]:
    start = threading.Barrier(count, timeout=10)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except BaseException as error:  # reported by the caller's assertion
            errors.append(error)
        finally:
            connections.close_all()  # each thread has its own connection; leave the test database free

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_counts_are_exact_on_postgresql(limits: Any, clock: Clock) -> None:
    needs_postgres()
    threads, per_thread, limit = 8, 25, 100

    def hits() -> list[int | None]:
        return [rate_limit_hit(rule="test", subject="one-key", limit=limit) for _ in range(per_thread)]

    answers = [answer for batch in in_threads(threads, hits) for answer in batch]

    assert answers.count(None) == limit  # exactly the limit got through, not one more
    assert RateLimitCounter.objects.get().hits == threads * per_thread  # and no count was lost


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_logins_cannot_outrun_the_limit_on_postgresql(user: Any, limits: Any, clock: Clock) -> None:
    needs_postgres()
    attempts = limits["login_failures_per_username"] + 10

    def guess() -> int:
        return int(log_in(Client(), "alice", "wrong").status_code)  # one browser per thread

    answers = in_threads(attempts, guess)

    assert sorted(answers) == [200] * limits["login_failures_per_username"] + [429] * 10


# --- purge and configuration ---------------------------------------------------------------------


def test_the_purge_sweep_deletes_past_windows_only(limits: Any, clock: Clock) -> None:
    rate_limit_hit(rule="test", subject="old", limit=1)
    clock.advance(-3 * WINDOW)  # a window that ended minutes ago
    rate_limit_hit(rule="test", subject="older", limit=1)

    report = sweeps_run(names=["purge"])

    assert report == {"purge": {"jobs": 0, "rate_limits": 1}}
    assert RateLimitCounter.objects.count() == 1


def settings_in_a_fresh_process(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "RATE_LIMIT_", "SSM_"))}
    env.update(DJANGO_SECRET_KEY="k" * 50, **environment)
    code = "import json; from django_app.config.settings import base; print(json.dumps(base.RATE_LIMITS))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_environment_overrides_the_limits() -> None:
    raised = settings_in_a_fresh_process(RATE_LIMIT_TICKETS_PER_IP="5000", RATE_LIMIT_LOGIN_PER_IP="0")
    assert raised.returncode == 0, raised.stderr
    assert json.loads(raised.stdout) == {**DEFAULTS, "tickets_per_ip": 5000, "login_per_ip": 0}

    for bad in ({"RATE_LIMIT_TICKETS_PER_USER": "lots"}, {"RATE_LIMIT_WINDOW_SECONDS": "0"}):
        refused = settings_in_a_fresh_process(**bad)
        assert refused.returncode != 0
        assert "ConfigError" in refused.stderr


# --- issue 17, finding 6: IPv6 per /64, logins per username, grants, introspection, tokens ----------

V6_HOME, V6_SAME_64, V6_OTHER_64 = "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:3::1"


@pytest.mark.parametrize(
    ("address", "subject"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:abcd::9", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:0:0:0:1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("unknown", "unknown"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64(address: str, subject: str) -> None:
    assert ratelimits.address_subject(address) == subject


def test_logins_from_one_ipv6_64_share_a_count(client: Any, user: Any, limits: Any, clock: Clock) -> None:
    for index in range(limits["login_per_ip"]):
        # A fresh address of the same /64 for every guess, as a client holding the /64 could.
        address = f"2001:db8:1:2::{index + 1:x}"
        assert log_in(client, f"guess-{index}", "wrong", ip=address).status_code == 200
    assert_refused_login(log_in(client, "alice", "alice-password-1", ip=V6_SAME_64), retry_after=55)
    assert log_in(client, "alice", "alice-password-1", ip=V6_OTHER_64).status_code == 302


def test_tickets_from_one_ipv6_64_share_a_count(
    django_user_model: Any, limits: Any, clock: Clock, minted: list[int]
) -> None:
    users = [django_user_model.objects.create_user(username=f"v6-{index}") for index in range(5)]
    share = limits["tickets_per_ip"] // len(users)
    for index, user in enumerate(users):
        for count in range(share):
            assert mint(client_for(user), ip=f"2001:db8:1:2::{index}:{count + 1:x}").status_code == 201
    assert_rate_limited(mint(client_for(users[0]), ip=V6_HOME), retry_after=55)
    assert mint(client_for(users[0]), ip=V6_OTHER_64).status_code == 201


def test_logins_for_one_username_are_limited_across_addresses(
    client: Any, user: Any, other_user: Any, limits: Any, clock: Clock
) -> None:
    """Many addresses sharing the guessing of one password, each under its own limits."""
    per_address = limits["login_failures_per_username"]
    addresses = limits["login_per_username"] // per_address
    for index in range(addresses):
        for _ in range(per_address):
            assert log_in(client, "alice", "wrong", ip=f"203.0.113.{index + 1}").status_code == 200
    assert_refused_login(log_in(client, "alice", "alice-password-1", ip="203.0.113.200"), retry_after=55)
    assert log_in(client, "bob", "bob-password-1", ip="203.0.113.200").status_code == 302  # another username


def test_grants_per_user_are_limited(api: Any, user: Any, limits: Any, clock: Clock) -> None:
    from django_app.jobs.models import Job

    job = Job.objects.create(owner=user, task="countdown", params={"seconds": 1})
    for _ in range(limits["grants_per_user"]):
        assert api.post("/api/ws/grants/", {"jobs": [str(job.id)]}, format="json").status_code == 201
    refused = api.post("/api/ws/grants/", {"jobs": [str(job.id)]}, format="json")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "55"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "grant" not in refused.json()


def test_introspections_per_service_are_limited(django_user_model: Any, settings: Any, clock: Clock) -> None:
    from django_app.accounts.service_credentials import service_credential_create

    settings.RATE_LIMITS = {**settings.RATE_LIMIT_DEFAULTS, "introspections_per_user": 3}
    service = APIClient()
    service.credentials(
        HTTP_AUTHORIZATION=f"Bearer {service_credential_create(service='webhooks', permissions=['introspect'])[1]}"
    )
    for _ in range(3):
        assert service.post("/api/auth/introspect/", {"token": "x"}, format="json").status_code == 200
    refused = service.post("/api/auth/introspect/", {"token": "x"}, format="json")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    # Without a service credential: a 403, never counted.
    outsider = client_for(django_user_model.objects.create_user(username="outsider"))
    for _ in range(5):
        assert outsider.post("/api/auth/introspect/", {"token": "x"}, format="json").status_code == 403


def test_the_token_exchange_throttle_counts_per_user(
    rf: Any, user: Any, other_user: Any, limits: Any, clock: Clock
) -> None:
    """On its own: POST /api/auth/token/ attaches it (issue 17's other half)."""
    from rest_framework.request import Request

    from django_app.accounts.throttles import TokenExchangeThrottle

    def request_of(someone: Any) -> Request:
        request = Request(rf.post("/api/auth/token/"))
        request.user = someone
        return request

    throttle = TokenExchangeThrottle()
    for _ in range(limits["tokens_per_user"]):
        assert throttle.allow_request(request_of(user), view=None)
    assert not throttle.allow_request(request_of(user), view=None)
    assert throttle.wait() == 55
    assert TokenExchangeThrottle().allow_request(request_of(other_user), view=None)
    clock.advance(55)
    assert TokenExchangeThrottle().allow_request(request_of(user), view=None)
