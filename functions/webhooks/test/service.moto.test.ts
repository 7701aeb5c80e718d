// The service end to end through its real handlers (`api`, `deliver`), against moto in server mode
// (DynamoDB, SQS, SNS), a fake Django (JWKS + a job's result) and a receiver, all on 127.0.0.1.
// Without moto_server the suite is skipped, except in CI (CI=true), where that is a failure.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { tmpdir } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateTopicCommand, GetSubscriptionAttributesCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, SQSEvent, SQSRecord } from "aws-lambda";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

import type { JobEvent } from "../src/contracts/job_event.js";
import { bundle } from "../scripts/bundle.js";
import { api, deliver, resetServices } from "../src/handlers.js";
import { verify } from "../src/signature.js";

// Compiled to build/test/: the repository root is four folders up.
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const MOTO_SERVER = join(REPO_ROOT, ".venv", "bin", "moto_server");
const SERVICE_TOKEN = "svc_" + randomBytes(16).toString("hex");
const available = existsSync(MOTO_SERVER);
if (!available && process.env["CI"] === "true") throw new Error(`${MOTO_SERVER} is missing: CI needs moto to test the webhooks service`);

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return port;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

const close = (server: Server): Promise<void> => new Promise((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); });

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe("the webhooks service on moto", { skip: available ? false : `moto_server not found at ${MOTO_SERVER}` }, () => {
  let moto: ChildProcess | undefined;
  let django: Server;
  let receiver: Server;
  let djangoUrl = "";
  let receiverUrl = "";
  let queueUrl = "";
  let subscriptionArn = "";
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  let sqs: SQSClient;
  let sns: SNSClient;
  const received: Received[] = [];
  // Statuses the receiver answers with, in order; 200 once they run out.
  const answers: number[] = [];
  const djangoAuthorizations: (string | undefined)[] = [];

  before(async () => {
    const port = await freePort();
    moto = spawn(MOTO_SERVER, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const endpoint = `http://127.0.0.1:${String(port)}`;
    // moto takes a few seconds to import: poll, bounded in count and time.
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 600 && Date.now() < deadline; i += 1) {
      const up = await fetch(`${endpoint}/moto-api/`).then((response) => response.ok, () => false);
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { privateKey: key, publicKey } = await generateKeyPair("ES256", { extractable: true });
    privateKey = key;
    const jwk = await exportJWK(publicKey);
    publicJwk = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: "ES256", use: "sig" };
    django = createServer((request, response) => {
      if (request.url === "/.well-known/jwks.json") {
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] }));
        return;
      }
      djangoAuthorizations.push(request.headers.authorization);
      const ok = request.headers.authorization === `Bearer ${SERVICE_TOKEN}` && request.url?.startsWith("/api/jobs/") === true;
      response.writeHead(ok ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify(ok ? { id: "x", result: { rows: [1, 2, 3] } } : {}));
    });
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push({ path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
        response.writeHead(answers.shift() ?? 200).end("ok");
      });
    });
    djangoUrl = await listen(django);
    receiverUrl = await listen(receiver);

    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      WEBHOOKS_TABLE: "webhooks-test",
      API_BASE_URL: djangoUrl,
      DJANGO_SERVICE_TOKEN: SERVICE_TOKEN,
      WEBHOOKS_ALLOWED_URLS: "http://127.0.0.1:*",
      WEBHOOKS_RETRY_SCHEDULE: "0,0",
    });
    const dynamo = new DynamoDBClient({});
    sqs = new SQSClient({});
    sns = new SNSClient({});
    await dynamo.send(
      new CreateTableCommand({
        TableName: "webhooks-test",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: ["pk", "sk", "gsi1pk", "gsi1sk"].map((name) => ({ AttributeName: name, AttributeType: "S" })),
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
        GlobalSecondaryIndexes: [
          {
            IndexName: "gsi1",
            KeySchema: [{ AttributeName: "gsi1pk", KeyType: "HASH" }, { AttributeName: "gsi1sk", KeyType: "RANGE" }],
            Projection: { ProjectionType: "ALL" },
          },
        ],
      }),
    );
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "webhooks-test" }))).QueueUrl ?? "";
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "job-events" }))).TopicArn ?? "";
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))).Attributes?.["QueueArn"] ?? "";
    subscriptionArn =
      (
        await sns.send(
          new SubscribeCommand({
            TopicArn: topicArn,
            Protocol: "sqs",
            Endpoint: queueArn,
            Attributes: { RawMessageDelivery: "true", FilterPolicy: JSON.stringify({ type: ["job.succeeded", "job.failed", "job.cancelled"] }) },
            ReturnSubscriptionArn: true,
          }),
        )
      ).SubscriptionArn ?? "";
    Object.assign(process.env, { WEBHOOKS_QUEUE_URL: queueUrl, WEBHOOKS_SUBSCRIPTION_ARN: subscriptionArn });
    resetServices();
  });

  after(async () => {
    if (moto?.pid !== undefined) process.kill(moto.pid, "SIGTERM");
    await Promise.all([django, receiver].map(close));
  });

  async function token(sub: string, overrides: Record<string, unknown> = {}, scope = "webhooks:read webhooks:write"): Promise<string> {
    const iat = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: djangoUrl, sub, aud: "webhooks", iat, exp: iat + 300, jti: randomBytes(16).toString("hex"), client_id: "session", scope, ...overrides })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: String(publicJwk.kid) })
      .sign(privateKey);
  }

  async function call(method: string, path: string, options: { token?: string; body?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...(options.body === undefined ? {} : { "content-type": "application/json" }), ...options.headers };
    if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
    const event = {
      version: "2.0",
      routeKey: "$default",
      rawPath: path.split("?")[0],
      rawQueryString: path.split("?")[1] ?? "",
      queryStringParameters: Object.fromEntries(new URLSearchParams(path.split("?")[1] ?? "")),
      headers,
      body: options.body,
      isBase64Encoded: false,
      requestContext: { stage: "$default", http: { method, path } },
    } as unknown as APIGatewayProxyEventV2;
    const response = await api(event);
    return { status: response.statusCode, body: response.body === "" ? null : (JSON.parse(response.body) as Record<string, unknown>) };
  }

  function record(body: string): SQSRecord {
    return { messageId: randomUUID(), body, attributes: { ApproximateReceiveCount: "1" } } as unknown as SQSRecord;
  }

  async function feed(bodies: string[]) {
    const event: SQSEvent = { Records: bodies.map(record) };
    return deliver(event);
  }

  /** The service's own messages now on the queue (deleted as they are taken); bounded polls. */
  async function takeQueued(): Promise<string[]> {
    const bodies: string[] = [];
    for (let poll = 0; poll < 10; poll += 1) {
      const answer = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const messages = answer.Messages ?? [];
      if (messages.length === 0) break;
      bodies.push(...messages.map((message) => message.Body ?? ""));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? "" })) }));
    }
    return bodies;
  }

  function jobEvent(owner: string, overrides: Partial<JobEvent> = {}): JobEvent {
    return { type: "job.succeeded", job_id: randomUUID(), owner, seq: 5, task: "demo.add", status: "succeeded", progress: 100, at: new Date().toISOString(), result: 3, ...overrides };
  }

  async function createEndpoint(owner: string, path: string, extra: Record<string, unknown> = {}) {
    const answer = await call("POST", "/webhooks/endpoints", { token: await token(owner), body: JSON.stringify({ url: `${receiverUrl}${path}`, ...extra }) });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return answer.body as { id: string; secret: string; event_types: string[] };
  }

  test("refusals: no token, expired, audience ws, unknown key, HS256, missing scope", async () => {
    assert.equal((await call("GET", "/webhooks/endpoints")).status, 401);
    const { privateKey: stranger } = await generateKeyPair("ES256");
    const foreign = await new SignJWT({ iss: djangoUrl, sub: "alice", aud: "webhooks", iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60, jti: randomBytes(16).toString("hex"), client_id: "x" })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "not-published" })
      .sign(stranger);
    const hs256 = await new SignJWT({ sub: "alice" }).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: String(publicJwk.kid) }).sign(randomBytes(32));
    const cases: [string, string][] = [
      [await token("alice", { iat: Math.floor(Date.now() / 1000) - 400, exp: Math.floor(Date.now() / 1000) - 100 }), "token_expired"],
      [await token("alice", { aud: "ws" }), "token_wrong_audience"],
      [foreign, "token_unknown_key"],
      [hs256, "token_malformed"],
    ];
    for (const [bad, code] of cases) {
      const answer = await call("GET", "/webhooks/endpoints", { token: bad });
      assert.equal(answer.status, 401, code);
      assert.deepEqual((answer.body as { error: { code: string } }).error.code, code);
    }
    const readOnly = await token("alice", {}, "webhooks:read");
    assert.equal((await call("GET", "/webhooks/endpoints", { token: readOnly })).status, 200);
    const refused = await call("POST", "/webhooks/endpoints", { token: readOnly, body: "{}" });
    assert.deepEqual([refused.status, (refused.body as { error: { code: string } }).error.code], [403, "insufficient_scope"]);
  });

  test("routing and validation refusals have stable codes", async () => {
    const alice = await token("alice");
    const code = (answer: { body: Record<string, unknown> | null }) => (answer.body as { error: { code: string } }).error.code;
    const cases: [Promise<{ status: number; body: Record<string, unknown> | null }>, number, string][] = [
      [call("GET", "/nope", { token: alice }), 404, "not_found"],
      [call("HEAD", "/webhooks/endpoints", { token: alice }), 405, "method_not_allowed"],
      [call("PUT", "/webhooks/endpoints/ep_x", { token: alice }), 405, "method_not_allowed"],
      [call("POST", "/webhooks/endpoints", { token: alice, body: "{" }), 400, "malformed_json"],
      [call("POST", "/webhooks/endpoints", { token: alice, body: "{}", headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type"],
      [call("POST", "/webhooks/endpoints", { token: alice, body: JSON.stringify({ url: "x".repeat(70_000) }) }), 413, "payload_too_large"],
      [call("POST", "/webhooks/endpoints", { token: alice, body: JSON.stringify({ url: `${receiverUrl}/`, extra: 1 }) }), 400, "invalid_request"],
      [call("POST", "/webhooks/endpoints", { token: alice, body: JSON.stringify({ url: `${receiverUrl}/`, event_types: [] }) }), 400, "invalid_request"],
      [call("POST", "/webhooks/endpoints", { token: alice, body: JSON.stringify({ url: `${receiverUrl}/`, event_types: ["job.failed", "job.failed"] }) }), 400, "invalid_request"],
      [call("POST", "/webhooks/endpoints", { token: alice, body: JSON.stringify({ url: "http://10.0.0.1/" }) }), 400, "url_not_allowed"],
      [call("POST", "/webhooks/endpoints", { token: alice, body: JSON.stringify({ url: "http://169.254.169.254/" }) }), 400, "url_not_allowed"],
      [call("GET", "/webhooks/endpoints/ep_nope/deliveries?limit=0", { token: alice }), 400, "invalid_request"],
      [call("DELETE", "/webhooks/endpoints/ep_00000000000000000000000000000000", { token: alice }), 404, "not_found"],
      [call("POST", "/webhooks/deliveries/%E0%A4%A/retry", { token: alice }), 404, "not_found"],
    ];
    for (const [pending, status, expected] of cases) {
      const answer = await pending;
      assert.deepEqual([answer.status, code(answer)], [status, expected], JSON.stringify(answer.body));
    }
  });

  test("an endpoint: created with its secret once, listed without it, its owner's alone", async () => {
    const created = await createEndpoint("carol", "/carol", { description: "mine" });
    assert.match(created.id, /^ep_/);
    assert.match(created.secret, /^whsec_/);
    assert.deepEqual(created.event_types, ["job.succeeded", "job.failed", "job.cancelled"]);
    const listed = await call("GET", "/webhooks/endpoints", { token: await token("carol") });
    const endpoints = (listed.body as { endpoints: Record<string, unknown>[] }).endpoints;
    assert.deepEqual(endpoints.map((endpoint) => [endpoint["id"], endpoint["status"], "secret" in endpoint]), [[created.id, "active", false]]);
    assert.deepEqual((await call("GET", "/webhooks/endpoints", { token: await token("dave") })).body, { endpoints: [] });
    assert.equal((await call("DELETE", `/webhooks/endpoints/${created.id}`, { token: await token("dave") })).status, 404);
    assert.equal((await call("GET", `/webhooks/endpoints/${created.id}/deliveries`, { token: await token("dave") })).status, 404);
    assert.equal((await call("DELETE", `/webhooks/endpoints/${created.id}`, { token: await token("carol") })).status, 204);
    assert.deepEqual((await call("GET", "/webhooks/endpoints", { token: await token("carol") })).body, { endpoints: [] });
  });

  test("a job event: one signed delivery; a duplicate message changes nothing; other users get nothing", async () => {
    const alice = await createEndpoint("alice", "/alice");
    await createEndpoint("bob", "/bob");
    received.length = 0;
    const event = jobEvent("alice");
    const body = JSON.stringify(event);
    assert.deepEqual(await feed([body]), { batchItemFailures: [] });
    assert.deepEqual(await feed([body, body]), { batchItemFailures: [] });
    assert.equal(received.length, 1);
    const [delivery] = received;
    assert.equal(delivery?.path, "/alice");
    const id = verify({ secret: alice.secret, headers: delivery.headers as Record<string, string>, body: delivery.body });
    assert.equal(delivery.headers["user-agent"], "polyglot-webhooks/1");
    assert.deepEqual(JSON.parse(delivery.body), { type: "job.succeeded", timestamp: event.at, data: event });
    const listed = await call("GET", `/webhooks/endpoints/${alice.id}/deliveries`, { token: await token("alice") });
    const deliveries = (listed.body as { deliveries: Record<string, unknown>[] }).deliveries;
    assert.deepEqual(deliveries.map((entry) => [entry["id"], entry["status"], entry["attempt_count"], entry["job_id"]]), [[id, "succeeded", 1, event.job_id]]);
    // Bob cannot retry Alice's delivery.
    assert.equal((await call("POST", `/webhooks/deliveries/${id}/retry`, { token: await token("bob") })).status, 404);
    assert.deepEqual(await takeQueued(), []);
  });

  test("a receiver answering 500, 500, 200: three attempts recorded, the same webhook-id each time", async () => {
    const endpoint = await createEndpoint("erin", "/erin");
    received.length = 0;
    answers.push(500, 500);
    await feed([JSON.stringify(jobEvent("erin", { type: "job.failed", status: "failed", error: { code: "boom", message: "it broke" } }))]);
    for (let round = 0; round < 5 && received.length < 3; round += 1) await feed(await takeQueued());
    assert.equal(received.length, 3);
    assert.equal(new Set(received.map((entry) => entry.headers["webhook-id"])).size, 1);
    const listed = await call("GET", `/webhooks/endpoints/${endpoint.id}/deliveries?limit=5`, { token: await token("erin") });
    const [delivery] = (listed.body as { deliveries: { status: string; attempt_count: number; attempts: { status_code: number; error: string | null }[] }[] }).deliveries;
    assert.equal(delivery?.status, "succeeded");
    assert.equal(delivery.attempt_count, 3);
    assert.deepEqual(delivery.attempts.map((attempt) => [attempt.status_code, attempt.error]), [[500, "http_500"], [500, "http_500"], [200, null]]);
  });

  test("an exhausted schedule fails the delivery and marks the endpoint failing; a retry (manual) then succeeds", async () => {
    const endpoint = await createEndpoint("frank", "/frank");
    answers.push(503, 503, 503);
    await feed([JSON.stringify(jobEvent("frank"))]);
    for (let round = 0; round < 5; round += 1) await feed(await takeQueued());
    const frank = await token("frank");
    const listed = await call("GET", `/webhooks/endpoints/${endpoint.id}/deliveries`, { token: frank });
    const [delivery] = (listed.body as { deliveries: { id: string; status: string; attempt_count: number }[] }).deliveries;
    assert.deepEqual([delivery?.status, delivery?.attempt_count], ["failed", 3]);
    const endpoints = (await call("GET", "/webhooks/endpoints", { token: frank })).body as { endpoints: { status: string; failing_since?: string }[] };
    assert.deepEqual(endpoints.endpoints.map((entry) => [entry.status, typeof entry.failing_since]), [["failing", "string"]]);
    const retried = await call("POST", `/webhooks/deliveries/${String(delivery?.id)}/retry`, { token: frank });
    assert.equal(retried.status, 202);
    await feed(await takeQueued());
    const after = (await call("GET", "/webhooks/endpoints", { token: frank })).body as { endpoints: { status: string; failing_since?: string }[] };
    assert.deepEqual(after.endpoints.map((entry) => [entry.status, entry.failing_since]), [["active", undefined]]);
  });

  test("a result_url is fetched from Django with the service token and delivered as the result", async () => {
    const endpoint = await createEndpoint("gina", "/gina");
    received.length = 0;
    djangoAuthorizations.length = 0;
    const event = jobEvent("gina", { result: null, result_url: `/api/jobs/${randomUUID()}/` });
    assert.deepEqual(await feed([JSON.stringify(event)]), { batchItemFailures: [] });
    assert.deepEqual(djangoAuthorizations, [`Bearer ${SERVICE_TOKEN}`]);
    const [delivery] = received;
    const payload = JSON.parse(delivery?.body ?? "{}") as { data: Record<string, unknown> };
    assert.deepEqual(payload.data["result"], { rows: [1, 2, 3] });
    assert.ok(!("result_url" in payload.data));
    verify({ secret: endpoint.secret, headers: delivery?.headers as Record<string, string>, body: delivery?.body ?? "" });
    // A result_url elsewhere is refused: the record fails, and the credential goes nowhere.
    const elsewhere = jobEvent("gina", { result: null, result_url: "http://127.0.0.1:9/api/jobs/x/" });
    assert.equal((await feed([JSON.stringify(elsewhere)])).batchItemFailures.length, 1);
    assert.equal(djangoAuthorizations.length, 1);
  });

  test("a job event that fails validation is dropped, not retried", async () => {
    assert.deepEqual(await feed(["not json", JSON.stringify({ type: "job.succeeded" }), JSON.stringify({ kind: "attempt" })]), { batchItemFailures: [] });
  });

  test("a test ping goes through the queue and arrives signed", async () => {
    const endpoint = await createEndpoint("hank", "/hank");
    received.length = 0;
    const answer = await call("POST", `/webhooks/endpoints/${endpoint.id}/test`, { token: await token("hank") });
    assert.equal(answer.status, 202);
    await feed(await takeQueued());
    assert.equal(received.length, 1);
    const payload = JSON.parse(received[0]?.body ?? "{}") as { type: string; data: unknown };
    assert.deepEqual([payload.type, payload.data], ["webhook.test", { endpoint_id: endpoint.id }]);
  });

  test("the subscription's filter policy follows the endpoints that want progress events", async () => {
    const policy = async () =>
      JSON.parse((await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }))).Attributes?.["FilterPolicy"] ?? "{}") as { type: string[] };
    const endpoint = await createEndpoint("ivy", "/ivy", { event_types: ["job.progress", "job.succeeded"] });
    assert.deepEqual((await policy()).type.sort(), ["job.cancelled", "job.failed", "job.progress", "job.succeeded"]);
    assert.equal((await call("DELETE", `/webhooks/endpoints/${endpoint.id}`, { token: await token("ivy") })).status, 204);
    assert.deepEqual((await policy()).type.sort(), ["job.cancelled", "job.failed", "job.succeeded"]);
  });

  test("at most 20 endpoints per user", async () => {
    for (let i = 0; i < 20; i += 1) await createEndpoint("jack", `/jack/${String(i)}`);
    const answer = await call("POST", "/webhooks/endpoints", { token: await token("jack"), body: JSON.stringify({ url: `${receiverUrl}/21` }) });
    assert.deepEqual([answer.status, (answer.body as { error: { code: string } }).error.code], [409, "endpoint_limit"]);
  });

  test("the esbuild bundle's handlers do the same against AWS (the SDK's bundled ES module builds work)", async () => {
    const work = await mkdtemp(join(tmpdir(), "webhooks-bundle-moto-"));
    try {
      const outfile = join(work, "index.mjs");
      await bundle(outfile);
      const bundled = (await import(pathToFileURL(outfile).href)) as typeof import("../src/index.js");
      const event = {
        version: "2.0",
        rawPath: "/webhooks/endpoints",
        headers: { authorization: `Bearer ${await token("kate")}`, "content-type": "application/json" },
        body: JSON.stringify({ url: `${receiverUrl}/kate` }),
        isBase64Encoded: false,
        requestContext: { stage: "$default", http: { method: "POST" } },
      } as unknown as APIGatewayProxyEventV2;
      const created = await bundled.api(event);
      assert.equal(created.statusCode, 201, created.body);
      received.length = 0;
      const records: SQSEvent = { Records: [record(JSON.stringify(jobEvent("kate")))] };
      assert.deepEqual(await bundled.deliver(records), { batchItemFailures: [] });
      assert.deepEqual(received.map((entry) => entry.path), ["/kate"]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
