"""The Node verifier (examples/verify-node, jose) checks tokens Django mints in this test run: the
good ones verify with the JWKS alone (as a document, and fetched from a live Django over HTTP), and
every forgery is refused with its code. node's test runner runs it; a missing node fails in CI."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from django_app.accounts.access_tokens import access_token_issue
from django_app.accounts.signing_keys import keyring
from django_app.accounts.tickets import ticket_mint
from tests import token_forgeries as forge
from tests.node import node_executable
from tests.signing_keys import key_pem, private_key

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "verify-node"


def _cases(user: Any) -> list[dict[str, Any]]:
    good = access_token_issue(user=user, audience="webhooks", scopes=["webhooks:read"], client_id="session").token
    ticket, _ = ticket_mint(user_id=user.pk)
    signer = keyring().current.private_key
    now = int(time.time())
    access = {"audience": "webhooks", "type": "at+jwt", "sub": str(user.pk)}
    return [
        {"name": "an access token", "token": good, "expect": "ok", **access},
        {"name": "a ticket", "token": ticket, "audience": "ws", "type": "JWT", "expect": "ok", "sub": str(user.pk)},
        {"name": "a tampered signature", "token": forge.flipped_signature(good), "expect": "token_bad_signature",
         **access},
        {"name": "a tampered payload", "token": forge.swapped_payload(good, sub="1"), "expect": "token_bad_signature",
         **access},
        {"name": "the wrong aud", "token": good, **access, "audience": "reports", "expect": "token_wrong_audience"},
        {"name": "the wrong iss", "token": forge.resigned(good, key=signer, iss="https://evil.example"),
         "expect": "token_wrong_issuer", **access},
        {"name": "an expired token", "token": forge.resigned(good, key=signer, iat=now - 400, exp=now - 100),
         "expect": "token_expired", **access},
        {"name": "alg none", "token": forge.alg_none(good), "expect": "token_malformed", **access},
        {"name": "HS256 keyed with the public key", "token": forge.hs256_with_public_key(good, signer.public_key()),
         "expect": "token_malformed", **access},
        {"name": "an unknown kid", "token": forge.resigned(good, key=private_key("stranger"), header={"kid": "x"}),
         "expect": "token_unknown_key", **access},
        {"name": "a ticket as an access token", "token": ticket, **access, "audience": "ws",
         "expect": "token_wrong_type"},
        {"name": "padding on the signature", "token": good + "==", "expect": "token_malformed", **access},
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_node_verifier_accepts_what_django_signs_and_refuses_every_forgery(
    live_server: Any, user: Any, settings: Any, tmp_path: Path
) -> None:
    node = node_executable()
    settings.AUTH_ISSUER = live_server.url
    settings.AUTH_SIGNING_KEY = key_pem("rotated-out")
    rotated_out = access_token_issue(user=user, audience="webhooks", scopes=[], client_id="session").token
    settings.AUTH_SIGNING_KEY = key_pem("node-current")  # the old key left the JWKS with its rotation
    cases = [
        *_cases(user),
        {"name": "a key rotated out", "token": rotated_out, "audience": "webhooks", "type": "at+jwt",
         "expect": "token_unknown_key"},
    ]  # fmt: skip
    fixture = tmp_path / "tokens.json"
    jwks = APIClient().get("/.well-known/jwks.json").json()
    fixture.write_text(json.dumps({"issuer": live_server.url, "jwks": jwks, "cases": cases}))

    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", str(EXAMPLE / "verify.test.mjs")],
        cwd=REPO, env={**os.environ, "DJANGO_TOKENS": str(fixture)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f"# pass {2 * len(cases)}" in result.stdout
    assert "# skipped 0" in result.stdout
