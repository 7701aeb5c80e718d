/**
 * Values that may live in SSM Parameter Store instead of the environment: Django's public base URL
 * (`${SSM_PARAMETER_PREFIX}/api-base-url`) and the service's Django credential (a SecureString).
 * Each is read once per container, on first need; a failed read is not cached, so the next
 * invocation tries again.
 */
import { GetParametersCommand } from "@aws-sdk/client-ssm";

import { ssmClient } from "./aws-clients.js";
import { ConfigError, type Config } from "./config.js";

async function readParameter(name: string, decrypt: boolean): Promise<string> {
  const answer = await ssmClient().send(new GetParametersCommand({ Names: [name], WithDecryption: decrypt }));
  const value = answer.Parameters?.find((parameter) => parameter.Name === name)?.Value;
  if (value === undefined || value === "") throw new ConfigError(`the SSM parameter ${name} is missing or empty`);
  return value;
}

/** Memoises a successful async read; a failure is retried on the next call. */
function once(read: () => Promise<string>): () => Promise<string> {
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= read().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

export interface Parameters {
  /** Django's public base URL, without a trailing slash. */
  apiBaseUrl(): Promise<string>;
  /** The `iss` of Django's tokens. */
  issuer(): Promise<string>;
  /** The service's Django API token. */
  serviceToken(): Promise<string>;
}

export function parametersFrom(config: Config): Parameters {
  const apiBaseUrl = once(async () => {
    const known = config.apiBaseUrl ?? config.authIssuer;
    if (known !== undefined) return known;
    if (config.ssmParameterPrefix === undefined) throw new ConfigError("API_BASE_URL, AUTH_ISSUER or SSM_PARAMETER_PREFIX must be set");
    return (await readParameter(`${config.ssmParameterPrefix}/api-base-url`, false)).replace(/\/+$/, "");
  });
  const serviceToken = once(async () => {
    if (config.serviceToken !== undefined) return config.serviceToken;
    if (config.secretParameterName === undefined) throw new ConfigError("DJANGO_SERVICE_TOKEN or WEBHOOKS_SECRET_PARAMETER must be set");
    return readParameter(config.secretParameterName, true);
  });
  return {
    apiBaseUrl,
    issuer: async () => config.authIssuer ?? (await apiBaseUrl()),
    serviceToken,
  };
}
