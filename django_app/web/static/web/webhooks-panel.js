// webhooks-panel.js: the page's Webhooks panel. Add and delete endpoints, send a test event, follow
// deliveries and retry one. The page loads it only when WEBHOOKS_API_URL is set (the section's
// data-api-url); every call goes through webhooks-client.js. Text from the service is written with
// textContent only, never as HTML.
import { createWebhooksClient } from "./webhooks-client.js";

const ACTIVE = new Set(["pending", "retrying"]); // deliveries still moving: refresh them
const RETRYABLE = new Set(["failed", "retrying"]);
const POLL_MS = 2000;
const POLL_GIVE_UP_MS = 2 * 60 * 1000; // stop refreshing after this long without a change

const $ = (id) => document.getElementById(id);
const root = $("webhooks");

function element(tag, properties = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

function statusBadge(status, testid) {
  const badge = element("span", { className: `status status-${status}`, textContent: status });
  badge.dataset.testid = testid;
  return badge;
}

function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

if (root) start(root);

function start(section) {
  const client = createWebhooksClient({ baseUrl: section.dataset.apiUrl });
  let endpoints = [];
  let selected = null; // the endpoint whose deliveries are shown
  const poll = { timer: null, generation: 0, signature: "", changedAt: 0 };

  function showError(error) {
    $("webhooks-error").textContent = error ? error.message || String(error) : "";
  }

  function clearFieldErrors() {
    for (const slot of section.querySelectorAll("#webhook-form .field-error")) slot.textContent = "";
  }

  // -- endpoints ---------------------------------------------------------------------------------

  async function loadEndpoints() {
    try {
      const answer = await client.listEndpoints();
      endpoints = Array.isArray(answer?.endpoints) ? answer.endpoints : [];
      renderEndpoints();
    } catch (error) {
      showError(error);
      messageRow($("webhook-endpoints-body"), 4, "Could not load your endpoints.");
    }
  }

  function renderEndpoints() {
    const body = $("webhook-endpoints-body");
    if (!endpoints.length) return messageRow(body, 4, "No endpoints yet.");
    body.replaceChildren(...endpoints.map(endpointRow));
  }

  function endpointRow(endpoint) {
    const row = element("tr");
    row.dataset.testid = "endpoint-row";
    row.dataset.endpointId = endpoint.id;
    if (selected && selected.id === endpoint.id) row.classList.add("selected");
    const target = element("td", { className: "endpoint-url" }, element("code", { textContent: endpoint.url }));
    if (endpoint.description) target.append(element("p", { className: "hint", textContent: endpoint.description }));
    const events = element("td", { className: "event-types", textContent: (endpoint.event_types || []).join(", ") });
    const actions = element("td", { className: "actions" });
    actions.append(
      button("Send test", "send-test", `Send a test event to ${endpoint.url}`, () => sendTest(endpoint)),
      " ",
      button("Deliveries", "show-deliveries", `Deliveries to ${endpoint.url}`, () => select(endpoint)),
      " ",
      button("Delete", "delete-endpoint", `Delete the endpoint ${endpoint.url}`, () => remove(endpoint)),
    );
    row.append(target, element("td", {}, statusBadge(endpoint.status, "endpoint-status")), events, actions);
    return row;
  }

  function button(label, testid, ariaLabel, onClick) {
    const node = element("button", { type: "button", textContent: label });
    node.dataset.testid = testid;
    node.setAttribute("aria-label", ariaLabel);
    node.addEventListener("click", async () => {
      node.disabled = true;
      try {
        await onClick();
      } finally {
        node.disabled = false;
      }
    });
    return node;
  }

  async function add(event) {
    event.preventDefault();
    showError(null);
    clearFieldErrors();
    const url = $("webhook-url").value.trim();
    const description = $("webhook-description").value.trim();
    const eventTypes = [...section.querySelectorAll('input[name="event_types"]:checked')].map((box) => box.value);
    if (!url) return fieldErrors({ url: "Enter the URL that receives the events." });
    if (!eventTypes.length) return fieldErrors({ event_types: "Choose at least one event type." });
    const submit = $("webhook-add");
    submit.disabled = true;
    try {
      const created = await client.createEndpoint({ url, description, event_types: eventTypes });
      showSecret(created.secret);
      $("webhook-url").value = "";
      $("webhook-description").value = "";
      const { secret: _shownOnce, ...endpoint } = created; // the list never holds the secret
      endpoints = [endpoint, ...endpoints.filter((known) => known.id !== endpoint.id)];
      renderEndpoints();
    } catch (error) {
      showError(error);
      fieldErrors(error.fields || {});
    } finally {
      submit.disabled = false;
    }
  }

  function fieldErrors(fields) {
    for (const [field, messages] of Object.entries(fields)) {
      const slot = $(`webhook-${field}-error`);
      if (slot) slot.textContent = [].concat(messages).join(" ");
    }
    const first = Object.keys(fields)[0];
    if (first === "url" || first === "description") $(`webhook-${first}`).focus();
  }

  async function remove(endpoint) {
    if (!window.confirm(`Delete the endpoint ${endpoint.url}? Its pending deliveries stop.`)) return;
    showError(null);
    try {
      await client.deleteEndpoint(endpoint.id);
      endpoints = endpoints.filter((known) => known.id !== endpoint.id);
      if (selected && selected.id === endpoint.id) unselect();
      renderEndpoints();
    } catch (error) {
      showError(error);
    }
  }

  async function sendTest(endpoint) {
    showError(null);
    try {
      const answer = await client.sendTest(endpoint.id);
      await select(endpoint, { first: answer?.delivery });
    } catch (error) {
      showError(error);
    }
  }

  // -- the secret, shown once -------------------------------------------------------------------

  function showSecret(secret) {
    const box = $("webhook-secret-box");
    $("webhook-secret-status").textContent = "";
    if (!secret) {
      box.hidden = true;
      return;
    }
    $("webhook-secret").value = secret;
    box.hidden = false;
    $("webhook-secret").focus();
    $("webhook-secret").select();
  }

  async function copySecret() {
    const input = $("webhook-secret");
    let copied = false;
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      input.select(); // no clipboard API (an http origin, or permission refused): the old way
      copied = document.execCommand && document.execCommand("copy");
    }
    $("webhook-secret-status").textContent = copied ? "Copied." : "Select the secret and copy it yourself.";
  }

  function hideSecret() {
    $("webhook-secret").value = ""; // gone from the page, too
    $("webhook-secret-status").textContent = "";
    $("webhook-secret-box").hidden = true;
    $("webhook-url").focus();
  }

  // -- deliveries -------------------------------------------------------------------------------

  async function select(endpoint, { first } = {}) {
    selected = endpoint;
    for (const row of $("webhook-endpoints-body").querySelectorAll("tr")) {
      row.classList.toggle("selected", row.dataset.endpointId === endpoint.id);
    }
    $("webhook-deliveries").hidden = false;
    $("webhook-deliveries-endpoint").textContent = endpoint.url;
    poll.generation += 1;
    poll.signature = "";
    if (first) renderDeliveries([first]); // the test delivery, until the list comes back
    else messageRow($("webhook-deliveries-body"), 7, "Loading…");
    await loadDeliveries({ first });
  }

  function unselect() {
    selected = null;
    poll.generation += 1;
    clearTimeout(poll.timer);
    $("webhook-deliveries").hidden = true;
    $("webhook-deliveries-body").replaceChildren();
    $("webhook-deliveries-live").textContent = "";
  }

  async function loadDeliveries({ first } = {}) {
    if (!selected) return;
    const generation = poll.generation;
    clearTimeout(poll.timer);
    let deliveries;
    try {
      const answer = await client.listDeliveries(selected.id, { limit: 20 });
      deliveries = Array.isArray(answer?.deliveries) ? answer.deliveries : [];
    } catch (error) {
      if (generation !== poll.generation) return;
      showError(error);
      $("webhook-deliveries-live").textContent = "Not refreshing: press Deliveries to try again.";
      return;
    }
    if (generation !== poll.generation) return; // another endpoint was chosen meanwhile
    if (first && !deliveries.some((known) => known.id === first.id)) deliveries.unshift(first);
    renderDeliveries(deliveries);
    const signature = JSON.stringify(deliveries.map((d) => [d.id, d.status, d.attempt_count, d.next_attempt_at]));
    if (signature !== poll.signature) {
      poll.signature = signature;
      poll.changedAt = Date.now();
    }
    const live = $("webhook-deliveries-live");
    if (!deliveries.some((d) => ACTIVE.has(d.status))) {
      live.textContent = "";
    } else if (Date.now() - poll.changedAt < POLL_GIVE_UP_MS) {
      live.textContent = "Refreshing every 2 s while deliveries are pending or retrying.";
      poll.timer = setTimeout(() => loadDeliveries(), POLL_MS);
    } else {
      live.textContent = "Stopped refreshing after 2 minutes without a change: press Deliveries to refresh.";
    }
  }

  function renderDeliveries(deliveries) {
    const body = $("webhook-deliveries-body");
    if (!deliveries.length) return messageRow(body, 7, "No deliveries yet.");
    body.replaceChildren(...deliveries.map(deliveryRow));
  }

  function deliveryRow(delivery) {
    const row = element("tr");
    row.dataset.testid = "delivery-row";
    row.dataset.deliveryId = delivery.id;
    const attempts = Array.isArray(delivery.attempts) ? delivery.attempts : [];
    const last = attempts.at(-1);
    const code = last ? (last.status_code ?? last.error ?? "—") : "—";
    const codeCell = element("td", { className: "status-code", textContent: String(code) });
    if (last?.error) codeCell.title = String(last.error);
    const latency = last && last.latency_ms != null ? `${last.latency_ms} ms` : "—";
    const nextRetry = ACTIVE.has(delivery.status) ? when(delivery.next_attempt_at) : "—";
    const actions = element("td", { className: "actions" });
    if (RETRYABLE.has(delivery.status)) {
      actions.append(button("Retry", "retry-delivery", `Retry the ${delivery.event_type} delivery ${delivery.id}`, () => retry(delivery)));
    }
    row.append(
      element("td", { className: "event-type" }, element("code", { textContent: delivery.event_type || "" })),
      element("td", {}, statusBadge(delivery.status, "delivery-status")),
      element("td", { className: "attempts", textContent: String(delivery.attempt_count ?? attempts.length) }),
      codeCell,
      element("td", { className: "latency", textContent: latency }),
      element("td", { className: "next-retry", textContent: nextRetry }),
      actions,
    );
    return row;
  }

  async function retry(delivery) {
    showError(null);
    try {
      const answer = await client.retryDelivery(delivery.id);
      if (!selected) return;
      poll.signature = ""; // a new attempt: follow it again for up to 2 minutes
      await loadDeliveries({ first: answer?.delivery });
    } catch (error) {
      showError(error);
    }
  }

  function messageRow(body, columns, text) {
    body.replaceChildren(element("tr", {}, element("td", { colSpan: columns, textContent: text })));
  }

  $("webhook-form").addEventListener("submit", add);
  $("webhook-secret-copy").addEventListener("click", copySecret);
  $("webhook-secret-dismiss").addEventListener("click", hideSecret);
  loadEndpoints();
}
