/**
 * Message ids (the Standard Webhooks `webhook-id`, and the delivery's id). A job event's delivery to
 * one endpoint always gets the same id, so a duplicated SQS message or a Lambda retry finds the
 * delivery it already made instead of making a second one, and receivers can drop duplicates.
 */
import { createHash, randomBytes } from "node:crypto";

import type { JobEvent } from "./contracts/job_event.js";

export const MESSAGE_ID_PREFIX = "msg_";
export const ENDPOINT_ID_PREFIX = "ep_";
// 128 bits: no collision across the deliveries a table keeps for 30 days.
const ID_HEX_CHARS = 32;

export const MESSAGE_ID = /^msg_[0-9a-f]{32}$/;
export const ENDPOINT_ID = /^ep_[0-9a-f]{32}$/;

/** The stable id of one job event's delivery to one endpoint. */
export function deliveryIdFor(event: Pick<JobEvent, "job_id" | "seq" | "type">, endpointId: string): string {
  // A job's (seq, type) pair names one event: seq only grows within a job.
  const digest = createHash("sha256").update(`${event.job_id}:${String(event.seq)}:${event.type}:${endpointId}`).digest("hex");
  return MESSAGE_ID_PREFIX + digest.slice(0, ID_HEX_CHARS);
}

/** A fresh message id, for events that happen once (test pings). */
export function randomMessageId(): string {
  return MESSAGE_ID_PREFIX + randomBytes(ID_HEX_CHARS / 2).toString("hex");
}

export function newEndpointId(): string {
  return ENDPOINT_ID_PREFIX + randomBytes(ID_HEX_CHARS / 2).toString("hex");
}
