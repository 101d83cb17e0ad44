// The timesheet card (issue 16): a person's week or month by day, tracked and manual time
// apart, submitted by the person and approved or unlocked by a reviewer; adding manual time;
// and, for reviewers, what waits for their decision and their team's week or month (a row per
// person with a bar per day). Drawn from /api/v1/timesheets, /api/v1/timesheets/team and
// /api/v1/approvals with the page's helpers (`ctx`), like the rest of the page: text through
// textContent, no inline code.

const $ = (id) => document.getElementById(id);

/** The card's logic, given the page's helpers and state. */
export function timesheets(ctx) {
  const { api, el, show, duration, describe, showError, longDate, go, state, renderZoneChanges } = ctx;
  const sheet = { period: "week", data: null, tasks: [], seq: 0 };
  const team = { period: "week", seq: 0 };

  const STATE_LABEL = { open: "Open", submitted: "Submitted · waiting for approval", approved: "Approved · locked" };

  function personQuery(extra = {}) {
    const query = new URLSearchParams({ period: sheet.period, date: state.date, ...extra });
    if (state.userId && state.userId !== state.me.id) query.set("user_id", state.userId);
    return query;
  }

  async function load() {
    if (!state.me) return;
    const seq = ++sheet.seq;
    // A load answered after its session ended (signed out, or in as someone else) is dropped:
    // the next session loads its own.
    const me = state.me;
    const stale = () => seq !== sheet.seq || state.me !== me;
    const [answer, waiting, tasks] = await Promise.allSettled([
      api(`/api/v1/timesheets?${personQuery()}`),
      api("/api/v1/approvals"),
      sheet.tasks.length ? Promise.resolve(sheet.tasks) : api("/api/v1/tasks"),
    ]);
    if (stale()) return;
    // The period's manual entries of any status: the person sees what waits and what was decided.
    sheet.entries = [];
    if (answer.status === "fulfilled") {
      const days = answer.value.timesheet.days;
      // Local days reach 14 h either side of UTC's: read wide, keep the period's own.
      const first = days[0].date;
      const last = days[days.length - 1].date;
      const wide = (date, hours) => new Date(Date.parse(`${date}T00:00:00Z`) + hours * 3_600_000).toISOString();
      const range = new URLSearchParams({ from: wide(first, -14), to: wide(last, 38) });
      if (state.userId && state.userId !== state.me.id) range.set("user_id", state.userId);
      try {
        const offset = state.report?.utc_offset_minutes ?? 0;
        const localDate = (t) => new Date(Date.parse(t) + offset * 60_000).toISOString().slice(0, 10);
        sheet.entries = (await api(`/api/v1/manual-entries?${range}`)).filter((e) => localDate(e.started_at) >= first && localDate(e.started_at) <= last);
      } catch {
        /* the table still stands */
      }
      if (stale()) return;
    }
    if (tasks.status === "fulfilled") sheet.tasks = tasks.value;
    if (answer.status === "fulfilled") {
      sheet.data = answer.value;
      render();
    } else {
      sheet.data = null;
      show($("sheet"), false);
      // The day's own error (a person's report one may not read) says it first.
      if ($("error").hidden) showError(describe(answer.reason, "the timesheet"));
    }
    renderApprovals(waiting.status === "fulfilled" ? waiting.value : null);
    loadTeam();
  }

  // The team's period, for admins and managers: anyone else is refused (403) and sees no card.
  async function loadTeam() {
    const seq = ++team.seq;
    const me = state.me;
    if (state.role === "member") {
      // Not a reviewer: the team's period would be refused.
      show($("team-sheet"), false);
      return;
    }
    let answer = null;
    try {
      answer = await api(`/api/v1/timesheets/team?${new URLSearchParams({ period: team.period, date: state.date })}`);
    } catch {
      answer = null;
    }
    if (seq !== team.seq || state.me !== me) return;
    show($("team-sheet"), Boolean(answer));
    if (answer) renderTeam(answer);
  }

  const TEAM_STATE = { open: "Open", submitted: "Submitted", approved: "Approved" };

  function renderTeam(t) {
    const days = t.people[0]?.days || [];
    const first = days[0]?.date;
    const last = days[days.length - 1]?.date;
    $("team-sheet-range").textContent = first ? `${longDate(first)} – ${longDate(last)} · ${t.people.length} ${t.people.length === 1 ? "person" : "people"}` : "";
    $("team-sheet-week").setAttribute("aria-pressed", String(team.period === "week"));
    $("team-sheet-month").setAttribute("aria-pressed", String(team.period === "month"));
    const waiting = t.people.filter((p) => p.state === "submitted").length;
    $("team-sheet-waiting").textContent = `${waiting} submitted`;
    show($("team-sheet-waiting"), waiting > 0);
    // Each bar is a day's total against the longest day anyone in the team had.
    const longest = Math.max(1, ...t.people.flatMap((p) => p.days.map((d) => d.total_secs)));
    const tbody = $("team-sheet-table").querySelector("tbody");
    tbody.replaceChildren();
    for (const p of t.people) {
      const name = p.user.name || p.user.email;
      const bars = el(
        "div",
        { class: "day-bars", role: "img", "aria-label": `${name}, day by day` },
        ...p.days.map((d) => {
          const height = Math.round((d.total_secs / longest) * 100);
          const manual = d.total_secs ? Math.round((d.manual_secs / d.total_secs) * 100) : 0;
          // Heights through CSSOM: the page's CSP allows no inline style attribute.
          const part = el("span", { class: "manual-part" });
          part.style.height = `${manual}%`;
          const fill = el("span", { class: "fill" }, part);
          fill.style.height = `${Math.max(height, d.total_secs ? 6 : 0)}%`;
          return el(
            "span",
            { class: d.total_secs ? "day-bar" : "day-bar empty", title: `${longDate(d.date)}: ${d.total_secs ? duration(d.total_secs) : "nothing"}${d.manual_secs ? `, ${duration(d.manual_secs)} manual` : ""}` },
            fill,
          );
        }),
      );
      const chip = el("span", { class: "state-chip", text: TEAM_STATE[p.state] || p.state, dataset: { state: p.state } });
      const changedChip = p.changed_since_lock
        ? el("span", { class: "state-chip changed", text: `changed: ${duration(p.locked_total_secs)} → ${duration(p.total_secs)}`, dataset: { state: "changed" } })
        : null;
      const row = el(
        "tr",
        { class: p.total_secs ? "day-row" : "day-row quiet", tabindex: "0", title: `Open ${name}'s timesheet` },
        el("th", { scope: "row", text: name }),
        el("td", { class: "num", text: p.tracked_secs ? duration(p.tracked_secs) : "–" }),
        el("td", { class: "num manual", text: p.manual_secs ? duration(p.manual_secs) : "–" }),
        el("td", { class: "num total", text: p.total_secs ? duration(p.total_secs) : "–" }),
        el("td", { class: "num", text: p.tracked_secs ? `${p.activity_pct} %` : "–" }),
        el("td", { class: "bars-cell" }, bars),
        el("td", {}, chip, ...(changedChip ? [changedChip] : [])),
      );
      const open = () => {
        sheet.period = team.period;
        go({ userId: p.user.id });
      };
      row.addEventListener("click", open);
      row.addEventListener("keydown", (e) => {
        if (e.key === "Enter") open();
      });
      tbody.append(row);
    }
    $("team-sheet-table").querySelector("tfoot").replaceChildren(
      el(
        "tr",
        {},
        el("th", { scope: "row", text: "Team" }),
        el("td", { class: "num", text: duration(t.tracked_secs) }),
        el("td", { class: "num manual", text: t.manual_secs ? duration(t.manual_secs) : "–" }),
        el("td", { class: "num total", text: duration(t.total_secs) }),
        el("td", { class: "num", text: `${t.activity_pct} %` }),
        el("td", { class: "small muted", text: "violet: manual time" }),
        el("td", {}),
      ),
    );
  }

  async function exportTeamCsv() {
    try {
      const query = new URLSearchParams({ period: team.period, date: state.date });
      const response = await api(`/api/v1/timesheets/team.csv?${query}`, { raw: true });
      const url = URL.createObjectURL(await response.blob());
      const link = el("a", { href: url, download: `metron-team-${team.period}-${state.date}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      showError(describe(err, "the team timesheet CSV"));
    }
  }

  function render() {
    const s = sheet.data;
    const t = s.timesheet;
    const names = s.task_names || {};
    const own = s.user.id === state.me.id;
    show($("sheet"), true);
    const first = t.days[0]?.date;
    const last = t.days[t.days.length - 1]?.date;
    $("sheet-title").textContent = `${own ? "My timesheet" : `Timesheet · ${s.user.name || s.user.email}`}`;
    $("sheet-range").textContent = first ? `${longDate(first)} – ${longDate(last)}` : "";
    renderZoneChanges($("sheet-zones"), t.zone_changes, true);
    $("sheet-week").setAttribute("aria-pressed", String(sheet.period === "week"));
    $("sheet-month").setAttribute("aria-pressed", String(sheet.period === "month"));
    const chip = $("sheet-state");
    chip.textContent = STATE_LABEL[s.state] || s.state;
    chip.dataset.state = s.state;
    show($("sheet-submit"), own && s.state === "open");
    // A locked period whose figures moved since (a late interval) says so with both totals;
    // its reviewer approves it again or unlocks it.
    const changed = s.changed_since_lock && s.locked_figures;
    $("sheet-changed").textContent = changed
      ? `Changed since ${s.state === "approved" ? "approval" : "submission"}: ${duration(s.locked_figures.total_secs)} then, ${duration(t.total_secs)} now`
      : "";
    show($("sheet-changed"), Boolean(changed));
    show($("sheet-approve"), !own && (s.state !== "approved" || Boolean(changed)));
    $("sheet-approve").textContent = s.state === "approved" && changed ? "Approve again" : "Approve";
    show($("sheet-unlock"), !own && s.state !== "open");
    // Locked periods take no new time: the form says so rather than failing on submit.
    show($("add-time"), own);
    $("add-time-locked").textContent = s.state === "open" ? "" : "This period is locked: ask your manager to unlock it to add time.";

    const tbody = $("sheet-table").querySelector("tbody");
    tbody.replaceChildren();
    for (const day of t.days) {
      const worked = day.total_secs > 0;
      const tasks = (day.tasks || []).map((task) => {
        const name = names[task.task_id] || task.task_id;
        if (!task.tracked_secs) return `${name} ${duration(task.manual_secs)} manual`;
        const manual = task.manual_secs ? ` (${duration(task.manual_secs)} of it manual)` : "";
        return `${name} ${duration(task.total_secs)}${manual}`;
      });
      const row = el(
        "tr",
        { class: worked ? "day-row" : "day-row quiet", tabindex: "0", title: "Open this day", dataset: { date: day.date } },
        el("th", { scope: "row", text: longDate(day.date) }),
        el("td", { class: "num", text: worked ? duration(day.tracked_secs) : "–" }),
        el("td", { class: "num manual", text: day.manual_secs ? duration(day.manual_secs) : "–" }),
        el("td", { class: "num total", text: worked ? duration(day.total_secs) : "–" }),
        el("td", { class: "num", text: day.tracked_secs ? `${day.activity_pct} %` : "–" }),
        el("td", { class: "tasks-cell small", text: tasks.join(" · ") }),
      );
      const open = () => go({ date: day.date });
      row.addEventListener("click", open);
      row.addEventListener("keydown", (e) => {
        if (e.key === "Enter") open();
      });
      tbody.append(row);
    }
    const tfoot = $("sheet-table").querySelector("tfoot");
    tfoot.replaceChildren(
      el(
        "tr",
        {},
        el("th", { scope: "row", text: sheet.period === "week" ? "Week" : "Month" }),
        el("td", { class: "num", text: duration(t.tracked_secs) }),
        el("td", { class: "num manual", text: t.manual_secs ? duration(t.manual_secs) : "–" }),
        el("td", { class: "num total", text: duration(t.total_secs) }),
        el("td", { class: "num", text: `${t.activity_pct} %` }),
        el("td", { class: "small muted", text: "activity % counts tracked time only" }),
      ),
    );
    renderEntries();
    const select = $("add-task");
    if (select.options.length !== sheet.tasks.length) {
      select.replaceChildren(...sheet.tasks.map((task) => el("option", { value: task.id, text: task.name })));
    }
    if (!$("add-date").value) $("add-date").value = state.date;
  }

  async function act(path, body, what) {
    try {
      await api(path, { method: "POST", body });
      // The day, the team and the timesheet all change with a decision.
      go({});
    } catch (err) {
      showError(describe(err, what));
    }
  }

  function periodBody(note) {
    const body = { period: sheet.period, date: state.date, note };
    if (!sheet.data) return body;
    if (sheet.data.user.id !== state.me.id) body.user_id = sheet.data.user.id;
    return body;
  }

  // Local wall time (the report's offset) of a date and a time of day, as an RFC 3339 instant.
  function instant(date, time) {
    const offset = state.report?.utc_offset_minutes ?? 0;
    const [y, m, d] = date.split("-").map(Number);
    const [h, min] = time.split(":").map(Number);
    return new Date(Date.UTC(y, m - 1, d, h, min) - offset * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  async function addTime(event) {
    event.preventDefault();
    const result = $("add-time-result");
    const date = $("add-date").value;
    const from = $("add-from").value;
    const to = $("add-to").value;
    if (!date || !from || !to) {
      result.textContent = "Enter the day, the start and the end.";
      return;
    }
    const body = {
      task_id: $("add-task").value,
      started_at: instant(date, from),
      ended_at: instant(date, to),
      note: $("add-note").value.trim(),
      // The times were entered in this offset: the entry's seconds fall on its days.
      utc_offset_minutes: state.report?.utc_offset_minutes ?? 0,
    };
    $("add-submit").disabled = true;
    try {
      const entry = await api("/api/v1/manual-entries", { method: "POST", body });
      result.textContent =
        entry.status === "pending" ? "Added: waiting for your manager's approval." : "Added.";
      result.dataset.outcome = entry.status;
      $("add-note").value = "";
      go({});
    } catch (err) {
      result.textContent = err.message;
      result.dataset.outcome = "error";
    } finally {
      $("add-submit").disabled = false;
    }
  }

  const ENTRY_STATUS = { pending: "waiting for approval", approved: "approved", denied: "denied", withdrawn: "withdrawn" };

  function renderEntries() {
    const list = $("sheet-entries");
    list.replaceChildren();
    const offset = state.report?.utc_offset_minutes ?? 0;
    for (const e of sheet.entries || []) {
      const decided = e.decision_note ? ` · “${e.decision_note}”` : "";
      list.append(
        el(
          "li",
          { class: "entry", dataset: { status: e.status } },
          el("span", { class: "entry-status", text: ENTRY_STATUS[e.status] || e.status }),
          el("span", { text: ` ${taskName(e.task_id)} · ${span(e.started_at, e.ended_at, offset)}` }),
          e.note ? el("span", { class: "muted", text: ` · ${e.note}` }) : null,
          el("span", { class: "muted small", text: decided }),
        ),
      );
    }
    show($("sheet-entries-card"), (sheet.entries || []).length > 0);
  }

  function renderApprovals(waiting) {
    const list = $("approvals-list");
    list.replaceChildren();
    const items = [];
    if (waiting) {
      for (const e of waiting.manual_entries) {
        items.push({
          who: e.user_id,
          text: `Manual time · ${taskName(e.task_id)} · ${span(e.started_at, e.ended_at, waiting.utc_offsets?.[e.user_id])}`,
          note: e.note,
          path: `/api/v1/manual-entries/${e.id}/decision`,
        });
      }
      for (const c of waiting.corrections) {
        const change = c.change.action === "move" ? `move to ${taskName(c.change.task_id)}` : c.change.action;
        items.push({
          who: c.user_id,
          text: `Correction · ${change} · the interval of ${at(c.interval_started_at, waiting.utc_offsets?.[c.user_id])}`,
          note: c.reason,
          path: `/api/v1/corrections/${c.id}/decision`,
        });
      }
      for (const p of waiting.timesheets) {
        items.push({ who: p.user_id, text: `Timesheet · the ${p.period.kind} of ${longDate(p.period.start)}, submitted`, period: p });
      }
    }
    show($("approvals"), items.length > 0);
    // The oldest of each kind are listed; "+" says more wait behind them.
    $("approvals-count").textContent = items.length ? `${items.length}${waiting?.more ? "+" : ""}` : "";
    for (const item of items) {
      const person = personName(item.who);
      const buttons = item.period
        ? [button("Open", "secondary", () => {
            sheet.period = item.period.period.kind;
            go({ date: item.period.period.start, userId: item.who });
          })]
        : [
            button("Approve", "primary", () => act(item.path, { decision: "approve", note: "" }, "the decision")),
            button("Deny", "secondary", () => act(item.path, { decision: "deny", note: "" }, "the decision")),
          ];
      list.append(
        el(
          "li",
          { class: "approval" },
          el("div", {}, el("strong", { text: person }), el("span", { class: "muted", text: ` · ${item.text}` }), item.note ? el("p", { class: "small", text: `“${item.note}”` }) : ""),
          el("div", { class: "approval-actions" }, ...buttons),
        ),
      );
    }
  }

  function taskName(id) {
    return sheet.tasks.find((t) => t.id === id)?.name || id;
  }

  function personName(id) {
    const member = state.team?.users?.find((u) => u.user.id === id);
    return member ? member.user.name || member.user.email : id === state.me.id ? "You" : id;
  }

  // A stretch in the person's own offset (as they lived it), as the rest of the page does.
  function span(from, to, offset = 0) {
    const local = (t) => new Date(Date.parse(t) + offset * 60_000);
    const a = local(from);
    const b = local(to);
    const hm = (d) => `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
    return `${longDate(a.toISOString().slice(0, 10))}, ${hm(a)}–${hm(b)}`;
  }

  function at(t, offset = 0) {
    const d = new Date(Date.parse(t) + offset * 60_000);
    return `${longDate(d.toISOString().slice(0, 10))}, ${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
  }

  function button(text, cls, onClick) {
    const b = el("button", { class: cls, type: "button", text });
    b.addEventListener("click", onClick);
    return b;
  }

  async function exportCsv() {
    try {
      const response = await api(`/api/v1/timesheets.csv?${personQuery()}`, { raw: true });
      const url = URL.createObjectURL(await response.blob());
      const who = sheet.data?.user?.email || "me";
      const link = el("a", { href: url, download: `metron-${who}-${sheet.period}-${sheet.data?.timesheet?.period?.start}.csv` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      showError(describe(err, "the timesheet CSV"));
    }
  }

  function wire() {
    $("sheet-week").addEventListener("click", () => {
      sheet.period = "week";
      load();
    });
    $("sheet-month").addEventListener("click", () => {
      sheet.period = "month";
      load();
    });
    $("sheet-submit").addEventListener("click", () => act("/api/v1/timesheets/submit", periodBody(""), "the submission"));
    $("sheet-approve").addEventListener("click", () => act("/api/v1/timesheets/approve", periodBody(""), "the approval"));
    $("sheet-unlock").addEventListener("click", () => act("/api/v1/timesheets/unlock", periodBody(""), "the unlock"));
    $("sheet-csv").addEventListener("click", exportCsv);
    $("team-sheet-week").addEventListener("click", () => {
      team.period = "week";
      loadTeam();
    });
    $("team-sheet-month").addEventListener("click", () => {
      team.period = "month";
      loadTeam();
    });
    $("team-sheet-csv").addEventListener("click", exportTeamCsv);
    $("add-time-form").addEventListener("submit", addTime);
  }

  return { load, wire };
}
