/**
 * The webhooks queue's SNS subscription lets through only the event types some endpoint wants:
 * the terminal ones always, progress and the like (many per job) only while at least one endpoint
 * subscribes to them. The counts live in the table (dynamo-store.ts); this sets the policy.
 */
import { SetSubscriptionAttributesCommand, type SNSClient } from "@aws-sdk/client-sns";

import { TERMINAL_EVENT_TYPES, type JobEventType } from "./model.js";
import type { WebhookStore } from "./store.js";

/** The FilterPolicy (on the message attribute `type`) for the wanted non-terminal types. */
export function filterPolicyFor(wantedNonTerminal: readonly JobEventType[]): string {
  return JSON.stringify({ type: [...TERMINAL_EVENT_TYPES, ...wantedNonTerminal] });
}

let warnedUnset = false;

/** Sets the subscription's policy to what the counters say now (idempotent). */
export async function syncFilterPolicy(store: WebhookStore, sns: SNSClient, subscriptionArn: string | undefined): Promise<void> {
  if (subscriptionArn === undefined) {
    if (!warnedUnset) console.log(JSON.stringify({ msg: "WEBHOOKS_SUBSCRIPTION_ARN unset: the filter policy is not managed" }));
    warnedUnset = true;
    return;
  }
  const policy = filterPolicyFor(await store.wantedNonTerminalTypes());
  await sns.send(
    new SetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn, AttributeName: "FilterPolicy", AttributeValue: policy }),
  );
}
