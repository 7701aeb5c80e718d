/**
 * When a failed delivery is tried again. Attempt 1 goes out at once; attempt n+1 waits the n-th
 * delay after attempt n fails. Past the last delay the delivery has failed for good.
 */

/**
 * Svix's schedule (https://docs.svix.com/retries): immediately, then 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h and 10 h: 8 attempts over about a day and a half, so a receiver that is down for an
 * afternoon still gets its events.
 */
export const DEFAULT_RETRY_DELAYS_SECONDS: readonly number[] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

// A schedule longer than this is a typo, not a policy (and would keep deliveries past their TTL).
const MAX_RETRIES = 50;
const MAX_DELAY_SECONDS = 7 * 24 * 3600;

/** The delays between attempts, from WEBHOOKS_RETRY_SCHEDULE (comma-separated seconds) or the default. */
export function parseRetrySchedule(spec: string | undefined): readonly number[] {
  if (spec === undefined || spec.trim() === "") return DEFAULT_RETRY_DELAYS_SECONDS;
  const delays = spec.split(",").map((part) => part.trim());
  if (delays.length > MAX_RETRIES || !delays.every((part) => /^[0-9]{1,7}$/.test(part))) {
    throw new RangeError(`WEBHOOKS_RETRY_SCHEDULE is up to ${String(MAX_RETRIES)} whole seconds, comma-separated`);
  }
  const seconds = delays.map(Number);
  if (seconds.some((delay) => delay > MAX_DELAY_SECONDS)) throw new RangeError("a retry delay is at most 7 days");
  return seconds;
}

/** How many attempts a delivery gets on its schedule. */
export function maxAttempts(delays: readonly number[]): number {
  return delays.length + 1;
}

/**
 * Seconds to wait before the attempt after attempt `attemptsMade` failed, or null when the schedule
 * is over (the delivery has failed).
 */
export function delayAfterAttempt(delays: readonly number[], attemptsMade: number): number | null {
  if (attemptsMade < 1) return 0;
  return delays[attemptsMade - 1] ?? null;
}
