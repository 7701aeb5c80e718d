/**
 * The service's configuration, read from the environment once per container. The names are the
 * ones serverless.yml and the local stack set; nothing here has a default endpoint or region
 * (the AWS SDK takes AWS_ENDPOINT_URL and AWS_REGION itself).
 */
import { parseRetrySchedule } from "./retry-schedule.js";
import { parseAllowedUrls, type AllowedUrlPattern } from "./ssrf.js";
import { ATTEMPT_TIMEOUT_MS } from "./webhook-post.js";

/** An endpoint that has failed continuously this long is disabled (Svix: 5 days). */
export const DEFAULT_DISABLE_AFTER_SECONDS = 5 * 24 * 3600;

export interface Config {
  table: string;
  queueUrl: string;
  /** The queue's SNS subscription, whose filter policy follows the event types endpoints want. */
  subscriptionArn: string | undefined;
  allowedUrls: AllowedUrlPattern[];
  retryDelaysSeconds: readonly number[];
  /** How long one attempt may take, connect to last byte (the default 5 s is the documented one). */
  attemptTimeoutMs: number;
  disableAfterSeconds: number;
  /** Django's public base URL, when the environment names it (else from SSM, see parameters.ts). */
  apiBaseUrl: string | undefined;
  /** The tokens' `iss`, when it differs from apiBaseUrl's spelling. */
  authIssuer: string | undefined;
  ssmParameterPrefix: string | undefined;
  serviceToken: string | undefined;
  /** The full name of the SecureString holding the service token, when serviceToken is not set. */
  secretParameterName: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function required(env: Env, name: string): string {
  const value = optional(env, name);
  if (value === undefined) throw new ConfigError(`${name} is not set`);
  return value;
}

function withoutTrailingSlash(url: string | undefined): string | undefined {
  return url?.replace(/\/+$/, "");
}

/** WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS: 1 to 5 whole seconds. Never longer than the documented 5 s,
 * which the lease (dispatcher.ts) and receivers' expectations are sized for; shorter only to let
 * tests of receivers that never answer run in seconds. */
function attemptTimeoutMs(env: Env): number {
  const seconds = optional(env, "WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS");
  if (seconds === undefined) return ATTEMPT_TIMEOUT_MS;
  if (!/^[1-5]$/.test(seconds)) throw new ConfigError("WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS is whole seconds from 1 to 5");
  return Number(seconds) * 1000;
}

export function loadConfig(env: Env = process.env): Config {
  const disableAfter = optional(env, "WEBHOOKS_DISABLE_AFTER_SECONDS");
  if (disableAfter !== undefined && !/^[0-9]{1,9}$/.test(disableAfter)) {
    throw new ConfigError("WEBHOOKS_DISABLE_AFTER_SECONDS is whole seconds");
  }
  return {
    table: required(env, "WEBHOOKS_TABLE"),
    queueUrl: required(env, "WEBHOOKS_QUEUE_URL"),
    subscriptionArn: optional(env, "WEBHOOKS_SUBSCRIPTION_ARN"),
    allowedUrls: parseAllowedUrls(optional(env, "WEBHOOKS_ALLOWED_URLS")),
    retryDelaysSeconds: parseRetrySchedule(optional(env, "WEBHOOKS_RETRY_SCHEDULE")),
    attemptTimeoutMs: attemptTimeoutMs(env),
    disableAfterSeconds: disableAfter === undefined ? DEFAULT_DISABLE_AFTER_SECONDS : Number(disableAfter),
    apiBaseUrl: withoutTrailingSlash(optional(env, "API_BASE_URL")),
    authIssuer: withoutTrailingSlash(optional(env, "AUTH_ISSUER")),
    ssmParameterPrefix: withoutTrailingSlash(optional(env, "SSM_PARAMETER_PREFIX")),
    serviceToken: optional(env, "DJANGO_SERVICE_TOKEN"),
    secretParameterName: optional(env, "WEBHOOKS_SECRET_PARAMETER"),
  };
}
