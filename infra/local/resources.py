"""serverless.yml's resources, created in moto: queues (with their redrive policies), topics and
subscriptions, tables (with TTL) and SSM parameters, each created when first needed so that
references decide the order. Types moto cannot usefully emulate here (IAM, alarms, queue policies)
are listed as skipped, never silently dropped.
"""

from __future__ import annotations

import functools
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from infra.local.cfn import ACCOUNT_ID, CfnError, evaluate, localize, references
from infra.local.config import StackSpec
from infra.local.moto_server import FAKE_CREDENTIALS

# Created by serverless itself from the websocket and httpApi events, not listed under resources.
WEBSOCKETS_API = "WebsocketsApi"
HTTP_API = "HttpApi"
_SQS_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
)
_SKIPPED_TYPES = (
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::CloudWatch::Alarm",
    "AWS::SQS::QueuePolicy",
    "AWS::Logs::LogGroup",
)


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


_session_lock = threading.Lock()


def aws_client(service: str, *, endpoint: str, region: str, config: Config | None = None) -> Any:
    # One session for all: each new one parses botocore's models again (for every client, and the
    # stack makes a client per poller). A session is not thread-safe, its clients are: one at a time.
    with _session_lock:
        return _session().client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            config=config,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )


@dataclass
class Resources:
    spec: StackSpec
    endpoint: str
    ws_origin: str  # http://127.0.0.1:<port> of the WebSocket gateway
    http_api_origin: str = ""  # http://127.0.0.1:<port> of the HTTP API gateway (httpApi routes)
    api_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    http_api_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)  # logical id -> type
    skipped: dict[str, str] = field(default_factory=dict)
    _creating: set[str] = field(default_factory=set)
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:  # a boto3 client is costly to build: one per service
            self._clients[service] = aws_client(service, endpoint=self.endpoint, region=self.spec.region)
        return self._clients[service]

    # --- evaluation ---------------------------------------------------------------------------

    def value(self, node: Any) -> Any:
        """A config value with its intrinsics evaluated and execute-api URLs made local."""
        evaluated = evaluate(node, self._lookup, region=self.spec.region, stack_name=f"{self.spec.service}-local")
        return localize(evaluated, api_id=self.api_id, ws_origin=self.ws_origin)

    def _lookup(self, logical: str, attribute: str | None) -> Any:
        if logical == WEBSOCKETS_API and attribute is None:
            return self.api_id
        if logical == HTTP_API and self.http_api_origin:
            if attribute is None:
                return self.http_api_id
            if attribute == "ApiEndpoint":
                return self.http_api_origin
        if logical not in self.refs:
            if logical not in self.spec.resources:
                raise CfnError(f"{logical} is neither a resource of serverless.yml nor emulated locally")
            self._create(logical)
        if attribute is None:
            return self.refs[logical]
        if (logical, attribute) not in self.attributes:
            raise CfnError(f"Fn::GetAtt {logical}.{attribute} is not emulated locally")
        return self.attributes[(logical, attribute)]

    # --- creation -----------------------------------------------------------------------------

    def create_all(self, *, workers: int = 8) -> None:
        """Creates every resource, those whose references are ready in parallel (a dozen moto calls
        one after the other would be a noticeable part of start-up)."""
        for service in ("sqs", "sns", "dynamodb", "ssm"):
            self.client(service)  # built once, here: boto3 clients are thread-safe, building them is not
        pending = [logical for logical in self.spec.resources if logical not in self.refs]
        needs = {
            logical: set()
            if self._skipped_type(logical)
            else references(self.spec.resources[logical].get("Properties") or {}) & set(self.spec.resources)
            for logical in pending
        }
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in range(len(pending) + 1):  # bounded: at least one resource a round
                if not pending:
                    return
                ready = [logical for logical in pending if needs[logical] <= set(self.refs)]
                if not ready:
                    raise CfnError(f"resources refer to each other in a cycle: {', '.join(sorted(pending))}")
                list(pool.map(self._create, ready))
                pending = [logical for logical in pending if logical not in ready]

    def _skipped_type(self, logical: str) -> bool:
        kind = str(self.spec.resources[logical].get("Type"))
        return kind in _SKIPPED_TYPES or kind not in _CREATORS

    def _create(self, logical: str) -> None:
        if logical in self._creating:
            raise CfnError(f"{logical} refers to itself through its references")
        self._creating.add(logical)
        resource = self.spec.resources[logical]
        kind = str(resource.get("Type"))
        if self._skipped_type(logical):
            # Placeholders: a skipped resource is never read by what the local stack runs.
            self.refs[logical] = f"local-{logical}"
            self.skipped[logical] = kind
        else:
            properties = self.value(resource.get("Properties") or {})
            _CREATORS[kind](self, logical, properties)
            self.created[logical] = kind
        self._creating.discard(logical)

    def queue(self, logical: str, properties: dict[str, Any]) -> None:
        name = str(properties.get("QueueName") or f"{self.spec.service}-local-{logical}")
        attributes = {
            key: str(properties[key]).lower() if isinstance(properties[key], bool) else str(properties[key])
            for key in _SQS_ATTRIBUTES
            if key in properties
        }
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.spec.region}:{ACCOUNT_ID}:{name}"
        self.refs[logical] = url
        self.attributes.update({(logical, "Arn"): arn, (logical, "QueueName"): name, (logical, "QueueUrl"): url})

    def topic(self, logical: str, properties: dict[str, Any]) -> None:
        name = str(properties.get("TopicName") or f"{self.spec.service}-local-{logical}")
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        self.refs[logical] = arn
        self.attributes.update({(logical, "TopicArn"): arn, (logical, "TopicName"): name})

    def subscription(self, logical: str, properties: dict[str, Any]) -> None:
        attributes = {
            key: json.dumps(properties[key])
            if isinstance(properties[key], dict)
            else str(properties[key]).lower()
            if isinstance(properties[key], bool)
            else str(properties[key])
            for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
            if key in properties
        }
        arn = self.client("sns").subscribe(
            TopicArn=properties["TopicArn"],
            Protocol=properties["Protocol"],
            Endpoint=properties["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self.refs[logical] = arn

    def table(self, logical: str, properties: dict[str, Any]) -> None:
        name = str(properties.get("TableName") or f"{self.spec.service}-local-{logical}")
        request = {
            key: properties[key]
            for key in (
                "AttributeDefinitions",
                "KeySchema",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "StreamSpecification",
                "ProvisionedThroughput",
            )
            if key in properties
        }
        request["BillingMode"] = properties.get("BillingMode", "PROVISIONED")
        if request["BillingMode"] == "PROVISIONED" and "ProvisionedThroughput" not in request:
            request["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        dynamodb = self.client("dynamodb")
        description = dynamodb.create_table(TableName=name, **request)["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
            )
        self.refs[logical] = name
        self.attributes[(logical, "Arn")] = description["TableArn"]

    def parameter(self, logical: str, properties: dict[str, Any]) -> None:
        name = str(properties["Name"])
        self.client("ssm").put_parameter(
            Name=name, Type=str(properties.get("Type", "String")), Value=str(properties["Value"]), Overwrite=True
        )
        self.refs[logical] = name

    def put_operator_parameters(self, prefix: str, values: dict[str, tuple[str, str]]) -> None:
        """What an operator puts under the stage's path by hand on AWS (docs/operations.md)."""
        ssm = self.client("ssm")
        for name, (kind, value) in values.items():
            ssm.put_parameter(Name=f"{prefix.rstrip('/')}/{name}", Type=kind, Value=value, Overwrite=True)

    def queue_url_for(self, queue: Any) -> str:
        """The URL of an SQS event's queue (an ARN or an intrinsic); a queue that only an event names
        is created, as serverless would expect it to exist."""
        arn = str(self.value(queue))
        name = arn.rsplit(":", 1)[-1]
        for logical, kind in self.created.items():
            if kind == "AWS::SQS::Queue" and self.attributes[(logical, "QueueName")] == name:
                return str(self.refs[logical])
        return str(self.client("sqs").create_queue(QueueName=name)["QueueUrl"])


_CREATORS = {
    "AWS::SQS::Queue": Resources.queue,
    "AWS::SNS::Topic": Resources.topic,
    "AWS::SNS::Subscription": Resources.subscription,
    "AWS::DynamoDB::Table": Resources.table,
    "AWS::SSM::Parameter": Resources.parameter,
}
