/** What the service asks of its storage; dynamo-store.ts implements it on the single table. */
import type { AttemptRecord, Delivery, DeliveryStatus, Endpoint, EndpointStatus, JobEventType } from "./model.js";

/** The owner already has the maximum number of endpoints. */
export class EndpointLimitReached extends Error {
  override readonly name = "EndpointLimitReached";
}

export interface AttemptResult {
  attempt_count: number;
  attempts: AttemptRecord[];
  status: DeliveryStatus;
  next_attempt_at: string | null;
}

export interface WebhookStore {
  /** Adds an endpoint unless its owner has `limit` already (EndpointLimitReached). */
  createEndpoint(endpoint: Endpoint, limit: number): Promise<void>;
  listEndpoints(owner: string): Promise<Endpoint[]>;
  getEndpoint(owner: string, id: string): Promise<Endpoint | undefined>;
  /** false when it was already gone. */
  deleteEndpoint(endpoint: Endpoint): Promise<boolean>;
  /** Sets an endpoint's health, unless it was deleted meanwhile. */
  setEndpointHealth(endpoint: Endpoint, status: EndpointStatus, failingSince: string | null): Promise<void>;
  /** The non-terminal event types at least one endpoint subscribes to. */
  wantedNonTerminalTypes(): Promise<JobEventType[]>;

  /** Adds a delivery; false when one with its id exists (a duplicate event). */
  createDelivery(delivery: Delivery): Promise<boolean>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  /** An endpoint's deliveries, newest first. */
  listDeliveries(endpointId: string, limit: number): Promise<Delivery[]>;
  /**
   * Takes the lease to make attempt number `attempt`: only if attempt - 1 attempts were made and no
   * unexpired lease is held. The delivery, or undefined when another copy made or is making it.
   */
  claimAttempt(id: string, attempt: number, leaseToken: string, leaseUntilMs: number, nowMs: number): Promise<Delivery | undefined>;
  /** Records an attempt's result and gives the lease back (only with the lease's token). */
  finishAttempt(id: string, leaseToken: string, result: AttemptResult): Promise<void>;
  /** Gives a lease back without an attempt (the attempt could not be made: retry soon). */
  releaseLease(id: string, leaseToken: string): Promise<void>;
  /** A manual retry was queued: the delivery is pending again. */
  markRetryQueued(id: string, nextAttemptAt: string): Promise<Delivery | undefined>;
}
