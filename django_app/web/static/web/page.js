// page.js: the job page. Submits tasks, follows jobs live through jobs-client.js, lists your jobs.
// Everything goes through the public API, as any other client would use it.
import { csrfToken, isNewer, watchJob } from "./jobs-client.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const MAX_WATCHES = 10; // one socket per followed job: keep the page polite
const tasks = JSON.parse(document.getElementById("tasks-data").textContent);
const jobs = new Map(); // id → latest known job state
const watches = new Map(); // id → watchJob handle
let currentId = null;

const $ = (id) => document.getElementById(id);

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  const response = await fetch(path, { method, headers, credentials: "same-origin", body: body && JSON.stringify(body) });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(data?.error?.message || `HTTP ${response.status}`);
    error.details = data?.error;
    throw error;
  }
  return data;
}

// -- the form, generated from each task's params JSON Schema ------------------------------------

function renderParams() {
  const task = tasks.find((t) => t.name === $("task").value);
  $("task-description").textContent = task?.description || "";
  const container = $("params");
  container.replaceChildren();
  const schema = task?.params_schema || { properties: {} };
  for (const [name, property] of Object.entries(schema.properties || {})) {
    const id = `param-${name}`;
    const label = Object.assign(document.createElement("label"), { htmlFor: id, textContent: property.title || name });
    let input;
    if (property.type === "integer" || property.type === "number") {
      input = Object.assign(document.createElement("input"), { type: "number", step: property.type === "integer" ? "1" : "any" });
      if (property.minimum !== undefined) input.min = property.minimum;
      if (property.maximum !== undefined) input.max = property.maximum;
    } else if ((property.maxLength || 0) > 200) {
      input = document.createElement("textarea");
      input.maxLength = property.maxLength;
    } else {
      input = Object.assign(document.createElement("input"), { type: "text" });
    }
    Object.assign(input, { id, name });
    input.dataset.kind = property.type;
    if (property.default !== undefined) input.value = property.default;
    if ((schema.required || []).includes(name)) input.required = true;
    const error = Object.assign(document.createElement("p"), { className: "field-error", id: `${id}-error` });
    input.setAttribute("aria-describedby", error.id);
    const hint = property.description ? Object.assign(document.createElement("p"), { className: "hint", textContent: property.description }) : null;
    container.append(label, input, ...(hint ? [hint] : []), error);
  }
}

function readParams() {
  const params = {};
  for (const input of $("params").querySelectorAll("input, textarea")) {
    if (input.value === "" && !input.required) continue;
    params[input.name] = input.dataset.kind === "integer" || input.dataset.kind === "number" ? Number(input.value) : input.value;
  }
  return params;
}

async function submit(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  for (const error of $("params").querySelectorAll(".field-error")) error.textContent = "";
  const button = event.submitter || $("submit-form").querySelector("button");
  button.disabled = true;
  try {
    const job = await api("/api/jobs/", { method: "POST", body: { task: $("task").value, params: readParams() } });
    showCurrent(job.id);
    update(job);
    follow(job.id);
  } catch (error) {
    $("form-error").textContent = error.message;
    for (const [field, messages] of Object.entries(error.details?.fields || {})) {
      const slot = document.getElementById(`param-${field}-error`);
      if (slot) slot.textContent = [].concat(messages).join(" ");
    }
  } finally {
    button.disabled = false;
  }
}

// -- live state ---------------------------------------------------------------------------------

function normalise(job) {
  return { ...job, id: job.id || job.job_id };
}

function update(incoming) {
  const job = normalise(incoming);
  const known = jobs.get(job.id);
  if (known && !isNewer(known, job)) return;
  jobs.set(job.id, { ...known, ...job });
  renderRow(jobs.get(job.id));
  if (job.id === currentId) renderCurrent(jobs.get(job.id));
}

function follow(id) {
  const existing = watches.get(id);
  if (existing && existing.transport !== "closed") return;
  if ([...watches.values()].filter((w) => w.transport !== "closed").length >= MAX_WATCHES) return;
  const watch = watchJob(id, { onJob: update, onTransport: renderTransport, onError: (error) => console.warn(error) });
  watches.set(id, watch);
}

