// Metron's report page (SPEC R3): signs in, reads /api/v1/reports/* with a bearer token and draws
// one person's day. Plain ES module, no dependencies, no inline code (the page's CSP forbids it):
// widths and positions go through the CSSOM, text through textContent, never innerHTML.
//
// Times: the API gives UTC instants and the report's utc_offset_minutes; every clock time shown
// here is that instant shifted by the offset and read with getUTC*, so the browser's own time
// zone never matters (a manager in Berlin sees a Moscow employee's day in Moscow time).

import { timesheets } from "./timesheet.js";
import { PAGES, PUBLIC_PAGES } from "./pages.js";
import { renderButtons as ssoButtons } from "./sso.js";
import { LANGUAGES, currentLang, setLang, translator, plural, dateTime } from "./i18n.js";

const TOKEN_KEY = "metron.token";
const DAY_MS = 86_400_000;

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  me: null,
  role: "member", // "admin" | "manager" | "member": which sections the navigation offers
  page: "reports", // the open section: "reports" or a PAGES name
  date: null, // "YYYY-MM-DD"
  userId: null, // null = the signed-in person
  report: null,
  team: null,
  // device id -> the device as GET /api/v1/devices lists it.
  devices: new Map(),
  seq: 0, // guards against an older answer landing after a newer request
  setupOnly: false, // this session may only set up two-factor codes (the Account page)
};

// ---------- formatting ----------

/** "7 h 32 min", "45 min", "38 s"; minutes are floored so a figure never overstates. */
export function duration(secs) {
  secs = Math.max(0, Math.floor(secs || 0));
  if (secs < 60) return `${secs} s`;
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

const pad = (n) => String(n).padStart(2, "0");

/** Milliseconds of `rfc3339` shifted into local wall time at `offsetMin` (read with getUTC*). */
function localMs(rfc3339, offsetMin) {
  return Date.parse(rfc3339) + offsetMin * 60_000;
}

/** "09:12" of an RFC 3339 instant at `offsetMin` east of UTC. */
function clock(rfc3339, offsetMin, withSeconds = false) {
  if (!rfc3339) return "–";
  const d = new Date(localMs(rfc3339, offsetMin));
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return withSeconds ? `${hm}:${pad(d.getUTCSeconds())}` : hm;
}

/** "UTC+03:00". */
function offsetLabel(offsetMin) {
  const sign = offsetMin < 0 ? "−" : "+";
  const a = Math.abs(offsetMin);
  return `UTC${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "Monday, 23 November 2026" for "2026-11-23", without the browser's time zone. */
// The local date (YYYY-MM-DD) of an instant at an offset.
function localDate(rfc3339, offsetMin) {
  return new Date(localMs(rfc3339, offsetMin)).toISOString().slice(0, 10);
}

function longDate(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  return `${WEEKDAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

function shiftDate(iso, days) {
  const d = new Date(Date.parse(`${iso}T00:00:00Z`) + days * DAY_MS);
  return d.toISOString().slice(0, 10);
}

/** Today's date where the browser is: the natural default for "my day". */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const pct = (part, whole) => (whole > 0 ? Math.round((100 * part) / whole) : 0);
const number = (n) => (n ?? 0).toLocaleString("en-US");

// ---------- DOM helpers ----------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "on") for (const [event, fn] of Object.entries(v)) node.addEventListener(event, fn);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function show(node, visible) {
  node.hidden = !visible;
}

/** Activity colour: pale when idle-heavy, deep green when busy. CSSOM, so the CSP allows it. */
function activityColour(node, percent) {
  const p = Math.max(0, Math.min(100, percent));
  node.style.backgroundColor = `color-mix(in srgb, var(--act-high) ${p}%, var(--act-low))`;
}

// ---------- API ----------

const SIGN_IN_PATHS = ["/api/v1/login", "/api/v1/password-reset"];

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", body, raw = false } = {}) {
  const headers = {};
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "The server cannot be reached. Check the connection and try again.");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const err = await response.json();
      if (err && typeof err.error === "string") message = err.error;
    } catch {
      /* not JSON: keep the status line */
    }
    // A sign-in (by password or a reset link) answers 401 for a wrong password or a needed
    // second factor: no session ended there.
    if (response.status === 401 && !SIGN_IN_PATHS.includes(path)) signOut("Your session has ended. Please sign in again.");
    throw new ApiError(response.status, message);
  }
  return raw ? response : response.json();
}

function describe(err, what) {
  const status = err.status ? ` (HTTP ${err.status})` : "";
  if (err.status === 403) return `You are not allowed to see ${what}: ${err.message}${status}`;
  if (err.status === 404) return `Not found: ${err.message}${status}`;
  return `Could not load ${what}: ${err.message}${status}`;
}

// ---------- sign in / out ----------

/** The sign-in form's code field (two-factor codes), in the page's language. */
const codeStrings = translator({
  en: {
    code: "Code from your authenticator app",
    hint: "Or one of your recovery codes.",
    asked: "Enter the 6-digit code your authenticator app shows.",
    wrong: "That code is wrong, expired or already used. Enter the current one.",
  },
  ru: {
    code: "Код из приложения-аутентификатора",
    hint: "Или один из резервных кодов.",
    asked: "Введите 6-значный код, который показывает приложение-аутентификатор.",
    wrong: "Код неверный, устарел или уже использован. Введите текущий.",
  },
});

