// "My data" (issue 28, item 4), for everyone signed in: the transparency notice as the server
// words it from the organization's settings (with its acknowledgement while this version is not
// acknowledged yet), a download of everything recorded about the person (the export ZIP), and
// the access log: each read of their data by someone else, newest first, a page at a time.

const STRINGS = {
  en: {
    title: "My data",
    subtitle: "What Metron records about you, who else has looked at it, and a copy of all of it.",
    notice: "What is recorded about you",
    noticeHint: "Written from your organization's settings as they are now. If they change, you will see it here again.",
    ackPrompt: "Please read this and confirm you have.",
    ack: "I have read this",
    acked: "You confirmed you read this on {when}.",
    changed: "The notice changed while you were reading it. Here is the new one.",
    noKeys: "No keystrokes",
    noShots: "No screenshots",
    keptDays: "Detail kept {days} days",
    managersFigures: "Managers see figures and timesheets",
    managersAll: "Managers see everything",
    export: "Download your data",
    exportHint: "One ZIP of JSON and CSV files: your tracked time with its windows, titles and addresses, events, devices, manual time, corrections, timesheets, and the audit and access records about you. A README inside names each file.",
    download: "Download ZIP",
    preparing: "Preparing…",
    received: "Downloading… {size}",
    done: "Downloaded {size}.",
    busy: "The server is preparing other exports right now. Try again in a minute.",
    exportFailed: "The download failed: {message}",
    access: "Who has read your data",
    accessHint: "Each time a manager or an admin opens your day, timesheet, entries, events, devices or export, it is recorded here (once an hour per reader and item). Your own reads are not.",
    when: "When",
    who: "Who",
    what: "What",
    scope: "Day or period",
    empty: "No one else has read your data.",
    more: "Load more",
    loadFailed: "Could not load more: {message}",
    removed: "Someone since removed",
    admin: "Admin",
    manager: "Manager",
    "former manager": "Former manager",
    day: "Day report",
    timesheet: "Timesheet",
    manual_entries: "Manual time",
    corrections: "Corrections",
    audit: "Audit trail",
    events: "Event log",
    devices: "Devices",
    export_read: "Export of all your data",
    all: "Everything",
    week: "Week of {date}",
  },
  ru: {
    title: "Мои данные",
    subtitle: "Что Metron записывает о вас, кто ещё это смотрел, и копия всего этого.",
    notice: "Что о вас записывается",
    noticeHint: "Составлено по текущим настройкам вашей организации. Если они изменятся, вы снова увидите это здесь.",
    ackPrompt: "Прочитайте, пожалуйста, и подтвердите.",
    ack: "Прочитано",
    acked: "Вы подтвердили, что прочитали это, {when}.",
    changed: "Пока вы читали, уведомление изменилось. Вот новое.",
    noKeys: "Нажатые клавиши не записываются",
    noShots: "Без снимков экрана",
    keptDays: "Подробности хранятся {days} дн.",
    managersFigures: "Руководители видят цифры и табели",
    managersAll: "Руководители видят всё",
    export: "Скачать свои данные",
    exportHint: "Один ZIP с файлами JSON и CSV: учтённое время с окнами, заголовками и адресами, события, устройства, ручное время, исправления, табели, а также записи аудита и доступа о вас. Файл README внутри описывает каждый файл.",
    download: "Скачать ZIP",
    preparing: "Подготовка…",
    received: "Загрузка… {size}",
    done: "Скачано: {size}.",
    busy: "Сервер сейчас готовит другие выгрузки. Попробуйте через минуту.",
    exportFailed: "Не удалось скачать: {message}",
    access: "Кто смотрел ваши данные",
    accessHint: "Каждый раз, когда руководитель или администратор открывает ваш день, табель, записи, события, устройства или выгрузку, это записывается здесь (раз в час на читателя и предмет). Ваши собственные просмотры не записываются.",
    when: "Когда",
    who: "Кто",
    what: "Что",
    scope: "День или период",
    empty: "Никто, кроме вас, ваши данные не смотрел.",
    more: "Показать ещё",
    loadFailed: "Не удалось загрузить: {message}",
    removed: "Удалённый сотрудник",
    admin: "Администратор",
    manager: "Руководитель",
    "former manager": "Бывший руководитель",
    day: "Отчёт за день",
    timesheet: "Табель",
    manual_entries: "Ручное время",
    corrections: "Исправления",
    audit: "Журнал аудита",
    events: "Журнал событий",
    devices: "Устройства",
    export_read: "Выгрузка всех ваших данных",
    all: "Всё",
    week: "Неделя с {date}",
  },
};

