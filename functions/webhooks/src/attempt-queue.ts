/**
 * Queues the service's own attempt messages on its SQS queue. SQS delays a message by 900 s at
 * most, so a later attempt is sent with the longest delay it can have and, when it arrives early,
 * sent again for the rest of the wait (the consumer does that): waits of hours work.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";

import { attemptMessageBody, type AttemptMessage } from "./queue-messages.js";

export const MAX_DELAY_SECONDS = 900;

export interface AttemptQueue {
  /** Queues attempt `attempt` of a delivery, to arrive when it is due (or 900 s from now, if sooner). */
  schedule(message: Omit<AttemptMessage, "kind">): Promise<void>;
}

/** The delay to send a message due at `dueAt` with (unix seconds), now. */
export function delaySecondsUntil(dueAt: number, nowSeconds: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, dueAt - nowSeconds));
}

export function sqsAttemptQueue(client: SQSClient, queueUrl: string, now: () => Date = () => new Date()): AttemptQueue {
  return {
    async schedule(message) {
      const nowSeconds = Math.floor(now().getTime() / 1000);
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: attemptMessageBody(message),
          DelaySeconds: delaySecondsUntil(message.due_at, nowSeconds),
        }),
      );
    },
  };
}
