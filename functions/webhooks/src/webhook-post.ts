/**
 * One attempt: a signed POST to a receiver, with node:http(s) so that the address connected to is
 * checked (ssrf.ts's guardedLookup), redirects are never followed (a 3xx is a failure), the whole
 * attempt has one deadline, and at most 64 KiB of the answer is read. Keep-alive agents, one per
 * scheme per process, reuse connections to the same receiver across attempts.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

import { signedHeaders } from "./signature.js";
import { checkUrlForm, guardedLookup, isPublicAddress, type AllowedUrlPattern } from "./ssrf.js";

export const ATTEMPT_TIMEOUT_MS = 5_000;
export const MAX_RESPONSE_BYTES = 64 * 1024;
export const USER_AGENT = "polyglot-webhooks/1";

// Bounded so one slow receiver cannot hold every socket of the process.
const MAX_SOCKETS_PER_HOST = 32;
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST });

export interface AttemptOutcome {
  /** The receiver's status, or null when there was no answer. */
  statusCode: number | null;
  latencyMs: number;
  /** null on success; else a stable word: "timeout", "connection_refused", "address_not_allowed", "http_500", … */
  error: string | null;
}

export interface SignedPost {
  url: string;
  secret: string;
  messageId: string;
  /** The exact JSON sent and signed. */
  body: string;
  allowed: readonly AllowedUrlPattern[];
  now?: Date;
  timeoutMs?: number | undefined;
}

function errorWord(error: unknown): string {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  switch (code) {
    case "EADDRNOTALLOWED":
      return "address_not_allowed";
    case "ECONNREFUSED":
      return "connection_refused";
    case "ECONNRESET":
    case "EPIPE":
      return "connection_reset";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "dns_failure";
    case "ETIMEDOUT":
    case "ATTEMPT_TIMEOUT":
      return "timeout";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "unreachable";
    default:
      return code.startsWith("ERR_TLS") || code.includes("CERT") ? "tls_error" : "connection_error";
  }
}

/** Reads at most `limit` bytes of the answer, then stops (a receiver cannot make us buffer a gigabyte). */
function drain(response: IncomingMessage, limit: number): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    response.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        response.destroy();
        resolve();
      }
    });
    response.on("end", resolve);
    response.on("close", resolve);
    response.on("error", () => { resolve(); });
  });
}

/** Signs and POSTs one message; never throws: every failure is an outcome with an error word. */
export async function postSigned(post: SignedPost): Promise<AttemptOutcome> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const form = checkUrlForm(post.url, post.allowed);
  if (!form.ok) return { statusCode: null, latencyMs: elapsed(), error: "address_not_allowed" };
  const { url, allowListed } = form;
  // An IP literal is never looked up (node connects to it directly): check it here instead.
  const hostIsLiteral = /^[0-9.]+$|^\[.*\]$/.test(url.hostname);
  if (!allowListed && hostIsLiteral && !isPublicAddress(url.hostname)) {
    return { statusCode: null, latencyMs: elapsed(), error: "address_not_allowed" };
  }
  const headers = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "content-length": String(Buffer.byteLength(post.body)),
    ...signedHeaders({ secret: post.secret, id: post.messageId, timestamp: post.now ?? new Date(), body: post.body }),
  };
  const isHttps = url.protocol === "https:";
  const request = isHttps ? httpsRequest : httpRequest;
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<AttemptOutcome, "latencyMs">): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ ...outcome, latencyMs: elapsed() });
    };
    const req = request(
      url,
      {
        method: "POST",
        headers,
        agent: isHttps ? httpsAgent : httpAgent,
        ...(allowListed ? {} : { lookup: guardedLookup }),
      },
      (response) => {
        const statusCode = response.statusCode ?? 0;
        void drain(response, MAX_RESPONSE_BYTES).then(() => {
          const ok = statusCode >= 200 && statusCode < 300;
          finish({ statusCode, error: ok ? null : `http_${String(statusCode)}` });
        });
      },
    );
    // One deadline for the whole attempt: connect, send, answer and the bytes we read of it.
    const deadline = setTimeout(() => {
      finish({ statusCode: null, error: "timeout" });
      req.destroy(Object.assign(new Error("attempt timed out"), { code: "ATTEMPT_TIMEOUT" }));
    }, post.timeoutMs ?? ATTEMPT_TIMEOUT_MS);
    req.on("error", (error) => {
      finish({ statusCode: null, error: errorWord(error) });
    });
    req.end(post.body);
  });
}
