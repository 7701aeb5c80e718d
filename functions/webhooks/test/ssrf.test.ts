// The SSRF rules: under a deployed stage's config (empty allow-list) every private target is
// refused, at creation (checkWebhookUrl) and at delivery (postSigned); the local allow-list admits
// http://127.0.0.1:<port>.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import { AddressNotAllowed, checkWebhookUrl, guardedLookup, isPublicAddress, parseAllowedUrls, type Resolver } from "../src/ssrf.js";
import { postSigned } from "../src/webhook-post.js";

const DEPLOYED = parseAllowedUrls("");
const LOCAL = parseAllowedUrls("http://127.0.0.1:*");
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
// A resolver that must not be reached: every case below is refused before any lookup, or injected.
const noDns: Resolver = () => Promise.reject(new Error("no DNS in unit tests"));

describe("refused with an empty allow-list (deployed stages)", () => {
  const cases: [string, string][] = [
    ["http://10.0.0.1/", "scheme_not_allowed"],
    ["https://10.0.0.1/", "address_not_allowed"],
    ["http://169.254.169.254/", "scheme_not_allowed"],
    ["https://169.254.169.254/latest/meta-data/", "address_not_allowed"],
    ["https://localhost/", "host_not_allowed"],
    ["https://api.localhost/", "host_not_allowed"],
    ["https://[::1]/", "address_not_allowed"],
    ["https://[::ffff:10.0.0.1]/", "address_not_allowed"],
    ["https://[fd00::1]/", "address_not_allowed"],
    ["https://[64:ff9b::a00:1]/", "address_not_allowed"],
    ["https://0x7f.1/", "address_not_allowed"],
    ["file:///etc/passwd", "scheme_not_allowed"],
    ["https://user:pass@example.com/", "userinfo_not_allowed"],
    ["not a url", "invalid_url"],
  ];
  for (const [url, reason] of cases) {
    test(`${url}: ${reason}`, async () => {
      assert.deepEqual(await checkWebhookUrl(url, { allowed: DEPLOYED, resolve: noDns }), { ok: false, reason });
    });
  }

  test("a host name resolving to a private address (even one of several) is refused", async () => {
    const resolve: Resolver = (host) => Promise.resolve(host === "internal.example" ? ["93.184.215.14", "10.1.2.3"] : []);
    assert.deepEqual(await checkWebhookUrl("https://internal.example/hook", { allowed: DEPLOYED, resolve }), {
      ok: false,
      reason: "address_not_allowed",
    });
    assert.deepEqual(await checkWebhookUrl("https://nowhere.example/", { allowed: DEPLOYED, resolve }), { ok: false, reason: "unresolvable" });
  });

  test("a host name resolving only to public addresses is accepted, on any port", async () => {
    const resolve: Resolver = () => Promise.resolve(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]);
    const verdict = await checkWebhookUrl("https://hooks.example:8443/in", { allowed: DEPLOYED, resolve });
    assert.ok(verdict.ok);
    assert.equal(verdict.allowListed, false);
  });

  test("the local allow-list does not admit https://127.0.0.1 or another host", async () => {
    assert.equal((await checkWebhookUrl("https://127.0.0.1:8443/", { allowed: LOCAL, resolve: noDns })).ok, false);
    assert.equal((await checkWebhookUrl("http://127.0.0.2:8000/", { allowed: LOCAL, resolve: noDns })).ok, false);
  });
});

test("isPublicAddress: public unicast only", () => {
  for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700::1111"]) assert.ok(isPublicAddress(address), address);
  for (const address of [
    "10.0.0.1", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
    "255.255.255.255", "::", "::1", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2001:db8::1", "nonsense",
  ]) {
    assert.equal(isPublicAddress(address), false, address);
  }
});

test("allow-list patterns: scheme://host:port, port * for any; anything else is a configuration error", () => {
  assert.deepEqual(parseAllowedUrls("http://127.0.0.1:*, http://localhost:8000"), [
    { protocol: "http:", hostname: "127.0.0.1", port: null },
    { protocol: "http:", hostname: "localhost", port: "8000" },
  ]);
  for (const bad of ["127.0.0.1", "http://127.0.0.1", "http://*:*", "ftp://x:1"]) assert.throws(() => parseAllowedUrls(bad), RangeError, bad);
});

describe("at delivery time", () => {
  let receiver: Server;
  let port = 0;
  let hits = 0;
  let redirectTargetHits = 0;

  before(async () => {
    receiver = createServer((request, response) => {
      request.resume();
      if (request.url === "/private-target") {
        redirectTargetHits += 1;
        response.writeHead(200).end();
        return;
      }
      hits += 1;
      response.writeHead(302, { location: "http://10.0.0.1/private-target" }).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => receiver.close(() => { resolve(); })));

  test("http://127.0.0.1:<port> is accepted with the local allow-list", async () => {
    const verdict = await checkWebhookUrl(`http://127.0.0.1:${String(port)}/hook`, { allowed: LOCAL, resolve: noDns });
    assert.ok(verdict.ok && verdict.allowListed);
  });

  test("a redirect to a private address fails the attempt and is not followed", async () => {
    const outcome = await postSigned({ url: `http://127.0.0.1:${String(port)}/hook`, secret: SECRET, messageId: "msg_1", body: "{}", allowed: LOCAL });
    assert.equal(outcome.statusCode, 302);
    assert.equal(outcome.error, "http_302");
    assert.equal(hits, 1);
    assert.equal(redirectTargetHits, 0);
  });

  test("the same receiver under a deployed config is never contacted", async () => {
    const before = hits;
    for (const url of [`http://127.0.0.1:${String(port)}/hook`, `https://127.0.0.1:${String(port)}/hook`, `https://[::1]:${String(port)}/`]) {
      const outcome = await postSigned({ url, secret: SECRET, messageId: "msg_1", body: "{}", allowed: DEPLOYED });
      assert.deepEqual([outcome.statusCode, outcome.error], [null, "address_not_allowed"], url);
    }
    // A local name is refused before any lookup.
    const outcome = await postSigned({ url: `https://localhost.:${String(port)}/`, secret: SECRET, messageId: "msg_1", body: "{}", allowed: DEPLOYED });
    assert.equal(outcome.error, "address_not_allowed");
    assert.equal(hits, before);
  });
});

test("the connect-time lookup refuses a name that resolves to loopback (no DNS-rebinding gap)", async () => {
  const error = await new Promise<unknown>((resolve) => {
    guardedLookup("localhost", {}, (failure) => { resolve(failure); });
  });
  assert.ok(error instanceof AddressNotAllowed, String(error));
});