/** Rows of the access log a page. */
const PAGE_ROWS = 20;

export const page = {
  name: "mydata",
  label: { en: "My data", ru: "Мои данные" },
  visible: () => true,
  async render(root, ctx) {
    const t = ctx.translator(STRINGS);
    const { el } = ctx;
    const [notice, log] = await Promise.all([ctx.api("/api/v1/me/notice"), logPage(ctx, `/api/v1/me/access-log?limit=${PAGE_ROWS}`)]);
    root.append(
      el("div", { class: "section-head" }, el("div", {}, el("h1", { text: t("title") }), el("p", { class: "muted", text: t("subtitle") }))),
      noticeCard(ctx, t, notice),
      exportCard(ctx, t),
      accessCard(ctx, t, log),
    );
  },
};

// ---------- the notice ----------

function noticeCard(ctx, t, notice) {
  const card = ctx.el("section", { id: "mydata-notice", class: "card mydata-card" });
  drawNotice(ctx, t, card, notice, null);
  return card;
}

function drawNotice(ctx, t, card, notice, message) {
  const { el } = ctx;
  const c = notice.content;
  const facts = [t("noKeys"), t("noShots"), t("keptDays", { days: c.kept.raw_days }), c.visibility.managers_see_detail ? t("managersAll") : t("managersFigures")];
  const sentences = notice.text[ctx.lang()] || notice.text.en;
  card.replaceChildren(
    el("div", { class: "card-head" }, el("h2", { text: t("notice") })),
    el("div", { class: "notice-facts" }, ...facts.map((f) => el("span", { class: "pill", text: f }))),
    el("ul", { class: "notice-text" }, ...sentences.map((s) => el("li", { text: s }))),
    el("p", { class: "muted small", text: t("noticeHint") }),
  );
  card.dataset.version = notice.version;
  if (message) card.append(el("p", { class: "error", role: "alert", text: message }));
  if (notice.acknowledged_at) {
    card.append(el("p", { id: "notice-acked", class: "notice-acked", text: `✓ ${t("acked", { when: ctx.dateTime(notice.acknowledged_at) })}` }));
    return;
  }
  const button = el("button", { id: "notice-ack", type: "button", class: "primary", text: t("ack") });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const answer = await ctx.api("/api/v1/me/notice/ack", { method: "POST", body: { version: notice.version } });
      drawNotice(ctx, t, card, answer, null);
      ctx.error(null);
    } catch (err) {
      if (err.status === 409) {
        // The settings changed meanwhile: show the new notice, to be read and acknowledged.
        try {
          drawNotice(ctx, t, card, await ctx.api("/api/v1/me/notice"), t("changed"));
          return;
        } catch (again) {
          err = again;
        }
      }
      ctx.error(err.message);
      button.disabled = false;
    }
  });
  card.append(el("div", { class: "form-actions notice-ack" }, el("span", { class: "muted", text: t("ackPrompt") }), button));
}

// ---------- the export ----------

function exportCard(ctx, t) {
  const { el } = ctx;
  const status = el("p", { id: "export-status", class: "muted small", role: "status" });
  const button = el("button", { id: "export-zip", type: "button", class: "primary", text: t("download") });
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = t("preparing");
    status.className = "muted small";
    status.textContent = "";
    try {
      const response = await ctx.api("/api/v1/me/export", { raw: true });
      // Streamed without a length: say how much has arrived so far.
      const chunks = [];
      let bytes = 0;
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        bytes += value.length;
        button.textContent = t("received", { size: size(bytes) });
      }
      const blob = new Blob(chunks, { type: "application/zip" });
      save(ctx, blob, fileName(response) || `metron-${ctx.me.email}.zip`);
      status.textContent = t("done", { size: size(bytes) });
    } catch (err) {
      status.className = "error";
      status.textContent = err.status === 503 ? t("busy") : t("exportFailed", { message: err.message || String(err) });
    } finally {
      button.disabled = false;
      button.textContent = t("download");
    }
  });
  return el(
    "section",
    { id: "mydata-export", class: "card mydata-card" },
    el("div", { class: "card-head" }, el("h2", { text: t("export") })),
    el("p", { class: "muted", text: t("exportHint") }),
    el("div", { class: "form-actions export-actions" }, button, status),
  );
}

