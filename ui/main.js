// The employee's window. It renders what the backend pushes (`state` events, about once a
// second while tracking) and calls commands; it keeps no tracking state of its own, so the
// counters can't drift from what is stored. Tauri's IPC is on window.__TAURI__
// (withGlobalTauri), so no bundler is needed.
"use strict";

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (id) => document.getElementById(id);
let state = null;
let settings = null;
let osLocale = "en";
let view = null;
let showSignIn = false;

// ---- words ----
function lang() {
  const chosen = settings ? settings.language : "auto";
  const l = chosen === "auto" ? osLocale : chosen;
  return window.METRON_I18N[l] ? l : "en";
}

function t(key, vars = {}) {
  const words = window.METRON_I18N[lang()];
  let text = words[key] ?? window.METRON_I18N.en[key] ?? key;
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{${k}}`, v);
  return text;
}

function translateStatic() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute("aria-label", el.title);
  }
  drawSsoButtons();
}

// ---- formatting ----
function clock(secs) {
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function time(iso) {
  return new Date(iso).toLocaleTimeString(lang(), { hour: "2-digit", minute: "2-digit" });
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

// ---- views ----
function setView(name) {
  view = name;
  for (const v of ["signin", "main", "settings"]) $(`view-${v}`).hidden = v !== name;
}

function chooseView() {
  if (view === "settings") return;
  const signedIn = state && state.account;
  setView(signedIn && !showSignIn ? "main" : "signin");
}

function errorText(e) {
  const code = e && e.code;
  const key = code ? `err_${code}` : null;
  if (key && window.METRON_I18N.en[key]) return t(key);
  return (e && e.message) || String(e);
}

function banner(text) {
  const b = $("banner");
  b.textContent = text || "";
  b.hidden = !text;
}

// ---- rendering the pushed state ----
// A state arrives every second while tracking; only the parts whose data changed are
// redrawn, so an unchanged task list or delivery list costs nothing (CPU is a target).
const drawn = {};
function changed(part, value) {
  const key = JSON.stringify(value);
  if (drawn[part] === key) return false;
  drawn[part] = key;
  return true;
}

function render(force = false) {
  if (!state) return;
  if (force) for (const k of Object.keys(drawn)) delete drawn[k];
  chooseView();
  if (changed("connection", [state.account, state.delivery.connection, state.delivery.last_error, lang()])) renderConnection();
  if (changed("timer", [state.tracking, state.today, state.recent, lang()])) renderTimer();
  if (changed("tasks", [state.tasks, state.tracking && state.tracking.task_id, $("task-search").value, lang()])) renderTasks();
  if (changed("delivery", [state.delivery, state.undelivered, state.tasks, lang()])) renderDelivery();
  if (changed("account", [state.account, lang()])) {
    renderAccount();
    // Another account (or none): yesterday's figures of the previous one must not stay.
    if (changed("today-account", [state.account && [state.account.server, state.account.email]])) {
      today = null;
      todayError = null;
      todayFetched = 0;
      renderToday();
    }
  }
  // Signed in to another account (or at start): the organization's notice, if not read yet.
  if (changed("notice-account", [state.account && [state.account.server, state.account.email, state.account.local]])) checkOrgNotice();
  if (changed("org-notice", [orgNotice && orgNotice.version, lang()])) renderOrgNotice();
  if (changed("release", [state.release, lang()])) renderRelease();
  if (changed("away", [state.away, state.tasks, lang()])) renderAway();
  if (changed("requests", [state.requests, state.tasks, lang()])) renderRequests();
  if (view === "main") maybeRefreshToday();
  if (changed("today", [lang()])) renderToday();
}

function renderConnection() {
  const pill = $("connection");
  let key = "none";
  if (state.account && state.account.local) key = "local";
  else if (state.account) key = state.delivery.connection || "offline";
  pill.dataset.state = key;
  pill.textContent = t(`conn_${key}`);
  pill.title = state.delivery.last_error || "";
}

function renderTimer() {
  const tr = state.tracking;
  $("current-task").textContent = tr ? tr.task_name || tr.task_id : t("not_tracking");
  $("current-task").classList.toggle("idle", !tr);
  $("session").textContent = clock(tr ? tr.session_secs : 0);
  $("session").classList.toggle("running", !!tr);
  $("stop").hidden = !tr;
  $("today-total").textContent = clock(state.today.tracked_secs);
  const pct = state.today.tracked_secs ? Math.round((100 * state.today.active_secs) / state.today.tracked_secs) : null;
  $("today-activity").textContent = pct === null ? "" : ` · ${pct}% ${t("active")}`;
  $("activity-now").textContent = tr ? `${tr.interval_active_pct}%` : "–";
  const bars = $("bars");
  bars.replaceChildren();
  const recent = state.recent.slice(-12);
  for (let i = recent.length; i < 12; i++) bars.append(el("span", { className: "bar empty" }));
  for (const b of recent) {
    const bar = el("span", { className: "bar" + (b.open ? " open" : ""), title: `${time(b.started_at)} · ${b.active_pct}%` });
    bar.style.setProperty("--h", `${Math.max(4, b.active_pct)}%`);
    bar.dataset.level = b.active_pct >= 60 ? "high" : b.active_pct >= 25 ? "mid" : "low";
    bars.append(bar);
  }
}

function renderTasks() {
  const q = $("task-search").value.trim().toLowerCase();
  const list = $("tasks");
  list.replaceChildren();
  const tasks = state.tasks.filter((tk) => !q || tk.name.toLowerCase().includes(q) || (tk.project || "").toLowerCase().includes(q));
  const current = state.tracking && state.tracking.task_id;
  for (const tk of tasks) {
    const running = tk.id === current;
    const button = el("button", { className: running ? "stop small" : "start small", textContent: running ? t("stop") : t("start") });
    button.dataset.taskId = tk.id;
    button.addEventListener("click", () => (running ? invoke("stop") : invoke("start", { taskId: tk.id })).catch(showTaskError));
    const name = el("span", { className: "task-name", textContent: tk.name });
    const li = el("li", { className: running ? "task running" : "task" }, el("div", {}, name, tk.project ? el("span", { className: "muted small", textContent: ` ${tk.project}` }) : ""), button);
    list.append(li);
  }
  $("tasks-empty").hidden = tasks.length > 0;
  $("tasks-empty").textContent = state.tasks.length ? t("no_match") : t("no_tasks");
}

function renderDelivery() {
  const d = state.delivery;
  const parts = [];
  if (d.unsent) parts.push(t("waiting", { n: d.unsent }));
  if (d.rejected) parts.push(t("rejected_n", { n: d.rejected }));
  const summary = $("delivery-summary");
  summary.textContent = parts.length ? parts.join(" · ") : t("all_delivered");
  summary.className = parts.length ? (d.rejected ? "error" : "warning") : "ok";
  if (d.last_error && d.unsent) summary.title = d.last_error;
  $("resend-all").hidden = !(d.unsent || d.rejected);
  $("other-device").hidden = !d.other_devices;
  const list = $("undelivered");
  list.replaceChildren();
  for (const u of state.undelivered.slice(0, 50)) {
    const status = u.status === "rejected" ? `${t("rejected")}: ${u.reason || ""}` : t("unsent");
    const task = (state.tasks.find((tk) => tk.id === u.task_id) || {}).name || u.task_id;
    const button = el("button", { className: "link", textContent: t("resend") });
    button.dataset.intervalId = u.id;
    button.addEventListener("click", () => invoke("resend", { id: u.id }));
    list.append(
      el("li", { className: u.status },
        el("div", {}, el("strong", { textContent: `${time(u.started_at)} · ${clock(u.secs)}` }), el("span", { className: "muted small", textContent: ` ${task}` }),
          el("div", { className: "reason small", textContent: status })),
        button));
  }
}

function taskName(id) {
  return (state.tasks.find((tk) => tk.id === id) || {}).name || id;
}

function fillTaskSelect(select, chosen) {
  const keep = select.value || chosen;
  select.replaceChildren(...state.tasks.map((tk) => el("option", { value: tk.id, textContent: tk.project ? `${tk.name} · ${tk.project}` : tk.name })));
  if (keep) select.value = keep;
}

// Back after an idle or a sleep stop: the question stays until it is answered (Start or Stop
// elsewhere answers it with the default, Discard).
function renderAway() {
  const a = state.away;
  const card = $("away-card");
  const wasHidden = card.hidden;
  card.hidden = !a;
  if (!a) {
    $("away-other-form").hidden = true;
    $("away-error").hidden = true;
    return;
  }
  const vars = { from: time(a.left_at), to: time(a.back_at), span: hm(a.away_secs), tracked: hm(a.tracked_away_secs) };
  $("away-text").replaceChildren(
    el("span", { textContent: t(a.cause === "sleep" ? "away_sleep" : "away_idle", vars) }),
    el("br"),
    el("span", { className: "muted small", textContent: t("away_choose") }));
  $("away-keep").textContent = t("away_keep", { task: a.task_name || a.task_id });
  fillTaskSelect($("away-task"), a.task_id);
  if (wasHidden) {
    // The card says it all: the stop's banner goes.
    if ([t("notice_idle"), t("notice_sleep")].includes($("banner").textContent)) banner(null);
    $("away-discard").focus();
    window.scrollTo(0, 0);
  }
}

async function answerAway(answer) {
  try {
    await invoke("answer_away", { answer });
    $("away-error").hidden = true;
    $("away-other-form").hidden = true;
    $("away-note").value = "";
  } catch (e) {
    $("away-error").textContent = errorText(e);
    $("away-error").hidden = false;
  }
}

// ---- the organization's transparency notice (issue 28) ----
// Signed in to a team server (at the sign-in, or at start), the server's notice is shown while
// the person has not acknowledged its version; a changed setting is a new version, shown again.
// Whether they did is the server's to remember: nothing of it is stored here.
let orgNotice = null;
let orgNoticeSeq = 0;

async function checkOrgNotice() {
  const seq = ++orgNoticeSeq;
  let next = null;
  if (state && state.account && !state.account.local) {
    try {
      const n = await invoke("get_transparency_notice");
      next = n && !n.acknowledged_at ? n : null;
    } catch {
      // Unreachable, or an older server without a notice: asked again at the next start.
      next = null;
    }
  }
  if (seq !== orgNoticeSeq) return;
  orgNotice = next;
  renderOrgNotice();
}

function renderOrgNotice() {
  const card = $("org-notice");
  const wasHidden = card.hidden;
  card.hidden = !orgNotice;
  if (!orgNotice) return;
  const text = orgNotice.text[lang()] || orgNotice.text.en;
  $("org-notice-text").replaceChildren(...text.map((line) => el("li", { textContent: line })));
  if (wasHidden) window.scrollTo(0, 0);
}

async function acknowledgeOrgNotice() {
  const button = $("org-notice-ack");
  const error = $("org-notice-error");
  button.disabled = true;
  error.hidden = true;
  try {
    await invoke("acknowledge_notice", { version: orgNotice.version });
    orgNotice = null;
    renderOrgNotice();
  } catch (e) {
    // It changed meanwhile (or the server is away): what the server says now is shown.
    const why = errorText(e);
    await checkOrgNotice();
    error.textContent = why;
    error.hidden = !orgNotice;
  } finally {
    button.disabled = false;
  }
}

// Corrections and manual entries made here, newest first. An answer about time away queues
// one correction per interval; they show as one line.
function renderRequests() {
  const list = $("requests");
  list.replaceChildren();
  const rows = [];
  for (const r of state.requests || []) {
    const last = rows[rows.length - 1];
    if (r.kind === "correction" && last && last.kind === "correction" && last.created_at === r.created_at && last.body.reason === r.body.reason) {
      last.n += 1;
      last.from = r.at < last.from ? r.at : last.from;
      continue;
    }
    rows.push({ ...r, n: 1, from: r.body.change && r.body.change.action === "trim" ? r.body.change.until : r.at });
  }
  for (const r of rows) {
    const what = r.kind === "manual_entry"
      ? `${t("req_manual", { from: time(r.body.started_at), to: time(r.body.ended_at) })} · ${taskName(r.body.task_id)}`
      : t("req_removed", { n: r.n, from: time(r.from) });
    let key = "unsent";
    let text = t("req_unsent");
    if (r.status === "rejected") {
      key = "refused";
      text = t("req_refused", { why: r.reason || "" });
    } else if (r.status === "sent") {
      key = r.outcome || "approved";
      text = t(`req_${key}`) + (r.outcome_note ? `: ${r.outcome_note}` : "");
    }
    const note = r.kind === "manual_entry" && r.body.note ? el("div", { className: "muted small", textContent: r.body.note }) : "";
    const outcome = el("span", { className: "outcome small", textContent: text });
    outcome.dataset.state = key;
    list.append(el("li", { className: r.kind }, el("div", {}, el("span", { textContent: what }), note), outcome));
  }
  $("requests-empty").hidden = rows.length > 0;
  if (!$("manual-form").hidden) fillTaskSelect($("manual-task"), state.tracking && state.tracking.task_id);
}

function openManualForm() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  $("manual-date").value = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const hourAgo = new Date(now - 3600e3);
  $("manual-from").value = `${pad(hourAgo.getHours())}:${pad(hourAgo.getMinutes())}`;
  $("manual-to").value = `${pad(now.getHours())}:${pad(now.getMinutes())}`;
  fillTaskSelect($("manual-task"), state && state.tracking && state.tracking.task_id);
  $("manual-error").hidden = true;
  $("manual-form").hidden = false;
}

async function addManual() {
  const err = $("manual-error");
  // The date and times are the person's local ones; the backend takes UTC.
  const at = (hhmm) => new Date(`${$("manual-date").value}T${hhmm}`);
  const from = at($("manual-from").value);
  const to = at($("manual-to").value);
  if (!(to > from)) {
    err.textContent = t("err_manual_order");
    err.hidden = false;
    return;
  }
  try {
    await invoke("add_manual_entry", { entry: { task_id: $("manual-task").value, started_at: from.toISOString(), ended_at: to.toISOString(), note: $("manual-note").value } });
    $("manual-form").hidden = true;
    $("manual-note").value = "";
  } catch (e) {
    err.textContent = errorText(e);
    err.hidden = false;
  }
}

// A newer release the organization announces. The address is shown as text; a click asks the
// resident process to open the one it checked and kept, so the window itself never navigates.
function renderRelease() {
  const r = state.release;
  $("release").hidden = !r;
  if (!r) return;
  $("release-text").textContent = t("release_available", { version: r.version });
  $("release-link").textContent = r.download_url;
  $("release-link").title = r.notes || "";
}

function renderAccount() {
  const a = state.account;
  $("account-line").textContent = !a ? t("not_signed_in") : a.local ? t("local_account") : t("signed_in_as", { name: a.name, email: a.email, server: a.server });
  $("sign-out").hidden = !a || a.local;
  $("to-team").hidden = !!(a && !a.local);
}

// ---- today (from the server's daily report, R1) ----
let today = null;
let todayError = null;
let todayFetched = 0;
let todayLastClosed = null;
let todaySeq = 0;

function hm(secs) {
  if (secs < 60) return `${secs} ${t("s")}`;
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  return h ? `${h} ${t("h")} ${String(m).padStart(2, "0")} ${t("min")}` : `${m} ${t("min")}`;
}

async function refreshToday() {
  if (!state || !state.account) return;
  todayFetched = Date.now();
  // Only the newest answer counts: a slow older one must not overwrite it.
  const seq = ++todaySeq;
  let answer = null;
  let error = null;
  try {
    answer = await invoke("get_today");
  } catch (e) {
    error = errorText(e);
  }
  if (seq !== todaySeq) return;
  today = error ? today : answer;
  todayError = error;
  renderToday();
}

// The server has an interval once it is delivered: fetch again when one closes (after a
// moment for delivery), and every minute while the window is open.
function maybeRefreshToday() {
  const closed = state.recent.filter((b) => !b.open).map((b) => b.started_at).pop() || null;
  if (closed !== todayLastClosed) {
    todayLastClosed = closed;
    setTimeout(refreshToday, 2000);
  } else if (Date.now() - todayFetched > 60000) {
    refreshToday();
  }
}

function renderToday() {
  const note = $("today-note");
  note.hidden = !todayError && !!(today && today.tracked_secs);
  note.textContent = todayError ? t("today_error", { why: todayError }) : t("today_empty");
  $("today-updated").textContent = today ? t("as_of", { time: time(new Date(todayFetched).toISOString()) }) : "";
  const r = today || { tracked_secs: 0, activity_pct: 0, productive_secs: 0, apps: [], timeline: [] };
  $("today-tracked").textContent = r.tracked_secs ? hm(r.tracked_secs) : "–";
  $("today-active").textContent = r.tracked_secs ? `${r.activity_pct}%` : "–";
  $("today-productive").textContent = r.tracked_secs ? `${Math.round((100 * r.productive_secs) / r.tracked_secs)}%` : "–";
  // The timeline spans first..last activity (at least an hour), one block per interval.
  const strip = $("today-timeline");
  strip.replaceChildren();
  if (r.first_activity && r.last_activity) {
    const from = Date.parse(r.first_activity);
    const to = Math.max(Date.parse(r.last_activity), from + 3600e3);
    for (const e of r.timeline) {
      const a = Date.parse(e.started_at), b = Date.parse(e.ended_at);
      const block = el("span", { className: "block", title: `${time(e.started_at)}–${time(e.ended_at)} · ${e.activity_pct}%` });
      block.style.left = `${(100 * (a - from)) / (to - from)}%`;
      block.style.width = `${Math.max(0.4, (100 * (b - a)) / (to - from))}%`;
      block.dataset.level = e.activity_pct >= 60 ? "high" : e.activity_pct >= 25 ? "mid" : "low";
      strip.append(block);
    }
    $("today-from").textContent = time(r.first_activity);
    $("today-to").textContent = time(new Date(to).toISOString());
  } else {
    $("today-from").textContent = "";
    $("today-to").textContent = "";
  }
  const apps = $("today-apps");
  apps.replaceChildren();
  const top = r.apps.slice(0, 5);
  for (const a of top) {
    const fill = el("span", { className: "fill" });
    fill.style.width = `${(100 * a.tracked_secs) / top[0].tracked_secs}%`;
    fill.dataset.class = a.class;
    apps.append(el("li", {}, el("span", { className: "app-name", textContent: a.app || "–" }), el("span", { className: "meter" }, fill), el("span", { className: "muted small", textContent: hm(a.tracked_secs) })));
  }
}

function showTaskError(e) {
  const p = $("task-error");
  p.textContent = errorText(e);
  p.hidden = false;
  setTimeout(() => (p.hidden = true), 6000);
}

// ---- settings ----
function fillSettings() {
  const s = settings;
  $("set-titles").checked = s.privacy.record_titles;
  $("set-urls").value = s.privacy.urls;
  $("set-excluded").value = s.privacy.excluded_apps.join(", ");
  $("set-idle").checked = s.idle_notice;
  $("set-autostart").checked = s.autostart;
  $("set-language").value = s.language;
}

async function saveSettings() {
  const next = {
    language: $("set-language").value,
    idle_notice: $("set-idle").checked,
    autostart: $("set-autostart").checked,
    privacy: {
      record_titles: $("set-titles").checked,
      urls: $("set-urls").value,
      excluded_apps: $("set-excluded").value.split(",").map((s) => s.trim()).filter(Boolean),
    },
  };
  try {
    await invoke("set_settings", { settings: next });
    settings = next;
    $("settings-error").hidden = true;
    translateStatic();
    render(true);
  } catch (e) {
    $("settings-error").textContent = errorText(e);
    $("settings-error").hidden = false;
  }
}

// ---- signing in with the organization's identity provider ----
// The server's providers are asked for when an address is entered; each gets a "Sign in with
// {name}" button. The sign-in runs in the system's browser (the resident process listens for
// its return on 127.0.0.1), so the window only waits, can cancel, and says why it was refused.
let sso = { server: null, providers: [], waiting: false, insecure: null };

function drawSsoButtons() {
  const box = $("sso-buttons");
  if (!box) return;
  box.replaceChildren(...sso.providers.map((p) => {
    const b = el("button", { type: "button", className: "secondary wide", textContent: t("sso_sign_in_with", { name: p.name }), disabled: sso.waiting });
    b.dataset.provider = p.id;
    b.addEventListener("click", () => signInSso(p, false));
    return b;
  }));
  $("sso").hidden = sso.providers.length === 0;
  $("sso-waiting").hidden = !sso.waiting;
}

async function loadSsoProviders() {
  const server = $("signin-server").value.trim();
  if (server === sso.server) return;
  sso.server = server;
  sso.providers = [];
  $("sso-error").hidden = true;
  $("sso-insecure").hidden = true;
  let providers = [];
  if (server) {
    // An address being typed, a server without providers or one out of reach: no buttons.
    try { providers = await invoke("sso_providers", { server }); } catch (_) { providers = []; }
  }
  if (server !== sso.server) return; // the address changed meanwhile
  sso.providers = Array.isArray(providers) ? providers : [];
  drawSsoButtons();
}

async function signInSso(provider, insecure) {
  const err = $("sso-error");
  err.hidden = true;
  $("sso-insecure").hidden = true;
  sso.waiting = true;
  drawSsoButtons();
  try {
    await invoke("sign_in_sso", { server: $("signin-server").value.trim(), provider: provider.id, insecure });
    showSignIn = false;
  } catch (e) {
    const code = e && e.code;
    if (code !== "sso_cancelled") {
      err.textContent = code === "sso_refused" ? t("err_sso_refused", { name: provider.name, why: e.message }) : errorText(e);
      err.hidden = false;
    }
    // Plain http:// to another computer: confirmed by the button under the message.
    sso.insecure = code === "insecure_http" ? provider : null;
    $("sso-insecure").hidden = !sso.insecure;
  } finally {
    sso.waiting = false;
    drawSsoButtons();
  }
}

// ---- wiring ----
function wire() {
  // `insecure`: the person confirmed plain http:// to another computer (after an
  // insecure_http refusal, with the button that refusal shows).
  async function signIn(insecure) {
    const submit = $("signin-submit");
    const err = $("signin-error");
    err.hidden = true;
    $("signin-insecure").hidden = true;
    submit.disabled = true;
    submit.textContent = t("signing_in");
    try {
      // The code field shows once the server asked for the account's two-factor code.
      const secondFactor = $("signin-code-field").hidden ? null : $("signin-code").value.trim() || null;
      await invoke("sign_in", { server: $("signin-server").value, email: $("signin-email").value, password: $("signin-password").value, insecure, secondFactor });
      $("signin-password").value = "";
      $("signin-code").value = "";
      $("signin-code-field").hidden = true;
      showSignIn = false;
    } catch (e) {
      err.textContent = errorText(e);
      err.hidden = false;
      $("signin-insecure").hidden = !(e && e.code === "insecure_http");
      if (e && (e.code === "second_factor_required" || e.code === "second_factor_invalid")) {
        $("signin-code-field").hidden = false;
        $("signin-code").value = "";
        $("signin-code").focus();
      }
    } finally {
      submit.disabled = false;
      submit.textContent = t("sign_in");
    }
  }
  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    signIn(false);
  });
  $("signin-insecure").addEventListener("click", () => signIn(true));
  let ssoTimer = null;
  $("signin-server").addEventListener("input", () => {
    clearTimeout(ssoTimer);
    ssoTimer = setTimeout(loadSsoProviders, 600);
  });
  $("signin-server").addEventListener("change", loadSsoProviders);
  $("sso-cancel").addEventListener("click", () => invoke("cancel_sso"));
  $("sso-insecure").addEventListener("click", () => sso.insecure && signInSso(sso.insecure, true));
  $("work-locally").addEventListener("click", async () => {
    try {
      await invoke("work_locally");
      showSignIn = false;
      render();
    } catch (e) {
      $("signin-error").textContent = errorText(e);
      $("signin-error").hidden = false;
    }
  });
  $("stop").addEventListener("click", () => invoke("stop"));
  $("org-notice-ack").addEventListener("click", acknowledgeOrgNotice);
  $("away-discard").addEventListener("click", () => answerAway({ choice: "discard" }));
  $("away-stop").addEventListener("click", () => answerAway({ choice: "stop" }));
  $("away-keep").addEventListener("click", () => answerAway({ choice: "keep", task_id: state.away.task_id, note: "" }));
  $("away-other").addEventListener("click", () => {
    $("away-other-form").hidden = false;
    $("away-note").focus();
  });
  $("away-other-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    answerAway({ choice: "keep", task_id: $("away-task").value, note: $("away-note").value });
  });
  $("manual-open").addEventListener("click", openManualForm);
  $("manual-cancel").addEventListener("click", () => ($("manual-form").hidden = true));
  $("manual-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    addManual();
  });
  $("resend-all").addEventListener("click", () => invoke("resend", { id: null }));
  $("release-link").addEventListener("click", () => invoke("open_download").catch((e) => banner(errorText(e))));
  $("task-search").addEventListener("input", renderTasks);
  $("new-task-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("new-task-name").value.trim();
    if (!name) return;
    try {
      await invoke("create_task", { name, project: null });
      $("new-task-name").value = "";
    } catch (e) {
      showTaskError(e);
    }
  });
  $("open-settings").addEventListener("click", () => {
    fillSettings();
    setView("settings");
  });
  $("close-settings").addEventListener("click", () => {
    view = null;
    render();
  });
  for (const id of ["set-titles", "set-urls", "set-excluded", "set-idle", "set-autostart", "set-language"]) $(id).addEventListener("change", saveSettings);
  $("sign-out").addEventListener("click", async () => {
    await invoke("sign_out");
    view = null;
    showSignIn = true;
  });
  $("to-team").addEventListener("click", () => {
    view = null;
    showSignIn = true;
    setView("signin");
  });
}

async function init() {
  wire();
  const s = await invoke("get_settings");
  settings = s.settings;
  osLocale = s.locale;
  // macOS asks the person for two permissions the sensors need: say which and why.
  $("permissions").hidden = s.platform !== "macos";
  // Which sources the sensors read (on Wayland: the compositor's, and input is not counted).
  $("sensors-line").hidden = !s.sensors;
  $("sensors").textContent = s.sensors || "";
  translateStatic();
  if (s.notice) banner(s.notice);
  await listen("state", (ev) => {
    // The task list comes only when it changed (it can hold thousands of tasks; the state
    // comes every second while tracking): without one, the last list stands.
    const next = ev.payload;
    if (!("tasks" in next)) next.tasks = state ? state.tasks : [];
    state = next;
    render();
  });
  await listen("notice", (ev) => {
    const n = ev.payload;
    // Coming back: the away card asks, no banner needed.
    if (n.kind === "back") return;
    const text = { stopped_idle: t("notice_idle"), stopped_sleep: t("notice_sleep"), other_device: t("notice_other"), session_expired: t("notice_session_expired") }[n.kind]
      ?? t("notice_rejected", { n: n.count, reason: n.reason });
    banner(text);
  });
  state = await invoke("get_state");
  if (state) render();
  else setView("signin");
  // An address the form already holds (filled in by the webview) has its buttons at once.
  if ($("signin-server").value) loadSsoProviders();
}

init();
