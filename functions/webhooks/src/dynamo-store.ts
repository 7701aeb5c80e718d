/**
 * The WebhookStore on one DynamoDB table (key `pk`/`sk`, GSI `gsi1` on `gsi1pk`/`gsi1sk`, TTL
 * attribute `expires_at`). Items:
 *
 * | item | pk | sk | gsi1pk / gsi1sk |
 * |---|---|---|---|
 * | endpoint | `USER#<owner>` | `EP#<endpoint id>` | – |
 * | endpoints per owner (counter) | `USER#<owner>` | `COUNT#endpoints` | – |
 * | endpoints per event type (counter) | `EVENT_TYPE#<type>` | `COUNT` | – |
 * | delivery (TTL 30 days) | `DELIVERY#<msg id>` | `DELIVERY` | `EP#<endpoint id>` / `<created_at>#<msg id>` |
 *
 * A delivery's id is derived from (event, endpoint), so its conditional put is the idempotency
 * record; `lease_token`/`lease_until` on it let one copy of a message at a time make an attempt.
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";

import {
  DELIVERY_TTL_SECONDS,
  JOB_EVENT_TYPES,
  NON_TERMINAL_EVENT_TYPES,
  type AttemptRecord,
  type Delivery,
  type DeliveryStatus,
  type Endpoint,
  type EndpointStatus,
  type JobEventType,
} from "./model.js";
import { EndpointLimitReached, type AttemptResult, type WebhookStore } from "./store.js";

type Item = Record<string, AttributeValue>;

// An owner has at most 20 endpoints (one page); the bound only stops a runaway loop.
const MAX_PAGES = 10;

const userKey = (owner: string): string => `USER#${owner}`;
const endpointSortKey = (id: string): string => `EP#${id}`;
const deliveryKey = (id: string): Item => ({ pk: { S: `DELIVERY#${id}` }, sk: { S: "DELIVERY" } });
const typeCounterKey = (type: string): Item => ({ pk: { S: `EVENT_TYPE#${type}` }, sk: { S: "COUNT" } });
const ownerCounterKey = (owner: string): Item => ({ pk: { S: userKey(owner) }, sk: { S: "COUNT#endpoints" } });

class MalformedItem extends Error {
  override readonly name = "MalformedItem";
}

function str(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw new MalformedItem(`item attribute ${name} is not a string`);
  return value;
}

function optionalStr(item: Item, name: string): string | null {
  return item[name]?.S ?? null;
}

function num(item: Item, name: string): number {
  const value = item[name]?.N;
  if (value === undefined) throw new MalformedItem(`item attribute ${name} is not a number`);
  return Number(value);
}

function nullableAttr(value: string | null): AttributeValue {
  return value === null ? { NULL: true } : { S: value };
}

function endpointItem(endpoint: Endpoint): Item {
  return {
    pk: { S: userKey(endpoint.owner) },
    sk: { S: endpointSortKey(endpoint.id) },
    id: { S: endpoint.id },
    owner: { S: endpoint.owner },
    url: { S: endpoint.url },
    description: { S: endpoint.description },
    event_types: { L: endpoint.event_types.map((type) => ({ S: type })) },
    status: { S: endpoint.status },
    created_at: { S: endpoint.created_at },
    failing_since: nullableAttr(endpoint.failing_since),
    secret: { S: endpoint.secret },
  };
}

function isEventType(value: string): value is JobEventType {
  return (JOB_EVENT_TYPES as readonly string[]).includes(value);
}

function endpointFrom(item: Item): Endpoint {
  const status = str(item, "status");
  if (status !== "active" && status !== "failing" && status !== "disabled") throw new MalformedItem(`endpoint status ${status}`);
  return {
    id: str(item, "id"),
    owner: str(item, "owner"),
    url: str(item, "url"),
    description: str(item, "description"),
    event_types: (item["event_types"]?.L ?? []).flatMap((entry) => (entry.S !== undefined && isEventType(entry.S) ? [entry.S] : [])),
    status,
    created_at: str(item, "created_at"),
    failing_since: optionalStr(item, "failing_since"),
    secret: str(item, "secret"),
  };
}

function deliveryItem(delivery: Delivery): Item {
  const expiresAt = Math.floor(Date.parse(delivery.created_at) / 1000) + DELIVERY_TTL_SECONDS;
  return {
    ...deliveryKey(delivery.id),
    gsi1pk: { S: endpointSortKey(delivery.endpoint_id) },
    gsi1sk: { S: `${delivery.created_at}#${delivery.id}` },
    id: { S: delivery.id },
    endpoint_id: { S: delivery.endpoint_id },
    owner: { S: delivery.owner },
    event_type: { S: delivery.event_type },
    job_id: nullableAttr(delivery.job_id),
    status: { S: delivery.status },
    attempt_count: { N: String(delivery.attempt_count) },
    attempts: { S: JSON.stringify(delivery.attempts) },
    next_attempt_at: nullableAttr(delivery.next_attempt_at),
    created_at: { S: delivery.created_at },
    message: { S: delivery.message },
    expires_at: { N: String(expiresAt) },
  };
}

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ["pending", "succeeded", "retrying", "failed"];

function deliveryFrom(item: Item): Delivery {
  const status = str(item, "status");
  if (!(DELIVERY_STATUSES as readonly string[]).includes(status)) throw new MalformedItem(`delivery status ${status}`);
  const attempts: unknown = JSON.parse(str(item, "attempts"));
  if (!Array.isArray(attempts)) throw new MalformedItem("delivery attempts is not a list");
  return {
    id: str(item, "id"),
    endpoint_id: str(item, "endpoint_id"),
    owner: str(item, "owner"),
    event_type: str(item, "event_type"),
    job_id: optionalStr(item, "job_id"),
    status: status as DeliveryStatus,
    attempt_count: num(item, "attempt_count"),
    attempts: attempts as AttemptRecord[],
    next_attempt_at: optionalStr(item, "next_attempt_at"),
    created_at: str(item, "created_at"),
    message: str(item, "message"),
  };
}

function typeCounterUpdates(table: string, types: readonly JobEventType[], delta: 1 | -1): TransactWriteItem[] {
  return types
    .filter((type) => NON_TERMINAL_EVENT_TYPES.includes(type))
    .map((type) => ({
      Update: {
        TableName: table,
        Key: typeCounterKey(type),
        UpdateExpression: "ADD endpoints :delta",
        ExpressionAttributeValues: { ":delta": { N: String(delta) } },
      },
    }));
}

export class DynamoWebhookStore implements WebhookStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async createEndpoint(endpoint: Endpoint, limit: number): Promise<void> {
    // One transaction: the owner's counter (refused at the limit), the endpoint, the type counters.
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: ownerCounterKey(endpoint.owner),
                UpdateExpression: "ADD endpoint_count :one",
                ConditionExpression: "attribute_not_exists(endpoint_count) OR endpoint_count < :limit",
                ExpressionAttributeValues: { ":one": { N: "1" }, ":limit": { N: String(limit) } },
              },
            },
            { Put: { TableName: this.table, Item: endpointItem(endpoint), ConditionExpression: "attribute_not_exists(pk)" } },
            ...typeCounterUpdates(this.table, endpoint.event_types, 1),
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === "ConditionalCheckFailed") {
        throw new EndpointLimitReached(`owner ${endpoint.owner} has ${String(limit)} endpoints`);
      }
      throw error;
    }
  }

  async listEndpoints(owner: string): Promise<Endpoint[]> {
    const endpoints: Endpoint[] = [];
    let startKey: Item | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const answer = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": { S: userKey(owner) }, ":prefix": { S: "EP#" } },
          ExclusiveStartKey: startKey,
        }),
      );
      endpoints.push(...(answer.Items ?? []).map(endpointFrom));
      startKey = answer.LastEvaluatedKey;
      if (startKey === undefined) break;
    }
    return endpoints.sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  async getEndpoint(owner: string, id: string): Promise<Endpoint | undefined> {
    const answer = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { pk: { S: userKey(owner) }, sk: { S: endpointSortKey(id) } },
        ConsistentRead: true,
      }),
    );
    return answer.Item === undefined ? undefined : endpointFrom(answer.Item);
  }

  async deleteEndpoint(endpoint: Endpoint): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: { pk: { S: userKey(endpoint.owner) }, sk: { S: endpointSortKey(endpoint.id) } },
                ConditionExpression: "attribute_exists(pk)",
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: ownerCounterKey(endpoint.owner),
                UpdateExpression: "ADD endpoint_count :minus",
                ExpressionAttributeValues: { ":minus": { N: "-1" } },
              },
            },
            ...typeCounterUpdates(this.table, endpoint.event_types, -1),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) return false;
      throw error;
    }
  }

  async setEndpointHealth(endpoint: Endpoint, status: EndpointStatus, failingSince: string | null): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: userKey(endpoint.owner) }, sk: { S: endpointSortKey(endpoint.id) } },
          UpdateExpression: "SET #status = :status, failing_since = :since",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":status": { S: status }, ":since": nullableAttr(failingSince) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error; // deleted meanwhile
    }
  }

  async wantedNonTerminalTypes(): Promise<JobEventType[]> {
    const answer = await this.client.send(
      new BatchGetItemCommand({
        RequestItems: { [this.table]: { Keys: NON_TERMINAL_EVENT_TYPES.map(typeCounterKey), ConsistentRead: true } },
      }),
    );
    const wanted = new Set(
      (answer.Responses?.[this.table] ?? [])
        .filter((item) => Number(item["endpoints"]?.N ?? "0") > 0)
        .map((item) => str(item, "pk").slice("EVENT_TYPE#".length)),
    );
    return NON_TERMINAL_EVENT_TYPES.filter((type) => wanted.has(type));
  }

  async createDelivery(delivery: Delivery): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({ TableName: this.table, Item: deliveryItem(delivery), ConditionExpression: "attribute_not_exists(pk)" }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    const answer = await this.client.send(new GetItemCommand({ TableName: this.table, Key: deliveryKey(id), ConsistentRead: true }));
    return answer.Item === undefined ? undefined : deliveryFrom(answer.Item);
  }

  async listDeliveries(endpointId: string, limit: number): Promise<Delivery[]> {
    const answer = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: endpointSortKey(endpointId) } },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (answer.Items ?? []).map(deliveryFrom);
  }

  async claimAttempt(id: string, attempt: number, leaseToken: string, leaseUntilMs: number, nowMs: number): Promise<Delivery | undefined> {
    try {
      const answer = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: deliveryKey(id),
          UpdateExpression: "SET lease_token = :token, lease_until = :until",
          ConditionExpression: "attempt_count = :made AND (attribute_not_exists(lease_until) OR lease_until < :now)",
          ExpressionAttributeValues: {
            ":token": { S: leaseToken },
            ":until": { N: String(leaseUntilMs) },
            ":made": { N: String(attempt - 1) },
            ":now": { N: String(nowMs) },
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return answer.Attributes === undefined ? undefined : deliveryFrom(answer.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async finishAttempt(id: string, leaseToken: string, result: AttemptResult): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: deliveryKey(id),
        UpdateExpression:
          "SET attempt_count = :count, attempts = :attempts, #status = :status, next_attempt_at = :next REMOVE lease_token, lease_until",
        ConditionExpression: "lease_token = :token",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":count": { N: String(result.attempt_count) },
          ":attempts": { S: JSON.stringify(result.attempts) },
          ":status": { S: result.status },
          ":next": nullableAttr(result.next_attempt_at),
          ":token": { S: leaseToken },
        },
      }),
    );
  }

  async releaseLease(id: string, leaseToken: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: deliveryKey(id),
          UpdateExpression: "REMOVE lease_token, lease_until",
          ConditionExpression: "lease_token = :token",
          ExpressionAttributeValues: { ":token": { S: leaseToken } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async markRetryQueued(id: string, nextAttemptAt: string): Promise<Delivery | undefined> {
    try {
      const answer = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: deliveryKey(id),
          UpdateExpression: "SET #status = :pending, next_attempt_at = :next",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":pending": { S: "pending" }, ":next": { S: nextAttemptAt } },
          ReturnValues: "ALL_NEW",
        }),
      );
      return answer.Attributes === undefined ? undefined : deliveryFrom(answer.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

