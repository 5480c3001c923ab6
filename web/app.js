"use strict";
// oO's page: one tip on black. Reactions, "why this tip", a small settings sheet, and the
// last tip when offline. Vanilla, no build step.
const $ = (id) => document.getElementById(id);
const tipBox = $("tip");
const tipText = $("tip-text");
const aside = $("aside");
const reactions = $("reactions");
const LAST = "oo:last"; // the last outcome, for a page that loses the network
const NO_KEYS = "oo:no-shortcuts"; // set when the person turned single-key shortcuts off
const TIP_CACHE = "oo-tip"; // the service worker's cache of the last GET /api/tip
const KEYS = { d: "done", l: "like", n: "not_now", x: "not_for_me" };
const THANKS = { done: "Done. Nicely.", not_now: "Later, then.", not_for_me: "Fewer like this." };
const CONSENTS = { "todoist.read": "My Todoist tasks" };
let current = null; // the tip on screen
let busy = false;
let profile = null;
// Bumped when this page forgets the person: an answer asked for before then is dropped.
let epoch = 0;

function api(path, method = "GET", body = undefined) {
  const init = { method, credentials: "same-origin" };
  if (method !== "GET") {
    // The server refuses writes that are not JSON (415): every write carries a JSON body.
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body ?? {});
  }
  return fetch(path, init);
}

// The tip has been on its way since the page's head (a preload, fetched beside the styles and
// this script); this request picks that response up instead of starting another one.
const early = api("/api/tip");
early.catch(() => {});

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function link(text, href) {
  const a = el("a", text);
  a.href = href;
  return a;
}

let noteTimer = 0;
function note(text) {
  $("note").textContent = text;
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => ($("note").textContent = ""), 4000);
}

// --- Rendering: every state goes through here, so the layout never changes shape. ---

function render(text, state, { tip = null, extra = null, offline = false } = {}) {
  current = tip;
  tipText.textContent = text;
  tipBox.dataset.state = state;
  document.body.dataset.state = offline ? "offline" : state;
  reactions.inert = !tip || offline;
  $("like").setAttribute("aria-pressed", "false");
  aside.replaceChildren(...(extra ? [extra] : []));
  $("offline").classList.toggle("on", offline);
  if (tip) markPainted();
}

function markPainted() {
  if (performance.getEntriesByName("oo:tip-rendered").length) return;
  // Right after the frame that paints the tip: the page's own "first tip" figure.
  requestAnimationFrame(() => setTimeout(() => performance.mark("oo:tip-rendered")));
}

function waiting() {
  tipBox.dataset.state = "loading";
  document.body.dataset.state = "loading";
  reactions.inert = true;
}

const clock = (date) => date.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
const dayStart = (date) => new Date(date.getFullYear(), date.getMonth(), date.getDate());

function nothingNow(iso) {
  if (!iso) return "Nothing now.";
  const at = new Date(iso);
  const days = Math.round((dayStart(at) - dayStart(new Date())) / 864e5);
  const weekday = at.toLocaleDateString([], { weekday: "long" });
  const day = days <= 0 ? "" : days === 1 ? " tomorrow" : ` on ${weekday}`;
  return `Nothing now — next tip around ${clock(at)}${day}`;
}

function forget() {
  epoch++;
  clearTimeout(retry);
  current = null;
  profile = null;
  try {
    localStorage.removeItem(LAST);
  } catch {}
  // The service worker drops a tip still on its way (it would cache it after this delete).
  navigator.serviceWorker?.controller?.postMessage("forget");
  if ("caches" in window) caches.delete(TIP_CACHE).catch(() => {});
}

function signedOut(text = "Sign in to see your tip.") {
  forget();
  render(text, "quiet", { extra: link("Sign in", "/auth/login") });
}

function showOffline(outcome) {
  if (!outcome) {
    try {
      outcome = JSON.parse(localStorage.getItem(LAST));
    } catch {}
  }
  const tip = outcome?.tip;
  if (tip) return render(tip.text, "tip", { tip, offline: true });
  render("Offline. Your tip will be back when you are.", "quiet", { offline: true });
}

function showOutcome(outcome) {
  if (outcome.tip) return render(outcome.tip.text, "tip", { tip: outcome.tip });
  render(nothingNow(outcome.next_tip_at), "quiet");
  offerTodoist();
}

// Nothing to say and no Todoist to learn from: say where the tips would come from.
async function offerTodoist() {
  const at = epoch;
  const found = await loadProfile();
  if (at !== epoch) return;
  if (!found?.integrations || current) return;
  const offer = todoistLink(found.integrations.todoist);
  if (offer) aside.replaceChildren(offer);
}

