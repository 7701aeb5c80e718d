// jobs-client.js: follow one job live, over the WebSocket API when it can, by polling when it cannot.
//
// A small, dependency-free ES module. The protocol is in docs/protocol.md. In short:
//   1. POST /api/ws/tickets/ {"jobs": [id]} (session cookie + CSRF header) → a single-use ticket.
//   2. new WebSocket(`${websocket_url}?ticket=…`); on open send {"action":"subscribe","topic":"job:<id>"}.
//   3. After "subscribed", GET /api/jobs/<id>/ once, so a job that finished before the subscription
//      is never missed; then apply pushed events. Every state carries `seq`: anything with a seq lower
//      than or equal to the one shown is a duplicate or out of order, and is dropped.
//   4. Ping every 5 minutes (API Gateway closes a socket idle for 10); reconnect with backoff and a
//      fresh ticket (tickets work once); after repeated failures, poll GET /api/jobs/<id>/ with
//      If-None-Match until the job is terminal, trying the WebSocket again now and then.
//
// Usage:
//   import { watchJob } from "/static/web/jobs-client.js";
//   const watch = watchJob(jobId, { onJob: (job) => render(job), onTransport: (t) => badge(t) });
//   watch.transport; // "connecting" | "websocket" | "polling" | "closed"
//   watch.stop();

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const PING_MS = 5 * 60 * 1000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 16000, 30000];
const FAILURES_BEFORE_POLLING = 3;
const POLL_MS = [1000, 2000, 3000, 5000, 10000];
const RETRY_WEBSOCKET_AFTER_MS = 2 * 60 * 1000;
// An open socket that never confirms the subscription is as good as none (a proxy that accepts and
// then drops frames): give up on it and count it as a failed attempt.
const SUBSCRIBE_TIMEOUT_MS = 10 * 1000;

