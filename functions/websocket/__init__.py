"""The push side of the stack: the API Gateway WebSocket function and the push consumer.

Nothing here imports Django (a test proves it): users and jobs are Django's; connections and
subscriptions are ours, in DynamoDB. The two sides meet only in ``contracts``.

- ``handler``: API Gateway WebSocket events → the FastAPI ``app`` through Mangum.
- ``push``: SQS batches of job events → ``post_to_connection`` on every subscribed connection.
"""