/** Shows the code field (the server asked for the second factor), with `message` above the button. */
function askForCode(message, wrong) {
  $("code-label").textContent = codeStrings("code");
  $("code-hint").textContent = codeStrings("hint");
  show($("signin-code"), true);
  const error = $("signin-error");
  error.textContent = message;
  // Asked, not refused: the prompt reads as text; a wrong code as an error.
  error.classList.toggle("ask", !wrong);
  show(error, true);
  $("code").value = "";
  $("code").focus();
}

async function signIn(event) {
  event.preventDefault();
  const email = $("email").value.trim();
  const password = $("password").value;
  const code = $("signin-code").hidden ? "" : $("code").value.trim();
  const error = $("signin-error");
  if (!email || !password) {
    error.textContent = "Enter your email and password.";
    show(error, true);
    return;
  }
  $("signin-button").disabled = true;
  show(error, false);
  try {
    const body = { email, password };
    if (code) body.second_factor = code;
    const answer = await api("/api/v1/login", { method: "POST", body });
    state.token = answer.token;
    sessionStorage.setItem(TOKEN_KEY, answer.token);
    $("password").value = "";
    $("code").value = "";
    show($("signin-code"), false);
    error.classList.remove("ask");
    await enter(answer.user);
  } catch (err) {
    // The password was right and the person has two-factor codes: ask for one (distinguished by
    // the error's first word, see metron_core::wire::SECOND_FACTOR_REQUIRED).
    if (err.status === 401 && err.message.startsWith("second_factor_required")) {
      askForCode(codeStrings("asked"));
      return;
    }
    if (err.status === 401 && err.message.startsWith("second_factor_invalid")) {
      askForCode(codeStrings("wrong"), true);
      return;
    }
    error.classList.remove("ask");
    error.textContent = err.status === 401 ? "Wrong email or password." : err.message;
    show(error, true);
  } finally {
    $("signin-button").disabled = false;
  }
}

function signOut(message) {
  const token = state.token;
  state.token = null;
  state.me = null;
  state.report = null;
  state.team = null;
  state.seq++;
  sessionStorage.removeItem(TOKEN_KEY);
  // The next person to sign in starts on their own day, not on whoever was open; a link
  // opened before signing in (#date=...&user=...) is kept for the sign-in.
  if (token && location.hash) history.replaceState(null, "", location.pathname);
  state.userId = null;
  if (token && !message) {
    // Revoke the token server-side too; the page does not wait for it.
    fetch("/api/v1/logout", { method: "POST", headers: { authorization: `Bearer ${token}` } }).catch(() => {});
  }
  show($("app"), false);
  show($("public"), false);
  show($("signin"), true);
  // The organization's identity providers, if the server has any.
  ssoButtons($("sso"), { api, el, show });
  show($("signin-code"), false);
  $("signin-error").classList.remove("ask");
  state.setupOnly = false;
  const error = $("signin-error");
  error.textContent = message || "";
  show(error, Boolean(message));
  $("email").focus();
}

async function enter(user) {
  state.me = user;
  $("me-name").textContent = user.name || user.email;
  $("me-name").title = user.email;
  state.role = await roleOf(user);
  show($("signin"), false);
  show($("public"), false);
  show($("app"), true);
  readHash();
  await route();
}

/** Admin, manager (someone to review) or member: what the navigation offers. Also notes a
 * session that may only set up two-factor codes (the organization requires them). */
async function roleOf(user) {
  if (user.role) {
    state.setupOnly = Boolean(user.second_factor_setup_required);
    return user.role;
  }
  // A sign-in's answer carries no role: GET /api/v1/me says it.
  try {
    const me = await api("/api/v1/me");
    state.setupOnly = Boolean(me.second_factor_setup_required);
    state.me.second_factor_setup_required = state.setupOnly;
    return me.role || (user.admin ? "admin" : "member");
  } catch {
    return user.admin ? "admin" : "member";
  }
}

/** The sections this session may open: a set-up-only session has the Account page alone. */
function openPages() {
  return PAGES.filter((p) => (state.setupOnly ? p.name === "account" : p.visible(state)));
}

// ---------- navigation: the hash keeps the view across reloads (#date=2026-11-23&user=ID) ----------

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const page = params.get("page");
  state.page = openPages().some((p) => p.name === page) ? page : state.setupOnly ? "account" : "reports";
  const date = params.get("date");
  state.date = date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : state.date || today();
  state.userId = params.get("user") || null;
}

function writeHash() {
  const params = new URLSearchParams({ date: state.date });
  if (state.userId && state.userId !== state.me?.id) params.set("user", state.userId);
  history.replaceState(null, "", `#${params}`);
}

function go({ date = state.date, userId = state.userId } = {}) {
  state.page = "reports";
  state.date = date;
  state.userId = userId;
  writeHash();
  route();
}

// ---------- sections: the reports, or one of PAGES (#page=people) ----------

const shell = translator({
  en: { reports: "Reports", language: "Language", signout: "Sign out", loading: "Loading…" },
  ru: { reports: "Отчёты", language: "Язык", signout: "Выйти", loading: "Загрузка…" },
});

function renderNav() {
  const nav = $("nav");
  const link = (name, label, hash) =>
    el("a", { href: hash, class: state.page === name ? "active" : null, "aria-current": state.page === name ? "page" : null, text: label });
  const reportsHash = `#${new URLSearchParams({ date: state.date || today() })}`;
  nav.replaceChildren(
    state.setupOnly ? "" : link("reports", shell("reports"), reportsHash),
    ...openPages().map((p) => link(p.name, p.label[currentLang()] || p.label.en, `#page=${p.name}`)),
  );
  $("signout").textContent = shell("signout");
  $("lang").setAttribute("aria-label", shell("language"));
}

