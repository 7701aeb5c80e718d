/**
 * A WebhookStore in memory, with the DynamoDB store's conditions (limit, conditional create,
 * leases): for unit tests without moto and for scripts/bench-deliveries.ts. Not for production.
 */
import type { Delivery, Endpoint, EndpointStatus, JobEventType } from "../../src/model.js";
import { NON_TERMINAL_EVENT_TYPES } from "../../src/model.js";
import { EndpointLimitReached, type AttemptResult, type WebhookStore } from "../../src/store.js";

interface StoredDelivery {
  delivery: Delivery;
  leaseToken: string | null;
  leaseUntil: number;
}

export class MemoryWebhookStore implements WebhookStore {
  readonly endpoints = new Map<string, Endpoint>();
  readonly deliveries = new Map<string, StoredDelivery>();

  createEndpoint(endpoint: Endpoint, limit: number): Promise<void> {
    if ([...this.endpoints.values()].filter((entry) => entry.owner === endpoint.owner).length >= limit) {
      return Promise.reject(new EndpointLimitReached("limit"));
    }
    this.endpoints.set(endpoint.id, structuredClone(endpoint));
    return Promise.resolve();
  }

  listEndpoints(owner: string): Promise<Endpoint[]> {
    return Promise.resolve([...this.endpoints.values()].filter((entry) => entry.owner === owner).map((entry) => structuredClone(entry)));
  }

  getEndpoint(owner: string, id: string): Promise<Endpoint | undefined> {
    const endpoint = this.endpoints.get(id);
    return Promise.resolve(endpoint?.owner === owner ? structuredClone(endpoint) : undefined);
  }

  deleteEndpoint(endpoint: Endpoint): Promise<boolean> {
    return Promise.resolve(this.endpoints.delete(endpoint.id));
  }

  setEndpointHealth(endpoint: Endpoint, status: EndpointStatus, failingSince: string | null): Promise<void> {
    const stored = this.endpoints.get(endpoint.id);
    if (stored !== undefined) Object.assign(stored, { status, failing_since: failingSince });
    return Promise.resolve();
  }

  wantedNonTerminalTypes(): Promise<JobEventType[]> {
    const wanted = new Set([...this.endpoints.values()].flatMap((entry) => entry.event_types));
    return Promise.resolve(NON_TERMINAL_EVENT_TYPES.filter((type) => wanted.has(type)));
  }

  createDelivery(delivery: Delivery): Promise<boolean> {
    if (this.deliveries.has(delivery.id)) return Promise.resolve(false);
    this.deliveries.set(delivery.id, { delivery: structuredClone(delivery), leaseToken: null, leaseUntil: 0 });
    return Promise.resolve(true);
  }

  getDelivery(id: string): Promise<Delivery | undefined> {
    const stored = this.deliveries.get(id);
    return Promise.resolve(stored === undefined ? undefined : structuredClone(stored.delivery));
  }

  listDeliveries(endpointId: string, limit: number): Promise<Delivery[]> {
    const all = [...this.deliveries.values()].map((entry) => entry.delivery).filter((delivery) => delivery.endpoint_id === endpointId);
    all.sort((a, b) => `${b.created_at}#${b.id}`.localeCompare(`${a.created_at}#${a.id}`));
    return Promise.resolve(all.slice(0, limit).map((delivery) => structuredClone(delivery)));
  }

  claimAttempt(id: string, attempt: number, leaseToken: string, leaseUntilMs: number, nowMs: number): Promise<Delivery | undefined> {
    const stored = this.deliveries.get(id);
    if (stored === undefined || stored.delivery.attempt_count !== attempt - 1 || stored.leaseUntil >= nowMs) return Promise.resolve(undefined);
    stored.leaseToken = leaseToken;
    stored.leaseUntil = leaseUntilMs;
    return Promise.resolve(structuredClone(stored.delivery));
  }

  finishAttempt(id: string, leaseToken: string, result: AttemptResult): Promise<void> {
    const stored = this.deliveries.get(id);
    if (stored?.leaseToken !== leaseToken) return Promise.reject(new Error("lease lost"));
    Object.assign(stored.delivery, result);
    stored.leaseToken = null;
    stored.leaseUntil = 0;
    return Promise.resolve();
  }

  releaseLease(id: string, leaseToken: string): Promise<void> {
    const stored = this.deliveries.get(id);
    if (stored?.leaseToken === leaseToken) {
      stored.leaseToken = null;
      stored.leaseUntil = 0;
    }
    return Promise.resolve();
  }

  markRetryQueued(id: string, nextAttemptAt: string): Promise<Delivery | undefined> {
    const stored = this.deliveries.get(id);
    if (stored === undefined) return Promise.resolve(undefined);
    Object.assign(stored.delivery, { status: "pending", next_attempt_at: nextAttemptAt });
    return Promise.resolve(structuredClone(stored.delivery));
  }
}
