/** The API's input rules: one function per body or query, each refusing with `invalid_request` and its fields. */
import { ApiError } from "../errors.js";
import { JOB_EVENT_TYPES, TERMINAL_EVENT_TYPES, type JobEventType } from "../model.js";

export const MAX_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 256;
export const DEFAULT_DELIVERY_LIMIT = 20;
export const MAX_DELIVERY_LIMIT = 100;

export interface EndpointInput {
  url: string;
  description: string;
  event_types: JobEventType[];
}

type FieldErrors = Record<string, string[]>;

function invalid(fields: FieldErrors): ApiError {
  return new ApiError(400, "invalid_request", "The request is not valid.", { fields });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ALLOWED_FIELDS = new Set(["url", "description", "event_types"]);

export function endpointInput(body: unknown): EndpointInput {
  if (!isRecord(body)) throw invalid({ non_field_errors: ["The body must be a JSON object."] });
  const fields: FieldErrors = {};
  for (const key of Object.keys(body)) if (!ALLOWED_FIELDS.has(key)) fields[key] = ["Unknown field."];
  const { url, description = "", event_types: eventTypes = [...TERMINAL_EVENT_TYPES] } = body;
  if (typeof url !== "string" || url === "") fields["url"] = ["This field is required and must be a string."];
  else if (url.length > MAX_URL_LENGTH) fields["url"] = [`Ensure this field has no more than ${String(MAX_URL_LENGTH)} characters.`];
  if (typeof description !== "string") fields["description"] = ["Must be a string."];
  else if (description.length > MAX_DESCRIPTION_LENGTH) fields["description"] = [`Ensure this field has no more than ${String(MAX_DESCRIPTION_LENGTH)} characters.`];
  if (!Array.isArray(eventTypes) || eventTypes.length === 0) {
    fields["event_types"] = ["Must be a non-empty list of event types."];
  } else if (!eventTypes.every((type): type is JobEventType => typeof type === "string" && (JOB_EVENT_TYPES as readonly string[]).includes(type))) {
    fields["event_types"] = [`Each event type is one of ${JOB_EVENT_TYPES.join(", ")}.`];
  } else if (new Set(eventTypes).size !== eventTypes.length) {
    fields["event_types"] = ["Event types must not repeat."];
  }
  if (Object.keys(fields).length > 0) throw invalid(fields);
  return { url: url as string, description: description as string, event_types: eventTypes as JobEventType[] };
}

export function deliveryLimit(query: Readonly<Record<string, string | undefined>>): number {
  const raw = query["limit"];
  if (raw === undefined) return DEFAULT_DELIVERY_LIMIT;
  const limit = /^[0-9]{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= MAX_DELIVERY_LIMIT)) {
    throw invalid({ limit: [`Must be a whole number from 1 to ${String(MAX_DELIVERY_LIMIT)}.`] });
  }
  return limit;
}
