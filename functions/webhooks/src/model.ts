/** The service's records, as the API shows them and the store keeps them. */
import type { JobEvent } from "./contracts/job_event.js";

export type JobEventType = JobEvent["type"];
export const JOB_EVENT_TYPES: readonly JobEventType[] = ["job.queued", "job.running", "job.progress", "job.succeeded", "job.failed", "job.cancelled"];
/** The types the job-events subscription always lets through; the others only while an endpoint wants them. */
export const TERMINAL_EVENT_TYPES: readonly JobEventType[] = ["job.succeeded", "job.failed", "job.cancelled"];
export const NON_TERMINAL_EVENT_TYPES: readonly JobEventType[] = ["job.queued", "job.running", "job.progress"];
export const TEST_EVENT_TYPE = "webhook.test";

export type EndpointStatus = "active" | "failing" | "disabled";

export interface Endpoint {
  id: string;
  /** The Django user id (the token's `sub`). */
  owner: string;
  url: string;
  description: string;
  event_types: JobEventType[];
  status: EndpointStatus;
  created_at: string;
  /** When the current run of failed attempts began; null while the endpoint is healthy. */
  failing_since: string | null;
  secret: string;
}

export type DeliveryStatus = "pending" | "succeeded" | "retrying" | "failed";

export interface AttemptRecord {
  at: string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface Delivery {
  /** The webhook-id. */
  id: string;
  endpoint_id: string;
  owner: string;
  event_type: string;
  job_id: string | null;
  status: DeliveryStatus;
  attempt_count: number;
  /** The last MAX_KEPT_ATTEMPTS attempts, oldest first. */
  attempts: AttemptRecord[];
  next_attempt_at: string | null;
  created_at: string;
  /** The JSON `{type, timestamp, data}` to send; data may still carry a result_url to resolve at send time. */
  message: string;
}

export const MAX_KEPT_ATTEMPTS = 20;
/** Deliveries are kept 30 days (the table's TTL attribute expires_at). */
export const DELIVERY_TTL_SECONDS = 30 * 24 * 3600;
