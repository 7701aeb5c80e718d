"""Telling the other services that a user was deactivated: ``user.deactivated`` on the job-events topic.

Deactivating a user (``is_active`` set to False and saved: the admin, a shell, a script) publishes
one ``contracts.user_event.UserEvent`` after the commit. The push side then closes the user's open
WebSocket connections; Django itself refuses the user new tickets and tokens at once (sessions and
API tokens of an inactive user no longer authenticate). ``QuerySet.update(is_active=False)`` sends
no signal, so it publishes nothing: deactivate through ``save()``, or call ``user_deactivated_publish``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_init, post_save
from django.dispatch import receiver
from django.utils import timezone

from contracts import backoff

logger = logging.getLogger(__name__)

PUBLISH_ATTEMPTS = 3


def user_deactivated_publish(*, user_id: object) -> bool:
    """Publishes ``user.deactivated``; False (logged) when SNS did not take it after retries."""
    from botocore.exceptions import BotoCoreError, ClientError

    from contracts.user_event import UserEvent  # pydantic: not on every cold start, only here
    from django_app.jobs.aws import client

    if not settings.JOB_EVENTS_TOPIC_ARN:
        logger.warning("JOB_EVENTS_TOPIC_ARN is not configured; user.deactivated for %s not published", user_id)
        return False
    event = UserEvent(type="user.deactivated", user=str(user_id), at=timezone.now())
    for attempt in range(1, PUBLISH_ATTEMPTS + 1):
        try:
            client("sns").publish(
                TopicArn=settings.JOB_EVENTS_TOPIC_ARN,
                Message=event.model_dump_json(),
                MessageAttributes={"type": {"DataType": "String", "StringValue": event.type}},
            )
            return True
        except (BotoCoreError, ClientError) as error:
            if attempt == PUBLISH_ATTEMPTS:
                logger.error("user.deactivated for %s not published: %s", user_id, error)
                return False
            time.sleep(backoff.full_jitter(base=0.1, exponent=attempt))
    return False


@receiver(post_init, sender=settings.AUTH_USER_MODEL)
def _remember_active(sender: Any, instance: Any, **_: Any) -> None:
    # Deferred loads (``only()``) leave is_active out of __dict__: reading it would cost a query.
    instance._polyglot_was_active = instance.__dict__.get("is_active")


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _publish_deactivation(sender: Any, instance: Any, created: bool, update_fields: Any = None, **_: Any) -> None:
    was_active = getattr(instance, "_polyglot_was_active", None)
    is_active = instance.__dict__.get("is_active")
    instance._polyglot_was_active = is_active
    if created or (update_fields is not None and "is_active" not in update_fields):
        return
    if was_active is True and is_active is False:
        user_id = instance.pk
        transaction.on_commit(lambda: user_deactivated_publish(user_id=user_id))