/** What a section's module gets to draw itself with (the contract is in pages.js). */
function context(errorBanner) {
  return {
    api,
    el,
    show,
    describe,
    error: (message) => {
      errorBanner.textContent = message || "";
      show(errorBanner, Boolean(message));
    },
    me: state.me,
    role: state.role,
    lang: currentLang,
    translator,
    plural,
    dateTime,
    duration,
    go: (hash) => {
      location.hash = hash;
    },
    signedIn: signedIn,
  };
}

async function route() {
  if (!state.me) return;
  renderNav();
  const page = PAGES.find((p) => p.name === state.page);
  const reports = !page;
  show($("page-reports"), reports);
  show($("page-other"), !reports);
  show($("day-picker"), reports);
  if (!reports) show($("person-picker"), false); // load() shows it again for the reports
  document.body.dataset.page = state.page;
  if (reports) {
    await load();
    return;
  }
  state.seq++; // an answer for the reports still on its way is not drawn
  const root = $("page-root");
  const banner = $("page-error");
  show(banner, false);
  root.replaceChildren(el("p", { class: "muted", text: shell("loading") }));
  document.title = `Metron · ${page.label[currentLang()] || page.label.en}`;
  try {
    root.replaceChildren();
    await page.render(root, context(banner));
  } catch (err) {
    context(banner).error(err.message || String(err));
  }
}

/** Someone signed in by a link (an invitation, a reset): keep the token and enter. */
async function signedIn(answer) {
  state.token = answer.token;
  sessionStorage.setItem(TOKEN_KEY, answer.token);
  history.replaceState(null, "", location.pathname);
  await enter(answer.user);
}

/** A link's page before sign-in (#invite=..., #reset=...), if the hash names one. */
async function openPublic() {
  const params = new URLSearchParams(location.hash.slice(1));
  const page = PUBLIC_PAGES.find((p) => params.has(p.key) && (params.get(p.key) || p.empty));
  if (!page) return false;
  show($("signin"), false);
  show($("app"), false);
  show($("public"), true);
  const root = $("public-root");
  root.replaceChildren();
  const banner = el("p", { class: "error", role: "alert", hidden: true });
  await page.render(root, context(banner), params.get(page.key));
  root.append(banner);
  return true;
}

// ---------- loading ----------

async function load() {
  if (!state.me) return;
  const seq = ++state.seq;
  $("date").value = state.date;
  showError(null);
  $("day-title").textContent = "Loading…";
  $("day-sub").textContent = "";
  $("export-csv").disabled = true;
  document.body.classList.add("loading");
  document.title = "Metron · Reports";

  const query = new URLSearchParams({ date: state.date });
  if (state.userId) query.set("user_id", state.userId);
  const daily = api(`/api/v1/reports/daily?${query}`);
  const team = state.me.admin ? api(`/api/v1/reports/team?date=${encodeURIComponent(state.date)}`) : null;
  // Admins read everyone's devices at once (for the team table); a person reads their own.
  const devices = api(state.me.admin ? "/api/v1/devices?team=true" : "/api/v1/devices");
  const [dailyResult, teamResult, devicesResult] = await Promise.allSettled([daily, team, devices]);
  if (seq !== state.seq) return;
  // After the day: the timesheet reads the day's offset for the times it shows and takes.
  document.body.classList.remove("loading");
  // Without the list, devices show by id: the reports still stand.
  state.devices = new Map(devicesResult.status === "fulfilled" ? devicesResult.value.map((d) => [d.device_id, d]) : []);

  const errors = [];
  if (team) {
    if (teamResult.status === "fulfilled") {
      state.team = teamResult.value;
      renderTeam();
    } else {
      state.team = null;
      show($("team"), false);
      errors.push(describe(teamResult.reason, "the team report"));
    }
  } else {
    show($("team"), false);
    show($("person-picker"), false);
  }
  if (dailyResult.status === "fulfilled") {
    state.report = dailyResult.value;
    renderDay();
  } else {
    state.report = null;
    const err = dailyResult.reason;
    errors.unshift(describe(err, state.userId && state.userId !== state.me.id ? "this person's report" : "your report"));
    $("day-title").textContent = "No report";
    $("day-sub").textContent = longDate(state.date);
    show($("export-csv"), false);
    show($("day-body"), false);
    show($("empty"), false);
  }
  if (errors.length) showError(errors.join("\n"));
  sheet.load();
}

function showError(message) {
  const banner = $("error");
  banner.textContent = message || "";
  show(banner, Boolean(message));
}

// ---------- team ----------