export function csrfToken(cookies = globalThis.document ? document.cookie : "") {
  const match = cookies.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// Is `incoming` newer than `current`? The only ordering rule of the protocol.
export function isNewer(current, incoming) {
  return incoming != null && (current == null || Number(incoming.seq) > Number(current.seq));
}

function jitter(ms) {
  return ms / 2 + Math.random() * (ms / 2);
}

export function watchJob(jobId, options = {}) {
  const {
    onJob = () => {},
    onTransport = () => {},
    onError = () => {},
    apiBase = "",
    fetchImpl = globalThis.fetch.bind(globalThis),
    WebSocketImpl = globalThis.WebSocket,
    timers = globalThis,
  } = options;
  const topic = `job:${jobId}`;
  const jobUrl = `${apiBase}/api/jobs/${encodeURIComponent(jobId)}/`;
  const state = { job: null, transport: "connecting", stopped: false };
  let socket = null;
  let pingTimer = null;
  let retryTimer = null;
  let pollTimer = null;
  let subscribeTimer = null;
  let confirmed = false; // the current socket's subscription was acknowledged
  let failures = 0;
  let etag = null;

  function setTransport(transport) {
    if (state.transport !== transport) {
      state.transport = transport;
      onTransport(transport);
    }
  }

  function apply(job) {
    if (!isNewer(state.job, job)) return; // a duplicate (at-least-once delivery) or stale
    state.job = job;
    onJob(job);
    if (TERMINAL.has(job.status)) stop("closed");
  }

  async function fetchJob({ conditional = false } = {}) {
    const headers = { Accept: "application/json" };
    if (conditional && etag) headers["If-None-Match"] = etag;
    const response = await fetchImpl(jobUrl, { credentials: "same-origin", headers });
    if (response.status === 304) return null;
    if (!response.ok) throw new Error(`GET ${jobUrl}: HTTP ${response.status}`);
    etag = response.headers.get("ETag") || etag;
    return response.json();
  }

  async function refresh() {
    try {
      const job = await fetchJob();
      if (job) apply(job);
    } catch (error) {
      onError(error);
    }
  }

  // -- WebSocket -------------------------------------------------------------------------------

  async function ticket() {
    const response = await fetchImpl(`${apiBase}/api/ws/tickets/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ jobs: [jobId] }),
    });
    if (!response.ok) throw new Error(`POST /api/ws/tickets/: HTTP ${response.status}`);
    return response.json(); // {ticket, expires_in, topics, websocket_url}
  }

  async function connect() {
    if (state.stopped) return;
    if (!WebSocketImpl) return poll();
    setTransport(state.transport === "polling" ? "polling" : "connecting");
    let granted;
    try {
      granted = await ticket();
    } catch (error) {
      onError(error);
      return retry();
    }
    if (!granted.websocket_url) return poll(); // this deployment has no WebSocket API
    confirmed = false;
    const url = `${granted.websocket_url}${granted.websocket_url.includes("?") ? "&" : "?"}ticket=${encodeURIComponent(granted.ticket)}`;
    try {
      socket = new WebSocketImpl(url);
    } catch (error) {
      onError(error);
      return retry();
    }
    socket.onopen = () => {
      socket.send(JSON.stringify({ action: "subscribe", topic }));
      subscribeTimer = timers.setTimeout(() => {
        closeSocket();
        retry();
      }, SUBSCRIBE_TIMEOUT_MS);
      pingTimer = timers.setInterval(() => send({ action: "ping" }), PING_MS);
    };
    socket.onmessage = (message) => receive(message.data);
    socket.onclose = () => {
      timers.clearInterval(pingTimer);
      socket = null;
      if (state.stopped) return;
      timers.clearTimeout(subscribeTimer);
      if (confirmed) failures = 0; // it worked once: reconnect quickly
      retry();
    };
    socket.onerror = () => {}; // always followed by onclose
  }

  function send(message) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(message));
  }

  function receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "subscribed" && message.topic === topic) {
      timers.clearTimeout(subscribeTimer);
      confirmed = true; // only a confirmed subscription counts as a working connection
      failures = 0;
      stopPolling();
      setTransport("websocket");
      refresh(); // subscribe first, then read: nothing can fall between the two
    } else if (message.type === "event" && message.event && message.event.job_id === jobId) {
      const event = message.event;
      if (event.result_url && event.result == null && TERMINAL.has(event.status)) {
        refresh(); // too large to push (128 KB): fetch the job, result included
      } else {
        apply(event);
      }
    } else if (message.type === "error") {
      onError(new Error(`${message.code}: ${message.message}`));
      if (message.code === "topic_not_granted" || message.code === "grant_invalid") {
        closeSocket();
        poll(); // polling with the session always works
      } else if (message.code === "not_connected") {
        closeSocket(); // onclose reconnects with a new ticket
      } else if (message.code === "unavailable") {
        timers.setTimeout(() => send({ action: "subscribe", topic }), jitter(2000));
      }
    }
  }

  function retry() {
    if (state.stopped) return;
    failures += 1;
    if (failures >= FAILURES_BEFORE_POLLING && state.transport !== "polling") poll();
    const delay = state.transport === "polling" ? RETRY_WEBSOCKET_AFTER_MS : BACKOFF_MS[Math.min(failures - 1, BACKOFF_MS.length - 1)];
    timers.clearTimeout(retryTimer);
    retryTimer = timers.setTimeout(connect, jitter(delay));
  }

  function closeSocket() {
    if (socket) {
      const closing = socket;
      socket = null;
      closing.onclose = null;
      timers.clearInterval(pingTimer);
      timers.clearTimeout(subscribeTimer);
      closing.close();
    }
  }

  // -- polling ---------------------------------------------------------------------------------

  function poll() {
    if (state.stopped || pollTimer !== null) return;
    setTransport("polling");
    let round = 0;
    const tick = async () => {
      try {
        const job = await fetchJob({ conditional: true });
        if (job) apply(job);
      } catch (error) {
        onError(error);
      }
      if (state.stopped || pollTimer === null) return;
      round += 1;
      pollTimer = timers.setTimeout(tick, POLL_MS[Math.min(round, POLL_MS.length - 1)]);
    };
    pollTimer = timers.setTimeout(tick, 0);
    timers.clearTimeout(retryTimer);
    retryTimer = timers.setTimeout(connect, jitter(RETRY_WEBSOCKET_AFTER_MS));
  }

  function stopPolling() {
    if (pollTimer !== null) timers.clearTimeout(pollTimer);
    pollTimer = null;
  }

  function stop(transport = "closed") {
    state.stopped = true;
    stopPolling();
    timers.clearTimeout(retryTimer);
    closeSocket();
    setTransport(transport);
  }

  connect();
  return {
    get transport() {
      return state.transport;
    },
    get job() {
      return state.job;
    },
    stop: () => stop("closed"),
  };
}
