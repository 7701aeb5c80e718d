/**
 * What arrives on the webhooks queue, told apart by shape:
 * - a job event, as Django published it to SNS (raw message delivery: the body is the event's
 *   JSON), validated against contracts/schemas/job_event.json;
 * - an attempt this service queued itself (a retry, a test ping, a manual retry):
 *   `{"kind": "attempt", "delivery_id": "msg_…", "attempt": n, "due_at": <unix seconds>}`.
 * Anything else is poison: parsing says why, with a stable reason, and the consumer drops it.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";

import type { JobEvent } from "./contracts/job_event.js";
import { schema as jobEventSchema } from "./schemas/job_event.js";
import { MESSAGE_ID } from "./webhook-id.js";

export interface AttemptMessage {
  kind: "attempt";
  delivery_id: string;
  /** The attempt's number (1 is the first): a copy whose attempt was already made is dropped. */
  attempt: number;
  /** When the attempt is due (unix seconds): SQS delays by 900 s at most, so a later one is re-queued. */
  due_at: number;
}

export type QueueMessage = { kind: "job_event"; event: JobEvent } | AttemptMessage;

export type PoisonReason = "not_json" | "invalid_job_event" | "invalid_attempt";

/** A message that can never be processed: logged and dropped, not retried into the DLQ. */
export class PoisonMessage extends Error {
  override readonly name = "PoisonMessage";
  readonly reason: PoisonReason;

  constructor(reason: PoisonReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.reason = reason;
  }
}

let validateJobEvent: ((value: unknown) => boolean) & { errors?: unknown } | undefined;

// Compiled on first use, not at import: an API cold start never pays for it.
function jobEventValidator(): (value: unknown) => boolean {
  if (validateJobEvent === undefined) {
    const ajv = new Ajv2020({ allErrors: false, strict: true });
    formats.default(ajv, ["date-time", "uuid"]);
    validateJobEvent = ajv.compile(jobEventSchema);
  }
  return validateJobEvent;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function attemptMessage(body: Record<string, unknown>): AttemptMessage {
  const { delivery_id: deliveryId, attempt, due_at: dueAt } = body;
  const keys = Object.keys(body).sort().join(",");
  if (
    keys !== "attempt,delivery_id,due_at,kind" ||
    typeof deliveryId !== "string" ||
    !MESSAGE_ID.test(deliveryId) ||
    typeof attempt !== "number" ||
    !Number.isSafeInteger(attempt) ||
    attempt < 1 ||
    typeof dueAt !== "number" ||
    !Number.isSafeInteger(dueAt)
  ) {
    throw new PoisonMessage("invalid_attempt", "an attempt message is {kind, delivery_id, attempt, due_at}");
  }
  return { kind: "attempt", delivery_id: deliveryId, attempt, due_at: dueAt };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new PoisonMessage("not_json", "the body is not JSON");
  }
}

export function parseQueueMessage(raw: string): QueueMessage {
  let body = parseJson(raw);
  // Without raw message delivery SNS wraps the event in an envelope: unwrap it (once).
  if (isRecord(body) && body["Type"] === "Notification" && typeof body["Message"] === "string") {
    body = parseJson(body["Message"]);
  }
  if (isRecord(body) && body["kind"] === "attempt") return attemptMessage(body);
  if (!jobEventValidator()(body)) {
    throw new PoisonMessage("invalid_job_event", "the body is neither an attempt nor a job event valid against job_event.json");
  }
  return { kind: "job_event", event: body as JobEvent };
}

export function attemptMessageBody(message: Omit<AttemptMessage, "kind">): string {
  const body: AttemptMessage = { kind: "attempt", ...message };
  return JSON.stringify(body);
}