function renderTeam() {
  const team = state.team;
  const users = team.users || [];
  $("team-date").textContent = longDate(team.date || state.date);
  const tbody = $("team-table").querySelector("tbody");
  tbody.replaceChildren();
  const viewed = state.userId || state.me.id;
  const sorted = [...users].sort((a, b) => b.tracked_secs - a.tracked_secs || (a.user.name || "").localeCompare(b.user.name || ""));
  for (const row of sorted) {
    const offset = row.utc_offset_minutes ?? team.utc_offset_minutes;
    const span = row.first_activity
      ? `${clock(row.first_activity, offset ?? 0)} – ${clock(row.last_activity, offset ?? 0)}${offset === undefined ? " UTC" : ""}`
      : "–";
    const productive = pct(row.productive_secs, row.tracked_secs);
    const tr = el(
      "tr",
      { dataset: { userId: row.user.id }, tabindex: 0, class: row.user.id === viewed ? "selected" : "", title: `Open ${row.user.name}'s day` },
      el("td", {}, el("span", { class: "name", text: row.user.name || row.user.email }), el("span", { class: "muted small email", text: row.user.email })),
      el("td", { class: "devices-cell small" }, ...deviceNames(row.devices || [])),
      el(
        "td",
        { class: "num tracked", text: row.tracked_secs ? duration(row.tracked_secs) : "–" },
        // Manual time (approved, added by hand) said apart, under the tracked time.
        row.manual_secs ? el("span", { class: "manual-note small", text: `+ ${duration(row.manual_secs)} manual` }) : null,
      ),
      el("td", { class: "num activity" }, row.tracked_secs ? activityChip(row.activity_pct) : "–"),
      el("td", { class: "productive" }, row.tracked_secs ? miniClassBar(row) : el("span", { class: "muted", text: "–" }), row.tracked_secs ? el("span", { class: "small", text: ` ${productive} %` }) : null),
      el("td", { class: "num span", text: span }),
      el("td", { class: "unusual-cell" }, ...flagChips(row)),
    );
    const open = () => {
      go({ userId: row.user.id === state.me.id ? null : row.user.id });
      $("day").scrollIntoView({ behavior: "smooth", block: "start" });
    };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        open();
      }
    });
    tbody.append(tr);
  }
  show($("team-empty"), !users.some((u) => u.tracked_secs > 0 || u.manual_secs > 0));
  show($("team"), true);

  const select = $("person");
  select.replaceChildren();
  const people = [...users].sort((a, b) => (a.user.name || "").localeCompare(b.user.name || ""));
  if (!people.some((u) => u.user.id === state.me.id)) people.unshift({ user: state.me });
  for (const row of people) {
    const label = row.user.id === state.me.id ? `${row.user.name} (me)` : row.user.name || row.user.email;
    select.append(el("option", { value: row.user.id, text: label }));
  }
  if (!people.some((u) => u.user.id === viewed)) select.append(el("option", { value: viewed, text: "Someone else" }));
  select.value = viewed;
  show($("person-picker"), true);
}

// A device's name: its host as it reported itself, else the start of its id.
function deviceName(id) {
  const info = state.devices.get(id)?.info;
  return info ? info.host_name : `device ${id.slice(0, 8)}…`;
}

// The devices a person tracked on that day, for the team table.
function deviceNames(devices) {
  if (!devices.length) return [el("span", { class: "muted", text: "–" })];
  return devices.map((d, i) => el("span", { class: "device-name", title: deviceSummary(d.device_id), text: `${deviceName(d.device_id)}${i < devices.length - 1 ? ", " : ""}` }));
}

// "ann as ann in corp.example.com · Debian GNU/Linux 12 6.1.0 · Europe/Berlin"
function deviceSummary(id) {
  const info = state.devices.get(id)?.info;
  if (!info) return "This device has not reported itself (Metron before 0.2.0).";
  const who = `${info.os_user}${info.domain ? ` in ${info.domain}` : ""}`;
  return `${info.host_name} · signed in to the computer as ${who} · ${info.os_name} ${info.os_version} · ${info.time_zone} · Metron ${info.app_version}`;
}

function activityChip(percent) {
  const chip = el("span", { class: "chip", text: `${percent} %` });
  activityColour(chip, percent);
  if (percent >= 55) chip.classList.add("on-dark");
  return chip;
}

function miniClassBar(r) {
  const bar = el("span", { class: "mini-stacked", "aria-hidden": "true" });
  for (const cls of ["productive", "neutral", "unproductive"]) {
    const part = el("span", { class: `seg ${cls}` });
    part.style.width = `${(100 * (r[`${cls}_secs`] || 0)) / r.tracked_secs}%`;
    bar.append(part);
  }
  return bar;
}

// ---------- one person's day ----------

