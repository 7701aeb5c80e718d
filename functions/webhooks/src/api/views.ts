/** What the API shows of the records: never an endpoint's secret after creation, never a lease. */
import type { Delivery, Endpoint } from "../model.js";

export interface EndpointView {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  status: Endpoint["status"];
  created_at: string;
  failing_since?: string;
}

export function endpointView(endpoint: Endpoint): EndpointView {
  const view: EndpointView = {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    event_types: endpoint.event_types,
    status: endpoint.status,
    created_at: endpoint.created_at,
  };
  if (endpoint.failing_since !== null) view.failing_since = endpoint.failing_since;
  return view;
}

export function deliveryView(delivery: Delivery): Record<string, unknown> {
  return {
    id: delivery.id,
    endpoint_id: delivery.endpoint_id,
    event_type: delivery.event_type,
    job_id: delivery.job_id,
    status: delivery.status,
    attempt_count: delivery.attempt_count,
    attempts: delivery.attempts,
    next_attempt_at: delivery.next_attempt_at,
    created_at: delivery.created_at,
  };
}
