"""The key slots in SSM: read them, and write a step's result with the JWKS that goes with it."""

from __future__ import annotations

import json
from typing import Any

from infra.signing_keys.rotation import Slot, Slots
from polyglot_auth.jwk import jwks_document

SLOT_PARAMETERS = {
    "current": "auth-signing-key",
    "next": "auth-signing-key-next",
    "previous": "auth-signing-key-previous",
}
JWKS_PARAMETER = "auth-jwks"


def issuer_path(prefix: str) -> str:
    """Where a stage's private keys live, beside its path: /polyglot/dev -> /polyglot-issuer/dev.

    Not below it: IAM authorises GetParametersByPath on the path asked for, recursively, so every
    function that reads /polyglot/dev could read /polyglot/dev/anything. Only Django reads this one.
    """
    root, _, stage = prefix.rstrip("/").rpartition("/")
    return f"{root}-issuer/{stage}"


class KeyStore:
    """A stage's signing keys, through an SSM client: the private ones under the issuer's path,
    the public JWKS under the stage's path ``prefix`` (``/polyglot/<stage>``)."""

    def __init__(self, *, ssm: Any, prefix: str) -> None:
        self.ssm = ssm
        self.prefix = prefix.rstrip("/")
        self.private_prefix = issuer_path(self.prefix)

    def _name(self, parameter: str) -> str:
        return f"{self.private_prefix if parameter in SLOT_PARAMETERS.values() else self.prefix}/{parameter}"

    def slots_read(self) -> Slots:
        found: dict[str, Slot] = {}
        for slot, parameter in SLOT_PARAMETERS.items():
            try:
                answer = self.ssm.get_parameter(Name=self._name(parameter), WithDecryption=True)["Parameter"]
            except self.ssm.exceptions.ParameterNotFound:
                found[slot] = Slot()
                continue
            found[slot] = Slot(pem=answer["Value"], written_at=answer.get("LastModifiedDate"))
        return Slots(**found)

    def slots_write(self, before: Slots, after: Slots) -> None:
        """Writes the slots that changed, then the JWKS of all three (the websocket function's)."""
        for slot, parameter in SLOT_PARAMETERS.items():
            old, new = getattr(before, slot), getattr(after, slot)
            if old.pem == new.pem:
                continue
            if new.pem:
                self.ssm.put_parameter(Name=self._name(parameter), Value=new.pem, Type="SecureString", Overwrite=True)
            else:
                self.ssm.delete_parameter(Name=self._name(parameter))
        document = json.dumps(jwks_document(after.pems()), separators=(",", ":"))
        self.ssm.put_parameter(Name=self._name(JWKS_PARAMETER), Value=document, Type="String", Overwrite=True)

    def jwks_read(self) -> dict[str, Any]:
        answer = self.ssm.get_parameter(Name=self._name(JWKS_PARAMETER))["Parameter"]
        document: dict[str, Any] = json.loads(answer["Value"])
        return document