function renderDay() {
  const r = state.report;
  const offset = r.utc_offset_minutes ?? 0;
  const person = r.user || state.me;
  const isMe = person.id === state.me.id;
  $("day-title").textContent = `${isMe ? "My day" : person.name || person.email} · ${longDate(r.date || state.date)}`;
  const sub = [`Times in ${offsetLabel(offset)}`];
  if (!isMe) sub.push(person.email);
  if (r.source === "aggregates") sub.push("from daily totals (interval detail no longer kept)");
  $("day-sub").textContent = sub.join(" · ");
  renderZoneChanges($("day-zones"), r.zone_changes, false);
  const exportable = Boolean(r.timeline && r.timeline.length);
  show($("export-csv"), exportable);
  $("export-csv").disabled = !exportable;
  document.title = `${isMe ? "My day" : person.name || person.email} · ${r.date || state.date} · Metron`;

  const empty = !r.tracked_secs && !r.manual_secs;
  show($("empty"), empty);
  show($("day-body"), !empty);
  if (empty) return;

  setFigure("fig-tracked", duration(r.tracked_secs), r.tracked_secs);
  setFigure("fig-active", duration(r.active_secs), r.active_secs);
  setFigure("fig-activity", `${r.activity_pct} %`, r.activity_pct);
  setFigure("fig-idle", duration(r.idle_secs), r.idle_secs);
  // Passive presence (no input under an idle inhibitor: calls, videos) is neither active nor
  // idle: said apart, under the idle time.
  const passive = r.passive_secs || 0;
  $("fig-passive").textContent = passive ? `+ ${duration(passive)} passive (calls, video)` : "";
  show($("fig-passive"), passive > 0);
  // Passive time is evidence only with its source: who held the inhibitor, largest first
  // (seconds from older agents name nobody).
  const holders = (r.presence || []).map((p) => `${p.held_by || "not named"} ${duration(p.passive_secs)}`);
  $("fig-presence").textContent = holders.length ? `held by ${holders.join(" · ")}` : "";
  show($("fig-presence"), holders.length > 0);
  setFigure("fig-away", duration(r.away_secs), r.away_secs);
  // Manual time (added by hand, approved): counted apart, never in activity %.
  const manual = r.manual_secs || 0;
  setFigure("fig-manual", duration(manual), manual);
  show($("fig-manual"), manual > 0);
  setFigure("fig-span", r.first_activity ? `${clock(r.first_activity, offset)} – ${clock(r.last_activity, offset)}` : "–");
  const activityValue = $("fig-activity").querySelector(".value");
  activityValue.replaceChildren(el("span", { text: `${r.activity_pct} %` }), meter(r.activity_pct));

  renderClasses(r);
  renderTimeline(r, offset);
  renderActivityBars(r, offset);
  renderUsage($("apps"), r.apps || [], (a) => a.app, (a) => a.class);
  // A manager of an organization that doesn't share titles and addresses with managers.
  const withheld = "Shown to the person and admins only (the organization's setting).";
  renderUsage($("hosts"), r.hosts || [], (h) => h.host, (h) => h.class, r.detail_withheld ? withheld : "No web pages with an address were recorded.");
  renderUsage($("titles"), r.titles || [], (t) => [el("span", { class: "app-tag", text: t.app }), t.title || el("span", { class: "muted", text: "(title withheld)" })], undefined, r.detail_withheld ? withheld : undefined);
  renderTasks(r);
  renderCounts(r);
  renderDevices(r);
  renderUnusual(r, offset);
}

// ---------- unusual activity ----------

// What each flag is called on the page (the API's kinds, in their order).
const FLAGS = {
  high_activity: "Constant activity",
  steady_activity: "Steady activity",
  mouse_only: "Mouse only",
  same_window: "Same window",
  injected_input: "Injected input",
  zone_mismatch: "Time zone mismatch",
  long_passive: "Long passive",
};

// "Time zone changed: UTC+01:00 → UTC+02:00 at 02:00" for each change of offset, in the new
// offset's clock (a timesheet adds the date).
function renderZoneChanges(list, changes, withDate) {
  list.replaceChildren();
  for (const c of changes || []) {
    const when = withDate ? `on ${longDate(localDate(c.at, c.to_minutes))} at ${clock(c.at, c.to_minutes)}` : `at ${clock(c.at, c.to_minutes)}`;
    list.append(el("li", { text: `Time zone changed: ${offsetLabel(c.from_minutes)} → ${offsetLabel(c.to_minutes)} ${when}` }));
  }
  show(list, Boolean(changes && changes.length));
}

// A person's flags in the team table: one chip each, the injected share on its own.
function flagChips(row) {
  const kinds = row.unusual || [];
  if (!kinds.length) return [el("span", { class: "muted", text: "–" })];
  return kinds.map((kind) => {
    const label = kind === "injected_input" && row.injected_pct != null ? `Injected ${row.injected_pct} %` : FLAGS[kind] || kind;
    return el("span", { class: "flag-chip", dataset: { kind }, text: label });
  });
}

// The day's flags with their evidence: each stretch with its times and figures.
function renderUnusual(r, offset) {
  const u = r.unusual;
  const list = $("unusual-flags");
  list.replaceChildren();
  const summary = $("unusual-summary");
  if (!u) {
    summary.textContent = "Not assessed for this day.";
    summary.className = "unusual-summary muted";
    return;
  }
  const injected = u.injected_pct == null ? "injected input not measured on this desktop" : `${u.injected_pct} % of active time had injected input`;
  const flagged = u.flags.length;
  summary.textContent = flagged
    ? `${flagged} ${flagged === 1 ? "pattern" : "patterns"} found · ${injected}`
    : `Nothing unusual by the organization's thresholds · ${injected}`;
  summary.className = `unusual-summary ${flagged ? "flagged" : "clear"}`;
  for (const flag of u.flags) {
    const spans = el("ul", { class: "flag-spans small" });
    for (const s of flag.spans) {
      const parts = s.expected_offset_minutes != null
        ? [`stamped ${offsetLabel(s.utc_offset_minutes)} while the device's zone was ${offsetLabel(s.expected_offset_minutes)}`, `${duration(s.tracked_secs)} tracked`]
        : [`${s.activity_pct} % active (minutes ${s.min_minute_pct}–${s.max_minute_pct} %)`];
      if (s.keys != null) parts.push(`${number(s.keys)} keys, ${number(s.moves)} moves`);
      if (s.injected_secs) parts.push(`${duration(s.injected_secs)} injected`);
      if (s.app) parts.push(s.title ? `${s.app} — ${s.title}` : s.app);
      if (s.held_by && s.held_by.length) parts.push(`held by ${s.held_by.join(", ")}`);
      spans.append(el("li", {}, el("span", { class: "flag-time", text: `${clock(s.started_at, offset)} – ${clock(s.ended_at, offset)}` }), el("span", { text: ` · ${parts.join(" · ")}` })));
    }
    if (flag.more_spans) spans.append(el("li", { class: "muted", text: `and ${flag.more_spans} more` }));
    list.append(el("li", { class: "flag", dataset: { kind: flag.kind } }, el("span", { class: "flag-chip", text: FLAGS[flag.kind] || flag.kind }), el("span", { class: "muted small flag-rule", text: ` ${flag.rule}` }), spans));
  }
}