function todoistLink(state) {
  if (state === "active") return null;
  return link(state ? "Reconnect Todoist" : "Connect Todoist", "/integrations/todoist/connect");
}

// --- Talking to the API ---

let retry = 0;
async function loadTip(attempt = 0, pending = null) {
  clearTimeout(retry);
  const at = epoch;
  let res;
  try {
    res = await (pending || api("/api/tip"));
  } catch {
    return at === epoch && showOffline(null);
  }
  if (at !== epoch) return; // signed out meanwhile: this answer is nobody's now
  // The service worker answers from its cache, and says so, when the network is gone.
  if (res.headers.has("X-OO-Offline")) {
    const last = res.ok ? await res.json() : null;
    return at === epoch && showOffline(last);
  }
  if (res.status === 401) return signedOut();
  if (res.status === 503 && attempt < 10) {
    const wait = Number(res.headers.get("Retry-After")) || 2;
    retry = setTimeout(() => loadTip(attempt + 1), wait * 1000);
    return;
  }
  if (!res.ok) return render("Nothing now. Try again in a moment.", "quiet");
  const outcome = await res.json();
  if (at !== epoch) return;
  try {
    localStorage.setItem(LAST, JSON.stringify(outcome));
  } catch {}
  showOutcome(outcome);
}

async function loadProfile() {
  const at = epoch;
  try {
    const res = await api("/api/profile");
    if (at !== epoch) return null;
    if (res.status === 401) signedOut();
    const found = res.ok ? await res.json() : null;
    return at === epoch && found ? (profile = found) : null;
  } catch {
    return null;
  }
}

