"""Pushing one job event to every connection that may see it.

Who may see it: connections subscribed to ``user:<owner>`` or ``job:<id>`` whose user is the
owner. Subscriptions already come only from Django's grants; the owner check makes "user A never
receives user B's events" hold even if a bad subscription row ever got in. A connection subscribed
to both topics gets the event once, under the job topic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass

from contracts.event_result import event_result_fitted
from contracts.job_event import JobEvent
from contracts.ws_protocol import EventPush
from functions.websocket.connections import ConnectionStore, StoreUnavailable, Subscriber
from functions.websocket.fanout import Fanout, FanoutResult
from functions.websocket.management import MAX_MESSAGE_BYTES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushOutcome:
    ok: bool  # False: report the record as a batch failure, it comes back (clients drop dupes by seq)
    result: FanoutResult


def event_frame(event: JobEvent, *, topic: str, api_base_url: str) -> bytes:
    """The ``event`` frame, within API Gateway's 128 KB: a result too large is replaced by its link
    (contracts.event_result), absolute so the browser can follow it."""
    fitted = event_result_fitted(event, api_base_url=api_base_url).event
    data = EventPush(topic=topic, event=fitted).model_dump_json().encode()
    if len(data) > MAX_MESSAGE_BYTES:  # only an absurd note can still be too large: drop it too
        data = EventPush(topic=topic, event=fitted.model_copy(update={"note": ""})).model_dump_json().encode()
    return data


def topic_subscribers(
    events: Iterable[JobEvent], *, store: ConnectionStore, executor: Executor | None = None
) -> dict[str, list[Subscriber] | None]:
    """Each topic the events go to, read once for the whole batch (``None``: the store failed);
    with an ``executor``, the reads run concurrently (a batch of ten jobs names up to 20 topics).

    One read serves every event of a batch because all of them were committed before the batch
    arrived: a subscription stored after this read is followed by the client's fetch
    (subscribe-then-fetch), which sees those events. A batch of one user's events reads the user
    topic once instead of once per event.
    """
    topics = list(dict.fromkeys(topic for event in events for topic in event.topics()))

    def read(topic: str) -> list[Subscriber] | None:
        try:
            return store.topic_subscribers(topic=topic)
        except StoreUnavailable as error:
            logger.warning("could not read the subscribers of %s: %s", topic, error)
            return None

    found = executor.map(read, topics) if executor is not None else map(read, topics)
    return dict(zip(topics, found, strict=True))


def recipients(event: JobEvent, *, subscribers: Mapping[str, list[Subscriber] | None]) -> dict[str, str] | None:
    """connection id → the topic to deliver under; ``None`` when a topic's subscribers are unknown."""
    user_topic, job_topic = event.topics()
    chosen: dict[str, str] = {}
    for topic in (user_topic, job_topic):  # the job topic, last, wins for connections on both
        topic_subscribers = subscribers.get(topic)
        if topic_subscribers is None:
            return None
        for subscriber in topic_subscribers:
            if subscriber.user == event.owner:
                chosen[subscriber.connection_id] = topic
            else:
                logger.error("subscription of %s to %s belongs to another user", subscriber.connection_id, topic)
    return chosen


def push_event(
    event: JobEvent,
    *,
    subscribers: Mapping[str, list[Subscriber] | None],
    store: ConnectionStore,
    fanout: Fanout,
    api_base_url: str,
    deadline: float,
) -> PushOutcome:
    targets = recipients(event, subscribers=subscribers)
    if targets is None:  # the store could not say who listens: the record comes back
        return PushOutcome(ok=False, result=FanoutResult())
    frames = {topic: event_frame(event, topic=topic, api_base_url=api_base_url) for topic in set(targets.values())}
    result = fanout.send(((cid, frames[topic]) for cid, topic in targets.items()), deadline=deadline)
    for connection_id in result.gone:
        try:  # 410: the socket is gone; $disconnect may never have arrived
            store.connection_close(connection_id=connection_id)
        except StoreUnavailable as error:
            logger.warning("could not forget gone %s (TTL will): %s", connection_id, error)
    logger.info(
        "pushed job=%s seq=%d to=%d delivered=%d gone=%d dropped=%d failed=%d",
        event.job_id,
        event.seq,
        len(targets),
        len(result.delivered),
        len(result.gone),
        len(result.dropped),
        len(result.failed),
    )
    return PushOutcome(ok=result.complete, result=result)
