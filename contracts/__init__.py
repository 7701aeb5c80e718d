"""Messages that cross service lines, as versioned pydantic models.

This package depends on pydantic only: Django, the worker, the websocket function and services
in other languages (through the JSON Schemas in ``contracts/schemas/``) all read the same shapes.
Import the module you need (``contracts.job_event``, ``contracts.job_message``,
``contracts.tickets``, ``contracts.ws_protocol``): the package itself imports nothing, so a
function pays only for the models it uses at cold start.
"""
