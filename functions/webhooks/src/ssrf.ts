/**
 * Which URLs a webhook may be sent to (server-side request forgery rules). A receiver's URL is
 * chosen by a user, so without these rules the service would POST, from inside the VPC or the
 * Lambda network, to whatever the user names: the instance metadata service (169.254.169.254),
 * the local stack, a private database's HTTP port.
 *
 * Accepted: `https:` URLs without userinfo whose host resolves, every address of it, to public
 * unicast addresses. Refused: everything else, unless the URL matches an allow-list pattern
 * (WEBHOOKS_ALLOWED_URLS, for the local stage only). The same check runs at creation and, through
 * `guardedLookup`, on the address a delivery actually connects to (no DNS-rebinding gap).
 */
import { lookup as dnsLookup } from "node:dns";
import { lookup as dnsLookupAll } from "node:dns/promises";
import type { LookupAddress, LookupOptions } from "node:dns";

import ipaddr from "ipaddr.js";

export type UrlRefusal =
  | "invalid_url"
  | "scheme_not_allowed"
  | "userinfo_not_allowed"
  | "host_not_allowed"
  | "address_not_allowed"
  | "unresolvable";

export type UrlVerdict = { ok: true; url: URL; allowListed: boolean } | { ok: false; reason: UrlRefusal };

/** One WEBHOOKS_ALLOWED_URLS pattern: `scheme://host:port`, where port may be `*`. */
export interface AllowedUrlPattern {
  protocol: string;
  hostname: string;
  /** The port as URL.port spells it ("" for the scheme's default), or null for any. */
  port: string | null;
}

/** Resolves a host name to all of its addresses. */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookupAll(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

const PATTERN = /^(https?):\/\/([^/:*?#@]+|\[[0-9a-fA-F:.]+\]):(\*|[0-9]{1,5})\/?$/;

/** The patterns of WEBHOOKS_ALLOWED_URLS (comma-separated, e.g. `http://127.0.0.1:*`); empty → none. */
export function parseAllowedUrls(spec: string | undefined): AllowedUrlPattern[] {
  if (spec === undefined) return [];
  return spec
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const match = PATTERN.exec(part);
      if (match === null) throw new RangeError(`WEBHOOKS_ALLOWED_URLS: ${part} is not scheme://host:port (port may be *)`);
      const [, protocol = "", host = "", port = ""] = match;
      // Normalise the host and port the way URL does, so the comparison is exact.
      const parsed = new URL(`${protocol}://${host}:${port === "*" ? "1" : port}/`);
      return { protocol: parsed.protocol, hostname: parsed.hostname, port: port === "*" ? null : parsed.port };
    });
}

export function matchesAllowed(url: URL, patterns: readonly AllowedUrlPattern[]): boolean {
  return patterns.some(
    (pattern) =>
      url.protocol === pattern.protocol && url.hostname === pattern.hostname && (pattern.port === null || url.port === pattern.port),
  );
}

/**
 * Public unicast only. ipaddr.js names every special range (private, loopback, link-local,
 * unique-local, multicast, reserved, carrier-grade NAT, 6to4, Teredo, NAT64…); only what is in none
 * of them is "unicast". An IPv4-mapped IPv6 address is judged as the IPv4 address it maps.
 */
export function isPublicAddress(address: string): boolean {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(bare)) return false;
  const parsed = ipaddr.parse(bare);
  // A zone (fe80::1%eth0) only exists on a local link.
  if (parsed instanceof ipaddr.IPv6 && parsed.zoneId !== undefined) return false;
  const judged = parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() ? parsed.toIPv4Address() : parsed;
  return judged.range() === "unicast";
}

function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost") || name === "";
}

function ipLiteral(hostname: string): string | null {
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(bare) ? bare : null;
}

/**
 * The URL's form alone: parsed, a scheme we send to, no userinfo, not a local name. Returns the URL
 * and whether an allow-list pattern admits it (then nothing else is checked).
 */
export function checkUrlForm(raw: string, allowed: readonly AllowedUrlPattern[]): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "invalid_url" };
  }
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "userinfo_not_allowed" };
  if (matchesAllowed(url, allowed)) return { ok: true, url, allowListed: true };
  if (url.protocol !== "https:") return { ok: false, reason: "scheme_not_allowed" };
  if (isLocalName(url.hostname)) return { ok: false, reason: "host_not_allowed" };
  return { ok: true, url, allowListed: false };
}

/** The whole check: the URL's form, then every address its host resolves to. */
export async function checkWebhookUrl(
  raw: string,
  options: { allowed: readonly AllowedUrlPattern[]; resolve?: Resolver },
): Promise<UrlVerdict> {
  const verdict = checkUrlForm(raw, options.allowed);
  if (!verdict.ok || verdict.allowListed) return verdict;
  const literal = ipLiteral(verdict.url.hostname);
  let addresses: string[];
  if (literal === null) {
    try {
      addresses = await (options.resolve ?? systemResolver)(verdict.url.hostname);
    } catch {
      return { ok: false, reason: "unresolvable" };
    }
  } else {
    addresses = [literal];
  }
  if (addresses.length === 0) return { ok: false, reason: "unresolvable" };
  return addresses.every(isPublicAddress) ? verdict : { ok: false, reason: "address_not_allowed" };
}

/** The error a guarded lookup fails a connection with; `code` lets the caller name the refusal. */
export class AddressNotAllowed extends Error {
  override readonly name = "AddressNotAllowed";
  readonly code = "EADDRNOTALLOWED";
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http(s) that refuses to connect unless every address of the host is public.
 * The addresses checked are the ones the socket connects to, so a name that resolved to a public
 * address at creation and to a private one now is refused now.
 */
export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true, verbatim: true }, (error, addresses) => {
    if (error !== null) {
      callback(error, []);
      return;
    }
    if (addresses.length === 0 || !addresses.every((entry) => isPublicAddress(entry.address))) {
      callback(new AddressNotAllowed(`${hostname} resolves to an address that is not public`), []);
      return;
    }
    if (options.all === true) {
      callback(null, addresses);
      return;
    }
    const [first] = addresses;
    if (first === undefined) callback(new AddressNotAllowed(`${hostname} has no address`), []);
    else callback(null, first.address, first.family);
  });
}
