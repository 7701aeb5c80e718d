"""Where this function finds AWS: its region, and each service's endpoint, from the environment.

The endpoint comes from configuration exactly as botocore finds it (``AWS_ENDPOINT_URL_<SERVICE>``,
then ``AWS_ENDPOINT_URL``, then the regional AWS endpoint), so moto, LocalStack and AWS need no
branches in our code. Read by the settings (``config``) and by the AWS clients alike.
"""

from __future__ import annotations

import os


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def endpoint_url(service: str, region: str) -> str:
    return (
        os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
        or os.environ.get("AWS_ENDPOINT_URL")
        or f"https://{service}.{region}.amazonaws.com"
    )
