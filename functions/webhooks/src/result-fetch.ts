/**
 * A job event whose result was too large to push carries `result_url` instead; the delivered
 * payload carries the result itself, fetched from Django with the service's own credential. The
 * credential is only ever sent to Django's base URL: any other URL is refused before a request.
 */
export const RESULT_FETCH_TIMEOUT_MS = 10_000;

/** The result could not be had: the SQS record fails, and SQS tries again (then the DLQ). */
export class ResultFetchFailed extends Error {
  override readonly name = "ResultFetchFailed";
}

/** The absolute URL of a result, if it is under Django's base URL; else ResultFetchFailed. */
export function resultUrlUnder(baseUrl: string, resultUrl: string): URL {
  const base = new URL(`${baseUrl.replace(/\/+$/, "")}/`);
  // A path ("/api/jobs/<id>/") is relative to the base URL; "//host/…" would name another host.
  let resolved: URL;
  try {
    resolved = resultUrl.startsWith("/") && !resultUrl.startsWith("//") ? new URL(base.href + resultUrl.slice(1)) : new URL(resultUrl);
  } catch {
    throw new ResultFetchFailed("result_url is not a URL");
  }
  if (resolved.origin !== base.origin || !resolved.href.startsWith(base.href) || resolved.username !== "" || resolved.password !== "") {
    throw new ResultFetchFailed("result_url is not under API_BASE_URL: the credential is not sent there");
  }
  return resolved;
}

export interface ResultFetchOptions {
  baseUrl: string;
  token: string;
  timeoutMs?: number;
}

/** GETs the job and returns its `result` field. */
export async function fetchJobResult(resultUrl: string, options: ResultFetchOptions): Promise<unknown> {
  const url = resultUrlUnder(options.baseUrl, resultUrl);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${options.token}`, accept: "application/json" },
      // A redirect could lead the credential elsewhere.
      redirect: "error",
      signal: AbortSignal.timeout(options.timeoutMs ?? RESULT_FETCH_TIMEOUT_MS),
    });
  } catch (error) {
    throw new ResultFetchFailed(`GET ${url.pathname} failed: ${error instanceof Error ? error.name : "error"}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new ResultFetchFailed(`GET ${url.pathname} answered ${String(response.status)}`);
  }
  let job: unknown;
  try {
    job = await response.json();
  } catch {
    throw new ResultFetchFailed(`GET ${url.pathname} did not answer JSON`);
  }
  if (typeof job !== "object" || job === null || !("result" in job)) {
    throw new ResultFetchFailed(`GET ${url.pathname} answered no result field`);
  }
  return job.result;
}