// The day's devices, by tracked time, then the person's other devices (not used this day).
function renderDevices(r) {
  const tbody = $("devices").querySelector("tbody");
  tbody.replaceChildren();
  const person = (r.user || state.me).id;
  const used = r.devices || [];
  const others = [...state.devices.values()].filter((d) => d.user_id === person && !used.some((u) => u.device_id === d.device_id));
  const row = (id, right, muted) => {
    const info = state.devices.get(id)?.info;
    const detail = info
      ? `${info.os_user}${info.domain ? ` @ ${info.domain}` : ""} · ${info.os_name}${info.os_version ? ` (${info.os_version})` : ""} · ${info.time_zone}`
      : "has not reported itself (Metron before 0.2.0)";
    return el(
      "tr",
      { class: muted ? "muted" : "", dataset: { deviceId: id } },
      el("td", {}, el("span", { class: "name", text: deviceName(id) }), el("span", { class: "muted small device-detail", text: detail })),
      el("td", { class: "num small", text: right }),
    );
  };
  for (const d of used) tbody.append(row(d.device_id, duration(d.tracked_secs), false));
  for (const d of others) tbody.append(row(d.device_id, `not used · last seen ${d.last_seen.slice(0, 10)}`, true));
  if (!tbody.children.length) tbody.append(el("tr", {}, el("td", { class: "muted", text: "No device recorded this day." })));
}

function setFigure(id, text, raw) {
  const node = $(id).querySelector(".value");
  node.textContent = text;
  if (raw !== undefined) node.dataset.raw = String(raw);
}

function meter(percent) {
  const outer = el("span", { class: "meter", "aria-hidden": "true" });
  const inner = el("span", { class: "meter-fill" });
  inner.style.width = `${percent}%`;
  outer.append(inner);
  return outer;
}

const CLASSES = [
  ["productive", "Productive"],
  ["neutral", "Neutral"],
  ["unproductive", "Unproductive"],
];

function renderClasses(r) {
  const bar = $("class-bar");
  const legend = $("class-legend");
  bar.replaceChildren();
  legend.replaceChildren();
  const parts = [];
  for (const [cls, label] of CLASSES) {
    const secs = r[`${cls}_secs`] || 0;
    const share = pct(secs, r.tracked_secs);
    parts.push(`${label} ${share} %`);
    if (secs > 0) {
      const seg = el("span", { class: `seg ${cls}`, title: `${label}: ${duration(secs)} (${share} %)` });
      seg.style.width = `${(100 * secs) / r.tracked_secs}%`;
      if (share >= 8) seg.textContent = `${share} %`;
      bar.append(seg);
    }
    legend.append(
      el("li", { dataset: { class: cls } }, el("span", { class: `swatch ${cls}` }), el("span", { text: label }), el("strong", { text: duration(secs) }), el("span", { class: "muted", text: `${share} %` })),
    );
  }
  bar.setAttribute("aria-label", parts.join(", "));
}

/** The strip spans whole local hours from the first to the last activity (at least 8 hours). */
function stripRange(r, offset) {
  const first = localMs(r.first_activity, offset);
  const last = localMs(r.last_activity, offset);
  const dayStart = Date.parse(`${r.date}T00:00:00Z`);
  let from = Math.max(dayStart, Math.floor(first / 3_600_000) * 3_600_000);
  let to = Math.min(dayStart + DAY_MS, Math.ceil(last / 3_600_000) * 3_600_000);
  const minSpan = 8 * 3_600_000;
  if (to - from < minSpan) {
    const grow = minSpan - (to - from);
    from = Math.max(dayStart, from - Math.floor(grow / 2 / 3_600_000) * 3_600_000);
    to = Math.min(dayStart + DAY_MS, from + minSpan);
    from = Math.max(dayStart, to - minSpan);
  }
  return { from, to, dayStart };
}

function hourTicks(axis, from, to, everyHours) {
  axis.replaceChildren();
  const span = to - from;
  for (let t = from; t <= to; t += 3_600_000) {
    const hour = new Date(t).getUTCHours();
    const isEnd = t === to;
    if ((t - from) / 3_600_000 % everyHours !== 0 && !isEnd) continue;
    const tick = el("span", { class: "tick", text: `${pad(isEnd && hour === 0 ? 24 : hour)}:00` });
    tick.style.left = `${(100 * (t - from)) / span}%`;
    axis.append(tick);
  }
}

function renderTimeline(r, offset) {
  const strip = $("timeline");
  strip.replaceChildren();
  const entries = r.timeline || [];
  show($("timeline-none"), entries.length === 0);
  show(strip, entries.length > 0);
  show($("timeline-axis"), entries.length > 0);
  if (!entries.length) return;
  const { from, to } = stripRange(r, offset);
  const span = to - from;
  for (let t = from + 3_600_000; t < to; t += 3_600_000) {
    const line = el("span", { class: "gridline" });
    line.style.left = `${(100 * (t - from)) / span}%`;
    strip.append(line);
  }
  const names = r.task_names || {};
  for (const e of entries) {
    const start = localMs(e.started_at, offset);
    const end = localMs(e.ended_at, offset);
    const task = names[e.task_id] || e.task_id;
    const block = el("span", {
      class: "block",
      title: `${clock(e.started_at, offset)}–${clock(e.ended_at, offset)} · ${task} · ${e.activity_pct} %\n${duration(e.tracked_secs)} tracked, ${duration(e.active_secs)} active`,
      dataset: { start: e.started_at, activity: e.activity_pct },
    });
    block.style.left = `${(100 * (start - from)) / span}%`;
    block.style.width = `${(100 * (end - start)) / span}%`;
    activityColour(block, e.activity_pct);
    strip.append(block);
  }
  hourTicks($("timeline-axis"), from, to, span > 12 * 3_600_000 ? 2 : 1);
}

