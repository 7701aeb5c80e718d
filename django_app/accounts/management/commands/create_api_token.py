"""``manage.py create_api_token <username> --name NAME``: prints the token once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_app.accounts.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is stored hashed and not shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="A label to tell the token apart.")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: options["username"]})
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        _, raw_token = api_token_create(user=user, name=options["name"])
        self.stdout.write(raw_token)
