"""The one env reader: environment first, then one SSM read per container for stack values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from django_app.config import env
from tests.aws import aws_client


@pytest.fixture
def ssm_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    prefix = "/polyglot/unit-test"
    ssm = aws_client("ssm")
    ssm.put_parameter(Name=f"{prefix}/jobs-queue-url", Value="https://sqs.example/q", Type="String", Overwrite=True)
    ssm.put_parameter(Name=f"{prefix}/django-secret-key", Value="from-ssm", Type="SecureString", Overwrite=True)
    monkeypatch.setenv("SSM_PARAMETER_PREFIX", prefix)
    monkeypatch.delenv("JOBS_QUEUE_URL", raising=False)
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    env._ssm_parameters.cache_clear()
    yield prefix
    ssm.delete_parameters(Names=[f"{prefix}/jobs-queue-url", f"{prefix}/django-secret-key"])
    env._ssm_parameters.cache_clear()


def test_environment_wins_over_ssm(ssm_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBS_QUEUE_URL", "from-env")
    assert env.str_("JOBS_QUEUE_URL", ssm=True) == "from-env"


def test_stack_values_and_secrets_come_from_ssm_in_one_call(ssm_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert env.str_("JOBS_QUEUE_URL", ssm=True) == "https://sqs.example/q"
    assert env.str_("DJANGO_SECRET_KEY", ssm=True) == "from-ssm"  # SecureString, decrypted
    assert env._ssm_parameters.cache_info().misses == 1


def test_knobs_never_read_ssm(ssm_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBS_QUEUE_URL", raising=False)
    assert env.str_("JOBS_QUEUE_URL", "default") == "default"
    assert env._ssm_parameters.cache_info().misses == 0


def test_missing_required_value_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSM_PARAMETER_PREFIX", raising=False)
    monkeypatch.delenv("NOT_THERE", raising=False)
    with pytest.raises(env.ConfigError, match="NOT_THERE"):
        env.str_("NOT_THERE")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("off", False), ("", False)])
def test_booleans(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("FLAG", raw)
    assert env.bool_("FLAG", default=not expected) is expected


def test_malformed_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "perhaps")
    monkeypatch.setenv("COUNT", "ten")
    with pytest.raises(env.ConfigError, match="FLAG"):
        env.bool_("FLAG", default=False)
    with pytest.raises(env.ConfigError, match="COUNT"):
        env.int_("COUNT", 1)


def test_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELAY", "0.25")
    assert env.float_("DELAY", 1.0) == 0.25
    monkeypatch.delenv("DELAY")
    assert env.float_("DELAY", 1.0) == 1.0
    for raw in ("soon", "nan", "inf"):
        monkeypatch.setenv("DELAY", raw)
        with pytest.raises(env.ConfigError, match="DELAY"):
            env.float_("DELAY", 1.0)


def test_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", " a.example, ,b.example ")
    assert env.list_("HOSTS") == ["a.example", "b.example"]
    monkeypatch.delenv("HOSTS")
    assert env.list_("HOSTS", ["x"]) == ["x"]