/** Tracked and active seconds per local hour, spreading each entry's activity evenly over it. */
function hourly(r, offset, from, to) {
  const hours = [];
  for (let t = from; t < to; t += 3_600_000) hours.push({ start: t, tracked: 0, active: 0 });
  for (const e of r.timeline || []) {
    const s = localMs(e.started_at, offset);
    const f = localMs(e.ended_at, offset);
    if (f <= s) continue;
    for (const h of hours) {
      const overlap = Math.min(f, h.start + 3_600_000) - Math.max(s, h.start);
      if (overlap <= 0) continue;
      const share = overlap / (f - s);
      h.tracked += e.tracked_secs * share;
      h.active += e.active_secs * share;
    }
  }
  return hours;
}

function renderActivityBars(r, offset) {
  const box = $("activity");
  box.replaceChildren();
  if (!(r.timeline || []).length) {
    box.append(el("p", { class: "muted small", text: "No per-interval detail is kept for this day." }));
    return;
  }
  const { from, to } = stripRange(r, offset);
  for (const h of hourly(r, offset, from, to)) {
    const label = `${pad(new Date(h.start).getUTCHours())}:00`;
    const percent = h.tracked > 0 ? Math.round((100 * h.active) / h.tracked) : null;
    const column = el("div", {
      class: `hour${percent === null ? " none" : ""}`,
      title: percent === null ? `${label} · nothing tracked` : `${label} · ${duration(h.tracked)} tracked · ${percent} % active`,
    });
    const track = el("div", { class: "track" });
    if (percent !== null) {
      const bar = el("div", { class: "fill" });
      bar.style.height = `${Math.max(percent, 1)}%`;
      activityColour(bar, Math.max(percent, 15));
      const value = el("span", { class: "pct", text: `${percent}` });
      value.style.bottom = `${Math.max(percent, 1)}%`;
      track.append(bar, value);
      // How much of the hour was tracked at all: a thin line under the bar.
      const cover = el("div", { class: "cover" });
      cover.style.width = `${Math.min(100, (100 * h.tracked) / 3600)}%`;
      column.append(track, cover);
    } else {
      column.append(track, el("div", { class: "cover blank" }));
    }
    column.append(el("span", { class: "hour-label", text: label }));
    box.append(column);
  }
}

const CLASS_LABEL = { productive: "productive", unproductive: "unproductive", neutral: "neutral" };

/** A ranked table: name, bar (tracked, with the active part darker), duration, class badge. */
function renderUsage(table, rows, name, cls, emptyText = "Nothing recorded.") {
  const tbody = table.querySelector("tbody");
  tbody.replaceChildren();
  if (!rows.length) {
    tbody.append(el("tr", {}, el("td", { class: "muted small", colspan: 4, text: emptyText })));
    return;
  }
  const max = Math.max(...rows.map((x) => x.tracked_secs), 1);
  for (const row of rows.slice(0, 10)) {
    const label = name(row);
    const nameCell = el("td", { class: "name" });
    nameCell.append(...(Array.isArray(label) ? label : [label]));
    nameCell.title = nameCell.textContent;
    const bar = el("span", { class: "usage-bar", title: `${duration(row.active_secs)} active of ${duration(row.tracked_secs)}` });
    const tracked = el("span", { class: "tracked" });
    tracked.style.width = `${(100 * row.tracked_secs) / max}%`;
    const active = el("span", { class: "active" });
    active.style.width = `${row.tracked_secs ? (100 * row.active_secs) / row.tracked_secs : 0}%`;
    tracked.append(active);
    bar.append(tracked);
    const classCell = el("td", { class: "badge-cell" });
    const c = cls ? cls(row) : null;
    if (c) classCell.append(el("span", { class: `badge ${c}`, text: CLASS_LABEL[c] || c }));
    tbody.append(el("tr", {}, nameCell, el("td", { class: "bar-cell" }, bar), el("td", { class: "num", text: duration(row.tracked_secs) }), classCell));
  }
  if (rows.length > 10) {
    const rest = rows.slice(10).reduce((s, x) => s + x.tracked_secs, 0);
    tbody.append(el("tr", { class: "more" }, el("td", { class: "muted small", colspan: 2, text: `${rows.length - 10} more` }), el("td", { class: "num muted small", text: duration(rest) }), el("td")));
  }
}