async function loginFromFragment() {
  const match = location.hash.match(/^#login=([A-Za-z0-9_-]+)$/);
  if (!match) return true;
  // The token lives in the fragment so that it never reaches a server log; drop it at once.
  history.replaceState(null, "", location.pathname);
  try {
    const res = await api("/api/auth/dev-login", "POST", { token: match[1] });
    if (res.ok) return true;
  } catch {}
  signedOut("This login link is used or expired.");
  return false;
}

function connectedNote() {
  const params = new URLSearchParams(location.search);
  const todoist = params.get("todoist");
  if (!todoist) return;
  history.replaceState(null, "", location.pathname);
  note(todoist === "connected" ? "Todoist connected." : "Todoist connected; first tips soon.");
}

// --- Reactions and "why" ---

async function react(kind) {
  const tip = current;
  if (!tip || busy || document.body.dataset.state !== "tip") return;
  busy = true;
  const focused = document.activeElement;
  const at = epoch;
  try {
    const res = await api(`/api/tips/${tip.id}/reaction`, "POST", { kind });
    if (at !== epoch) return;
    if (res.status === 401) return signedOut();
    // 404: the tip is gone already (another device); move on as if dismissed.
    if (!res.ok && res.status !== 404) return note("That did not go through. Try again.");
    const read = res.ok ? await res.json() : { dismissed: true };
    if (!read.dismissed) {
      $("like").setAttribute("aria-pressed", "true");
      return note("Liked. More like this.");
    }
    note(THANKS[kind] || "");
    waiting();
    await loadTip();
    if (reactions.contains(focused) && current) focused.focus();
  } catch {
    note("Offline. Try again when you are back.");
  } finally {
    busy = false;
  }
}

// Facts that are hours of the day (shown as times), and plain words for the known facts;
// an unknown fact falls back to its name in words.
const HOURS = new Set([
  "preferred_hour", "quiet_start", "quiet_end", "local_hour", "peak_hour", "peak_hours",
]);
const LABELS = {
  z: "Change from your usual pace",
  mean: "Tasks a day, usually",
  stdev: "Usual day-to-day spread",
  week_per_day: "Tasks a day this week",
  engagement_trend: "Trend",
  days_overdue: "Days overdue",
  tolerance_days: "Days late you usually allow",
  project_real: "In a project you keep to",
  preferred_hour: "Your best hour",
  peak_hours: "Your busiest hours",
  quiet_start: "Quiet from",
  quiet_end: "Quiet until",
  local_hour: "Hour when the tip was made",
  hours_ahead: "Hours until your best hour",
  in_quiet_hours: "In your quiet hours",
  share_at_hour: "Tasks done at your best hour",
  completions_counted: "Tasks counted",
  attention_share: "Open tasks on that theme",
  attention_is_main: "A main area of yours",
  open_tasks: "Open tasks",
  lookback_days: "Days looked at",
  strength: "Strength of the rhythm",
};

const hourName = (h) => clock(new Date(2000, 0, 1, h));
const words = (key) => key.replace(/[_-]+/g, " ").replace(/^./, (c) => c.toUpperCase());
const opaque = (v) => typeof v === "string" && /^[0-9a-f]{16,}$/i.test(v);

// A fact in plain words, or null when it means nothing to a person (ids, nested data).
function plain(key, value) {
  if (value === null || opaque(value) || /_key$/.test(key)) return null;
  if (Array.isArray(value)) {
    const parts = value.map((v) => plain(key, v));
    return parts.length && parts.every((p) => p !== null) ? parts.join(", ") : null;
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    if (HOURS.has(key) && Number.isInteger(value)) return hourName(value);
    if (/share|strength/.test(key)) return `${Math.round(value * 100)}%`;
    return value.toLocaleString([], { maximumFractionDigits: 2 });
  }
  return typeof value === "string" ? value : null;
}

function agentBlock(agent) {
  const block = el("section");
  block.append(el("h3", words(agent.agent_id)), el("p", agent.text));
  const facts = el("dl");
  for (const [key, value] of Object.entries(agent.facts || {})) {
    const text = plain(key, value);
    if (text !== null) facts.append(el("dt", LABELS[key] || words(key)), el("dd", text));
  }
  if (facts.childElementCount) block.append(facts);
  return block;
}

async function openWhy() {
  const tip = current;
  if (!tip || document.body.dataset.state !== "tip") return;
  const list = $("why-list");
  list.replaceChildren(el("p", "Looking…", "hint"));
  $("why").showModal();
  let why = null;
  try {
    const res = await api(`/api/tips/${tip.id}/why`);
    if (res.ok) why = await res.json();
  } catch {}
  if (!why) {
    return list.replaceChildren(el("p", "The reasons for this tip are not available now.", "hint"));
  }
  const by = why.generator === "llm" ? "a language model" : "oO";
  const footnote = el("p", `Worded by ${by} from these notes.`, "hint");
  list.replaceChildren(...why.agents.map(agentBlock), footnote);
}

// --- Settings ---

const say = (text) => ($("settings-status").textContent = text);
// The quiet-hours fields: element id, preference key, the agent's cold-start default.
const QUIET = [["quiet-start", "quiet_start", 23], ["quiet-end", "quiet_end", 7]];

function fillHours(select) {
  if (select.options.length) return;
  for (let h = 0; h < 24; h++) select.append(new Option(hourName(h), String(h)));
}

function showSettings() {
  const prefs = profile?.preferences?.["time-of-day"] || {};
  for (const [id, key, fallback] of QUIET) {
    fillHours($(id));
    $(id).value = String(prefs[key]?.value ?? fallback);
  }
  const source = prefs.quiet_start?.source;
  $("quiet-source").textContent = source === "user" ? "Set by you." : source
    ? "Learned from your rhythm."
    : "The usual hours, until oO learns yours.";
  $("away").checked = awayNow().length > 0;
  $("consent-list").replaceChildren(...Object.entries(profile?.consents || {}).map(consentBox));
  $("consents").hidden = !Object.keys(profile?.consents || {}).length;
  const integrations = profile?.integrations;
  const connected = () => el("span", "Todoist is connected.", "hint");
  const todoist = integrations && (todoistLink(integrations.todoist) || connected());
  $("todoist").replaceChildren(...(todoist ? [todoist] : []));
}

function consentBox([name, granted]) {
  const label = el("label", undefined, "check");
  const box = el("input");
  box.type = "checkbox";
  box.checked = granted;
  box.addEventListener("change", () =>
    save("/api/profile/consents", { [name]: box.checked }, (r) => (profile.consents = r.consents))
  );
  label.append(box, ` ${CONSENTS[name] || name}`);
  return label;
}

function awayNow() {
  const now = Date.now();
  const started = (c) => !c.starts_at || Date.parse(c.starts_at) <= now;
  const unended = (c) => !c.ends_at || Date.parse(c.ends_at) > now;
  return (profile?.contexts || []).filter((c) => c.kind === "away" && started(c) && unended(c));
}

async function save(path, body, apply) {
  say("Saving…");
  const at = epoch;
  try {
    const res = await api(path, "PATCH", body);
    if (at !== epoch) return;
    if (res.status === 401) {
      $("settings").close();
      return signedOut();
    }
    if (!res.ok) {
      say("That was not saved. Try again.");
      return showSettings();
    }
    apply(await res.json());
    say("Saved.");
  } catch {
    say("Offline: not saved.");
  }
}

function saveQuiet(body) {
  save("/api/profile/prefs/time-of-day", body, (r) => {
    profile.preferences = { ...profile.preferences, [r.scope]: r.preferences };
    showSettings();
  });
}

async function openSettings() {
  const dialog = $("settings");
  if (dialog.open) return;
  say("");
  $("delete-confirm").value = "";
  $("delete-account").disabled = true;
  $("shortcuts").checked = shortcutsOn();
  dialog.showModal();
  if (await loadProfile()) showSettings();
  else if (!navigator.onLine) say("Offline: settings need the network.");
}

async function signOut() {
  say("Signing out…");
  let res;
  try {
    res = await api("/auth/logout", "POST", {});
  } catch {
    return say("Offline: not signed out. Try again when you are back.");
  }
  // 401: the session had ended already. Anything else: it may still be valid; keep all as is.
  if (res.status !== 204 && res.status !== 401) {
    return say("Sign-out did not go through. Try again.");
  }
  $("settings").close();
  signedOut("Signed out.");
}

async function deleteAccount() {
  say("Deleting…");
  let res;
  try {
    res = await api("/api/account", "DELETE", {});
  } catch {
    return say("Offline: nothing was deleted.");
  }
  if (res.status === 401 || res.status === 403) {
    // Deleting needs a recent sign-in: say so plainly, and offer it.
    say("To delete your account, sign in again first, then come back here.");
    return $("settings-status").append(" ", link("Sign in again", "/auth/login"));
  }
  if (!res.ok) return say("Nothing was deleted. Try again in a moment.");
  $("settings").close();
  forget();
  render("Your account is being deleted. Thank you for trying oO.", "quiet");
}

// --- Wiring ---

for (const button of reactions.querySelectorAll("[data-kind]")) {
  button.addEventListener("click", () => react(button.dataset.kind));
}
$("open-why").addEventListener("click", openWhy);
$("open-settings").addEventListener("click", openSettings);
for (const [id] of QUIET) {
  $(id).addEventListener("change", () =>
    saveQuiet({ quiet_start: +$("quiet-start").value, quiet_end: +$("quiet-end").value })
  );
}
$("quiet-reset").addEventListener("click", () => saveQuiet({ quiet_start: null, quiet_end: null }));
$("away").addEventListener("change", () => {
  const away = $("away").checked;
  const body = away ? { add: [{ kind: "away" }] } : { remove: awayNow().map((c) => c.id) };
  save("/api/profile/contexts", body, (r) => (profile.contexts = r.contexts));
});
$("sign-out").addEventListener("click", signOut);
$("delete-confirm").addEventListener("input", (e) => {
  $("delete-account").disabled = e.target.value.trim().toLowerCase() !== "delete";
});
$("delete-account").addEventListener("click", deleteAccount);

// Single-key shortcuts can be turned off (WCAG 2.1.4): they would fight some assistive tools.
function shortcutsOn() {
  try {
    return localStorage.getItem(NO_KEYS) === null;
  } catch {
    return true;
  }
}
$("shortcuts").addEventListener("change", (e) => {
  try {
    if (e.target.checked) localStorage.removeItem(NO_KEYS);
    else localStorage.setItem(NO_KEYS, "1");
  } catch {}
});

document.addEventListener("keydown", (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey || e.isComposing || e.repeat || !shortcutsOn()) return;
  if (document.querySelector("dialog[open]") || e.target.closest("input, select, textarea")) return;
  const key = e.key.toLowerCase();
  if (KEYS[key]) react(KEYS[key]);
  else if (key === "w") openWhy();
  else if (key === "s") openSettings();
  else return;
  e.preventDefault();
});

// Touch: a first tap shows the controls for a while; it never presses an invisible one (asleep,
// they take no pointer events, so that tap lands on the page; waking on its click, not on
// pointerdown, keeps the same tap from reaching the control once it wakes).
let sleep = 0;
document.addEventListener(
  "click",
  (e) => {
    if (!e.pointerType || e.pointerType === "mouse") return;
    document.body.classList.add("awake");
    clearTimeout(sleep);
    sleep = setTimeout(() => document.body.classList.remove("awake"), 8000);
  },
  true
);

window.addEventListener("online", () => document.body.dataset.state === "offline" && loadTip());

if ("serviceWorker" in navigator) {
  addEventListener("load", () => navigator.serviceWorker.register("/sw.js").catch(() => {}));
}

connectedNote();
if (location.hash.startsWith("#login=")) loginFromFragment().then((ok) => ok && loadTip());
else loadTip(0, early);