/** The name the server gave the file (`Content-Disposition: attachment; filename="..."`). */
function fileName(response) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
  return match ? match[1] : null;
}

/** Saves `blob` as a download, the way the CSV export does (the CSP allows blob: for this). */
function save(ctx, blob, name) {
  const url = URL.createObjectURL(blob);
  const link = ctx.el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// ---------- the access log ----------

/** One page of the log and the address of the next (from `Link: <...>; rel="next"`), if any. */
async function logPage(ctx, path) {
  const response = await ctx.api(path, { raw: true });
  const next = /<([^>]+)>\s*;\s*rel="next"/.exec(response.headers.get("link") || "");
  return { rows: await response.json(), next: next ? next[1] : null };
}

function accessCard(ctx, t, first) {
  const { el } = ctx;
  const body = el("tbody");
  const table = el(
    "table",
    { id: "access-log", class: "data-table" },
    el("thead", {}, el("tr", {}, ...[t("when"), t("who"), t("what"), t("scope")].map((h) => el("th", { scope: "col", text: h })))),
    body,
  );
  const empty = el("p", { id: "access-empty", class: "empty-state", text: t("empty") });
  const more = el("button", { id: "access-more", type: "button", class: "secondary", text: t("more") });
  const failed = el("p", { class: "error", role: "alert", hidden: true });
  let next = first.next;
  const add = (rows) => body.append(...rows.map((r) => accessRow(ctx, t, r)));
  const update = () => {
    ctx.show(table, body.children.length > 0);
    ctx.show(empty, body.children.length === 0);
    ctx.show(more, Boolean(next));
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    ctx.show(failed, false);
    try {
      const answer = await logPage(ctx, next);
      add(answer.rows);
      next = answer.next;
      update();
    } catch (err) {
      failed.textContent = t("loadFailed", { message: err.message });
      ctx.show(failed, true);
    } finally {
      more.disabled = false;
    }
  });
  add(first.rows);
  update();
  return el(
    "section",
    { id: "mydata-access", class: "card mydata-card" },
    el("div", { class: "card-head" }, el("h2", { text: t("access") })),
    el("p", { class: "muted small", text: t("accessHint") }),
    table,
    empty,
    failed,
    el("div", { class: "form-actions" }, more),
  );
}

function accessRow(ctx, t, r) {
  const { el } = ctx;
  const who = r.reader_name
    ? el(
        "td",
        {},
        el("span", { class: "reader-name", text: r.reader_name }),
        " ",
        r.reader_role ? el("span", { class: r.reader_role === "admin" ? "pill accent" : "pill", text: t(r.reader_role) }) : null,
        el("span", { class: "muted small reader-email", text: r.reader_email || "" }),
      )
    : el("td", { class: "muted", text: t("removed") });
  return el(
    "tr",
    { dataset: { id: r.id, what: r.what, scope: r.scope } },
    el("td", { class: "nowrap", text: ctx.dateTime(r.at) }),
    who,
    el("td", { text: t(r.what === "export" ? "export_read" : r.what) }),
    el("td", { title: r.scope || null }, scopeCell(ctx, t, r.scope)),
  );
}

/** The day, period or range read, the reader's way; a day links to that day's report. */
function scopeCell(ctx, t, scope) {
  const date = (iso, opts) => new Date(`${iso}T12:00:00`).toLocaleDateString(ctx.lang() === "ru" ? "ru-RU" : "en-GB", opts);
  const long = { weekday: "short", day: "numeric", month: "short", year: "numeric" };
  if (!scope) return t("all");
  if (/^\d{4}-\d{2}-\d{2}$/.test(scope)) return ctx.el("a", { href: `#date=${scope}`, text: date(scope, long) });
  const period = /^(week|month):(\d{4}-\d{2}-\d{2})$/.exec(scope);
  if (period) {
    if (period[1] === "week") return t("week", { date: date(period[2], { day: "numeric", month: "short", year: "numeric" }) });
    return date(period[2], { month: "long", year: "numeric" });
  }
  const range = /^([^/]+)\/([^/]+)$/.exec(scope);
  if (range) return `${ctx.dateTime(range[1])} – ${ctx.dateTime(range[2])}`;
  return scope;
}
