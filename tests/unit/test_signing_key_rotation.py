"""The operators' rotation tool (``python -m infra.signing_keys``) against SSM in moto: each step
writes the slots and a matching ``auth-jwks``, and refuses a step that would break verifiers."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from infra.signing_keys.__main__ import main
from infra.signing_keys.rotation import PUBLISH_AHEAD, RETIRE_AFTER, RotationRefused, Slot, Slots, activate, retire
from infra.signing_keys.store import KeyStore, issuer_path
from polyglot_auth.jwk import private_key_generate_pem, private_key_load, public_jwk
from tests.aws import aws_client


def kid(pem: str) -> str:
    return public_jwk(private_key_load(pem))["kid"]


@pytest.fixture
def prefix() -> str:
    return f"/polyglot/rotation-{uuid.uuid4().hex[:8]}"


def test_private_keys_live_beside_the_stage_path_not_under_it(prefix: str) -> None:
    assert main(["create", "--stage", "x", "--prefix", prefix]) == 0
    ssm = aws_client("ssm")
    under_stage = ssm.get_parameters_by_path(Path=prefix, Recursive=True)["Parameters"]
    assert [parameter["Name"] for parameter in under_stage] == [f"{prefix}/auth-jwks"]  # public only
    private = ssm.get_parameters_by_path(Path=issuer_path(prefix), WithDecryption=True)["Parameters"]
    assert [(p["Name"].rsplit("/", 1)[-1], p["Type"]) for p in private] == [("auth-signing-key", "SecureString")]


def published(prefix: str) -> list[str]:
    answer = aws_client("ssm").get_parameter(Name=f"{prefix}/auth-jwks")["Parameter"]["Value"]
    return [key["kid"] for key in json.loads(answer)["keys"]]


def test_a_whole_rotation_through_the_command(prefix: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = KeyStore(ssm=aws_client("ssm"), prefix=prefix)
    assert main(["create", "--stage", "x", "--prefix", prefix]) == 0
    a = store.slots_read().current.pem
    assert published(prefix) == [kid(a)]
    assert main(["create", "--stage", "x", "--prefix", prefix]) == 2  # never overwrites a key

    assert main(["publish-next", "--stage", "x", "--prefix", prefix]) == 0
    b = store.slots_read().next.pem
    assert published(prefix) == [kid(a), kid(b)]
    assert main(["activate", "--stage", "x", "--prefix", prefix]) == 2  # just published: too early
    assert "activate after" in capsys.readouterr().err

    assert main(["activate", "--stage", "x", "--prefix", prefix, "--force"]) == 0
    slots = store.slots_read()
    assert (slots.current.pem, slots.next.pem, slots.previous.pem) == (b, "", a)
    assert published(prefix) == [kid(b), kid(a)]
    assert main(["retire", "--stage", "x", "--prefix", prefix]) == 2  # A's tokens may still be valid

    assert main(["retire", "--stage", "x", "--prefix", prefix, "--force"]) == 0
    assert published(prefix) == [kid(b)]
    capsys.readouterr()
    assert main(["show", "--stage", "x", "--prefix", prefix]) == 0
    assert capsys.readouterr().out.split() == [kid(b)]


def test_the_waits_follow_the_clock() -> None:
    now = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    a, b = private_key_generate_pem(), private_key_generate_pem()
    fresh = Slots(
        current=Slot(a), next=Slot(b, written_at=now - PUBLISH_AHEAD + dt.timedelta(seconds=1)), previous=Slot()
    )
    with pytest.raises(RotationRefused):
        activate(fresh, now=now)
    ready = Slots(current=Slot(a), next=Slot(b, written_at=now - PUBLISH_AHEAD), previous=Slot())
    switched = activate(ready, now=now)
    assert (switched.current.pem, switched.previous.pem) == (b, a)

    moved = Slots(
        current=Slot(b), next=Slot(), previous=Slot(a, written_at=now - RETIRE_AFTER + dt.timedelta(seconds=1))
    )
    with pytest.raises(RotationRefused):
        retire(moved, now=now)
    done = retire(Slots(current=Slot(b), next=Slot(), previous=Slot(a, written_at=now - RETIRE_AFTER)), now=now)
    assert done.previous.pem == ""
    with pytest.raises(RotationRefused, match="no previous key"):
        retire(done, now=now)
    with pytest.raises(RotationRefused, match="no next key"):
        activate(done, now=now)
