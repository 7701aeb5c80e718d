/**
 * The delivery engine, behind the `deliver` handler: a job event becomes one delivery per
 * subscribed endpoint of its owner, each attempted at once; an attempt message makes one more
 * attempt. Every step is safe to repeat (at-least-once SQS): delivery ids are derived from
 * (event, endpoint), creation is a conditional put, and an attempt is made only under a lease on
 * its number, so copies of one message never POST twice.
 */
import { randomBytes } from "node:crypto";

import type { AttemptQueue } from "./attempt-queue.js";
import { mapBounded } from "./bounded.js";
import type { JobEvent } from "./contracts/job_event.js";
import { MAX_KEPT_ATTEMPTS, type AttemptRecord, type Delivery, type Endpoint, type EndpointStatus } from "./model.js";
import type { AttemptMessage } from "./queue-messages.js";
import { delayAfterAttempt } from "./retry-schedule.js";
import type { AllowedUrlPattern } from "./ssrf.js";
import type { WebhookStore } from "./store.js";
import { deliveryIdFor } from "./webhook-id.js";
import type { AttemptOutcome, SignedPost } from "./webhook-post.js";

// Longer than an attempt (5 s) plus a result fetch (10 s): a live holder never loses its lease.
export const LEASE_MS = 60_000;
// Attempts to one event's endpoints run together, this many at a time.
const FANOUT_CONCURRENCY = 8;
// An attempt message arriving this early is treated as due (SQS delays are not to the second).
const DUE_TOLERANCE_SECONDS = 2;

export interface DispatcherDeps {
  store: WebhookStore;
  queue: AttemptQueue;
  post: (post: SignedPost) => Promise<AttemptOutcome>;
  /** The `result` of the job a result_url names (with the service credential). */
  fetchResult: (resultUrl: string) => Promise<unknown>;
  retryDelaysSeconds: readonly number[];
  /** One attempt's deadline; the post's own default (5 s) when not given. */
  attemptTimeoutMs?: number | undefined;
  disableAfterSeconds: number;
  allowedUrls: readonly AllowedUrlPattern[];
  now?: () => Date;
  log?: (fields: Record<string, unknown>) => void;
}

const defaultLog = (fields: Record<string, unknown>): void => {
  console.log(JSON.stringify(fields));
};

