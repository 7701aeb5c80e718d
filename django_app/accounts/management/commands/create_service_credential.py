"""``manage.py create_service_credential <service> --permission introspect [--permission jobs:read]``.

Prints the credential once: the service keeps it as its own secret (SSM SecureString).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_app.accounts.service_credentials import ServiceCredentialError, service_credential_create


class Command(BaseCommand):
    help = "Create a credential for a registered service (AUTH_SERVICES) with explicit permissions; print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("service")
        parser.add_argument(
            "--permission", action="append", required=True, dest="permissions", help="introspect or jobs:read"
        )
        parser.add_argument("--name", default="", help="A label to tell credentials apart.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            _, raw_token = service_credential_create(
                service=options["service"], permissions=options["permissions"], name=options["name"]
            )
        except ServiceCredentialError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(raw_token)
