"""The API's JSON parser: DRF's, plus an answer for JSON nested too deeply to parse.

Python's ``json`` (C or pure) raises ``RecursionError``, not ``ValueError``, past about a
thousand levels of ``[`` or ``{``; DRF's parser catches only ``ValueError``, so ``[[[…]]]`` became
a 500. It is a ``ParseError`` here, which ``config.errors`` answers with 400 ``malformed_json``
like any other body that is not JSON. Legitimate bodies (job params, tickets, introspection)
nest a few levels, and job params are capped in size besides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body nests too deeply.") from None