/** The webhook payload of a job event: `{type, timestamp, data}`, with data the event itself. */
export function jobEventMessage(event: JobEvent): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data: event });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class Dispatcher {
  private readonly now: () => Date;
  private readonly log: (fields: Record<string, unknown>) => void;

  constructor(private readonly deps: DispatcherDeps) {
    this.now = deps.now ?? (() => new Date());
    this.log = deps.log ?? defaultLog;
  }

  /** A job event: a delivery per subscribed endpoint of its owner, each attempted now. Throws if one could not be made. */
  async handleJobEvent(event: JobEvent): Promise<void> {
    const endpoints = (await this.deps.store.listEndpoints(event.owner)).filter(
      (endpoint) => endpoint.status !== "disabled" && endpoint.event_types.includes(event.type),
    );
    const message = jobEventMessage(event);
    // One event's result is fetched once for all its endpoints.
    const payloads = new Map<string, Promise<string>>();
    const results = await mapBounded(endpoints, FANOUT_CONCURRENCY, async (endpoint) => {
      const id = deliveryIdFor(event, endpoint.id);
      const delivery: Delivery = {
        id,
        endpoint_id: endpoint.id,
        owner: endpoint.owner,
        event_type: event.type,
        job_id: event.job_id,
        status: "pending",
        attempt_count: 0,
        attempts: [],
        next_attempt_at: this.now().toISOString(),
        created_at: this.now().toISOString(),
        message,
      };
      // A duplicate event finds its delivery made: attempt 1 below is then refused unless it never happened.
      await this.deps.store.createDelivery(delivery);
      await this.attempt(id, 1, payloads);
    });
    const reasons = results.flatMap((result): unknown[] => (result.status === "rejected" ? [result.reason] : []));
    if (reasons.length > 0) throw new AggregateError(reasons, `${String(reasons.length)} deliveries not attempted`);
  }

  /** An attempt message: re-queued if not yet due, else attempted. */
  async handleAttemptMessage(message: AttemptMessage): Promise<void> {
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    if (message.due_at > nowSeconds + DUE_TOLERANCE_SECONDS) {
      await this.deps.queue.schedule({ delivery_id: message.delivery_id, attempt: message.attempt, due_at: message.due_at });
      return;
    }
    await this.attempt(message.delivery_id, message.attempt, new Map());
  }

  /** The exact bytes to send: the stored message, with a result_url replaced by the result. */
  private async payloadFor(delivery: Delivery, payloads: Map<string, Promise<string>>): Promise<string> {
    const message: unknown = JSON.parse(delivery.message);
    if (!isRecord(message) || !isRecord(message["data"])) return delivery.message;
    const data = message["data"];
    const resultUrl = data["result_url"];
    if (typeof resultUrl !== "string") return delivery.message;
    let payload = payloads.get(delivery.message);
    if (payload === undefined) {
      payload = this.deps.fetchResult(resultUrl).then((result) => {
        const withResult = Object.fromEntries(Object.entries(data).filter(([key]) => key !== "result_url"));
        withResult["result"] = result;
        return JSON.stringify({ ...message, data: withResult });
      });
      payloads.set(delivery.message, payload);
    }
    return payload;
  }

  /** Attempt number `attempt` of a delivery, if this copy gets the lease. */
  private async attempt(id: string, attempt: number, payloads: Map<string, Promise<string>>): Promise<void> {
    const { store } = this.deps;
    const leaseToken = randomBytes(12).toString("hex");
    const nowMs = this.now().getTime();
    const delivery = await store.claimAttempt(id, attempt, leaseToken, nowMs + LEASE_MS, nowMs);
    if (delivery === undefined) {
      this.log({ msg: "attempt skipped: made already, or being made", delivery_id: id, attempt });
      return;
    }
    let outcome: AttemptOutcome;
    let endpoint: Endpoint | undefined;
    try {
      endpoint = await store.getEndpoint(delivery.owner, delivery.endpoint_id);
      if (endpoint?.status === "disabled") {
        await store.finishAttempt(id, leaseToken, { ...this.unchanged(delivery), status: "failed", next_attempt_at: null });
        return;
      }
      if (endpoint === undefined) {
        // Deleted: its deliveries stay until their TTL, but are not attempted.
        await store.finishAttempt(id, leaseToken, { ...this.unchanged(delivery), next_attempt_at: null });
        return;
      }
      const body = await this.payloadFor(delivery, payloads);
      outcome = await this.deps.post({
        url: endpoint.url,
        secret: endpoint.secret,
        messageId: id,
        body,
        allowed: this.deps.allowedUrls,
        now: this.now(),
        timeoutMs: this.deps.attemptTimeoutMs,
      });
    } catch (error) {
      // No attempt was made (the result could not be fetched, the store failed): let the SQS record fail.
      await store.releaseLease(id, leaseToken).catch(() => undefined);
      throw error;
    }
    await this.record(delivery, endpoint, leaseToken, outcome);
  }

  private unchanged(delivery: Delivery): { attempt_count: number; attempts: AttemptRecord[]; status: Delivery["status"]; next_attempt_at: string | null } {
    return { attempt_count: delivery.attempt_count, attempts: delivery.attempts, status: delivery.status, next_attempt_at: delivery.next_attempt_at };
  }

  private async record(delivery: Delivery, endpoint: Endpoint, leaseToken: string, outcome: AttemptOutcome): Promise<void> {
    const now = this.now();
    const attemptCount = delivery.attempt_count + 1;
    const attempts = [...delivery.attempts, { at: now.toISOString(), status_code: outcome.statusCode, latency_ms: outcome.latencyMs, error: outcome.error }].slice(
      -MAX_KEPT_ATTEMPTS,
    );
    const succeeded = outcome.error === null;
    const delay = succeeded ? null : delayAfterAttempt(this.deps.retryDelaysSeconds, attemptCount);
    const dueAt = delay === null ? null : Math.floor(now.getTime() / 1000) + delay;
    // Queue the next attempt before recording this one: if the record fails, the next attempt is
    // refused (its number is not due) and SQS brings this message back.
    if (dueAt !== null) await this.deps.queue.schedule({ delivery_id: delivery.id, attempt: attemptCount + 1, due_at: dueAt });
    await this.deps.store.finishAttempt(delivery.id, leaseToken, {
      attempt_count: attemptCount,
      attempts,
      status: succeeded ? "succeeded" : dueAt === null ? "failed" : "retrying",
      next_attempt_at: dueAt === null ? null : new Date(dueAt * 1000).toISOString(),
    });
    this.log({ msg: "attempt", delivery_id: delivery.id, endpoint_id: endpoint.id, attempt: attemptCount, status_code: outcome.statusCode, error: outcome.error });
    await this.updateHealth(endpoint, succeeded, !succeeded && dueAt === null, now);
  }

  /** Any success makes an endpoint active; a failed delivery makes it failing; days of failure disable it. */
  private async updateHealth(endpoint: Endpoint, succeeded: boolean, exhausted: boolean, now: Date): Promise<void> {
    if (succeeded) {
      if (endpoint.status !== "active" || endpoint.failing_since !== null) await this.deps.store.setEndpointHealth(endpoint, "active", null);
      return;
    }
    const failingSince = endpoint.failing_since ?? now.toISOString();
    const failingForSeconds = (now.getTime() - Date.parse(failingSince)) / 1000;
    let status: EndpointStatus = exhausted || endpoint.status === "failing" ? "failing" : "active";
    if (failingForSeconds >= this.deps.disableAfterSeconds) status = "disabled";
    if (status !== endpoint.status || failingSince !== endpoint.failing_since) {
      await this.deps.store.setEndpointHealth(endpoint, status, failingSince);
      if (status === "disabled") this.log({ msg: "endpoint disabled", endpoint_id: endpoint.id, failing_since: failingSince });
    }
  }
}