function renderTransport() {
  const states = [...watches.values()].map((w) => w.transport);
  const transport = states.includes("websocket") ? "websocket" : states.includes("polling") ? "polling" : states.includes("connecting") ? "connecting" : "idle";
  const label = { websocket: "WebSocket", polling: "polling", connecting: "connecting…", idle: "idle" }[transport];
  const badge = $("transport");
  if (badge.dataset.transport !== transport) {
    badge.dataset.transport = transport;
    badge.textContent = `Live updates: ${label}`;
  }
}

// -- rendering ----------------------------------------------------------------------------------

function showCurrent(id) {
  currentId = id;
  $("current").hidden = false;
  $("current-id").textContent = id.slice(0, 8);
  $("current-outcome").hidden = true;
}

function renderCurrent(job) {
  $("current-status").textContent = job.status;
  $("current-status").className = `status status-${job.status}`;
  $("current-note").textContent = job.note || "";
  const progress = Number(job.progress || 0);
  $("current-progress").value = progress;
  $("current-progress").textContent = `${progress} %`;
  $("current-percent").textContent = String(progress);
  const terminal = TERMINAL.has(job.status);
  $("current-cancel").hidden = terminal;
  $("current-retry").hidden = !(job.status === "failed" || job.status === "cancelled");
  if (terminal) {
    $("current-outcome").hidden = false;
    $("outcome-title").textContent = job.status === "succeeded" ? "Result" : "Error";
    const outcome = job.status === "succeeded" ? job.result : job.error;
    $("current-result").textContent = outcome == null ? "(fetching…)" : JSON.stringify(outcome, null, 2);
    if (job.status === "succeeded" && job.result == null) refreshJob(job.id); // pushed without its result
  }
}

function renderRow(job) {
  let row = document.getElementById(`job-${job.id}`);
  if (!row) {
    row = document.createElement("tr");
    row.id = `job-${job.id}`;
    row.innerHTML = '<td class="task"></td><td class="status"></td><td class="progress"></td><td class="created"></td><td class="actions"></td>';
    const body = $("jobs-body");
    if (body.dataset.loaded !== "yes") {
      body.replaceChildren();
      body.dataset.loaded = "yes";
    }
    body.prepend(row);
  }
  row.querySelector(".task").textContent = job.task || "";
  const status = row.querySelector(".status");
  status.textContent = job.status;
  status.className = `status status-${job.status}`;
  row.querySelector(".progress").textContent = `${job.progress ?? 0} %`;
  if (job.created_at) row.querySelector(".created").textContent = new Date(job.created_at).toLocaleString();
  const actions = row.querySelector(".actions");
  actions.replaceChildren();
  if (!TERMINAL.has(job.status)) actions.append(actionButton(job, "cancel", "Cancel"));
  if (job.status === "failed" || job.status === "cancelled") actions.append(actionButton(job, "retry", "Retry"));
}

function actionButton(job, action, label) {
  const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
  button.setAttribute("aria-label", `${label} ${job.task} job ${job.id.slice(0, 8)}`);
  button.addEventListener("click", () => act(job.id, action));
  return button;
}

async function act(id, action) {
  try {
    const job = await api(`/api/jobs/${id}/${action}/`, { method: "POST" });
    update(job);
    if (action === "retry") {
      watches.get(id)?.stop();
      watches.delete(id);
      follow(id);
    }
  } catch (error) {
    $("form-error").textContent = error.message;
  }
}

async function refreshJob(id) {
  try {
    update(await api(`/api/jobs/${id}/`));
  } catch (error) {
    console.warn(error);
  }
}

async function loadJobs() {
  try {
    const page = await api("/api/jobs/?page_size=20");
    const body = $("jobs-body");
    body.replaceChildren();
    body.dataset.loaded = "yes";
    if (!page.results.length) {
      body.dataset.loaded = "no";
      messageRow("No jobs yet.");
    }
    for (const job of page.results.reverse()) {
      update(job);
      if (!TERMINAL.has(job.status)) follow(job.id);
    }
  } catch (error) {
    messageRow(`Could not load your jobs: ${error.message}`);
  }
}

function messageRow(text) {
  const cell = Object.assign(document.createElement("td"), { colSpan: 5, textContent: text });
  const row = document.createElement("tr");
  row.append(cell);
  $("jobs-body").replaceChildren(row);
}

$("task").addEventListener("change", renderParams);
$("submit-form").addEventListener("submit", submit);
$("current-cancel").addEventListener("click", () => currentId && act(currentId, "cancel"));
$("current-retry").addEventListener("click", () => currentId && act(currentId, "retry"));
renderParams();
loadJobs();