function renderTasks(r) {
  const names = r.task_names || {};
  const tbody = $("tasks").querySelector("tbody");
  tbody.replaceChildren();
  const tasks = r.tasks || [];
  if (!tasks.length) {
    tbody.append(el("tr", {}, el("td", { class: "muted small", text: "No tasks." })));
    return;
  }
  // A task's bar and time are its whole time; manual time (no input measured) shows apart.
  const total = (t) => t.tracked_secs + (t.manual_secs || 0);
  const max = Math.max(...tasks.map(total), 1);
  for (const t of tasks) {
    const bar = el("span", { class: "usage-bar" });
    const tracked = el("span", { class: "tracked" });
    tracked.style.width = `${(100 * t.tracked_secs) / max}%`;
    const active = el("span", { class: "active" });
    active.style.width = `${t.activity_pct}%`;
    tracked.append(active);
    bar.append(tracked);
    if (t.manual_secs) {
      bar.classList.add("with-manual");
      const manual = el("span", { class: "manual" });
      manual.style.width = `${(100 * t.manual_secs) / max}%`;
      bar.append(manual);
    }
    const label = t.manual_secs ? `${duration(t.tracked_secs)} tracked + ${duration(t.manual_secs)} manual` : undefined;
    tbody.append(
      el(
        "tr",
        {},
        el("td", { class: "name", text: names[t.task_id] || t.task_id, title: names[t.task_id] || t.task_id }),
        el("td", { class: "bar-cell", title: label }, bar),
        el("td", { class: "num", text: duration(total(t)), title: label }),
        el("td", { class: "num" }, t.tracked_secs ? activityChip(t.activity_pct) : el("span", { class: "manual-chip", text: "manual" })),
      ),
    );
  }
}

function renderCounts(r) {
  const c = r.counts || {};
  const dl = $("counts");
  dl.replaceChildren();
  // Wayland sessions tell active from idle but can't count input: those seconds have no
  // counts, and showing 0 keys for them would be a lie.
  const measured = r.counts_measured_secs ?? r.tracked_secs;
  const none = r.tracked_secs > 0 && measured === 0;
  const partial = measured > 0 && measured < r.tracked_secs;
  const activeHours = r.active_secs / 3600;
  for (const [key, label] of [
    ["keys", "Key presses"],
    ["clicks", "Clicks"],
    ["scrolls", "Scrolls"],
    ["moves", "Mouse moves"],
  ]) {
    let value = number(c[key]);
    let note = activeHours > 0 ? `${number(Math.round((c[key] || 0) / activeHours))} per active hour` : "";
    if (none) {
      value = "not measured";
      // Said once for the card: the desktop (Wayland) reports activity, not counts.
      note = key === "keys" ? "this desktop reports activity, not counts" : "";
    } else if (partial) {
      note = `counted in ${duration(measured)} of ${duration(r.tracked_secs)}`;
    }
    dl.append(el("div", { class: "count", dataset: { key } }, el("dt", { text: label }), el("dd", { text: value }), el("span", { class: "muted small", text: note })));
  }
  dl.append(injectedEntry(r));
}

// Input a program made (XTEST on X11, SendInput on Windows: jigglers, remote control) rather
// than a keyboard or mouse. Only desktops that tell the two apart measure it.
function injectedEntry(r) {
  const told = r.origin_measured_secs || 0;
  const injected = r.injected_secs || 0;
  let value = duration(injected);
  let note = r.active_secs > 0 ? `${Math.round((100 * injected) / r.active_secs)}% of active time, from programs` : "";
  if (r.tracked_secs > 0 && told === 0) {
    value = "not measured";
    note = "this desktop can't tell devices from programs";
  } else if (told > 0 && told < r.tracked_secs) {
    note = `told apart in ${duration(told)} of ${duration(r.tracked_secs)}`;
  }
  return el("div", { class: "count", dataset: { key: "injected" } }, el("dt", { text: "Injected input" }), el("dd", { text: value }), el("span", { class: "muted small", text: note }));
}

// ---------- CSV export ----------

async function exportCsv() {
  const r = state.report;
  if (!r) return;
  const query = new URLSearchParams({ date: r.date || state.date });
  const person = r.user || state.me;
  if (state.userId) query.set("user_id", state.userId);
  const button = $("export-csv");
  button.disabled = true;
  try {
    const response = await api(`/api/v1/reports/daily.csv?${query}`, { raw: true });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `metron-${person.email}-${r.date || state.date}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    showError(describe(err, "the CSV export"));
  } finally {
    button.disabled = false;
  }
}

// ---------- timesheet ----------

const sheet = timesheets({ api, el, show, duration, describe, showError, longDate, go, state, renderZoneChanges });

// ---------- start ----------

function wire() {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", () => signOut());
  $("date").addEventListener("change", () => {
    if (/^\d{4}-\d{2}-\d{2}$/.test($("date").value)) go({ date: $("date").value });
  });
  $("prev-day").addEventListener("click", () => go({ date: shiftDate(state.date, -1) }));
  $("next-day").addEventListener("click", () => go({ date: shiftDate(state.date, 1) }));
  $("today").addEventListener("click", () => go({ date: today() }));
  $("person").addEventListener("change", () => {
    const id = $("person").value;
    go({ userId: id === state.me.id ? null : id });
  });
  $("export-csv").addEventListener("click", exportCsv);
  sheet.wire();
  const lang = $("lang");
  lang.replaceChildren(...Object.entries(LANGUAGES).map(([code, name]) => el("option", { value: code, text: name })));
  lang.value = currentLang();
  document.documentElement.lang = currentLang();
  lang.addEventListener("change", () => {
    setLang(lang.value);
    if (state.me) route();
    else openPublic();
  });
  window.addEventListener("hashchange", async () => {
    if (!state.me) {
      if (!(await openPublic())) signOut();
      return;
    }
    readHash();
    route();
  });
}

async function start() {
  wire();
  // A link's page comes first: the person who opens an invitation is not signed in here yet.
  if (await openPublic()) return;
  if (!state.token) {
    signOut();
    return;
  }
  try {
    await enter(await api("/api/v1/me"));
  } catch (err) {
    if (err.status !== 401) signOut(err.message);
  }
}

start();
