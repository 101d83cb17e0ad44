// The organization's settings (admins): the organization, the timesheet policy, the
// unusual-activity thresholds, the desktop release announcement and the productivity rules,
// each a card saved on its own through the API (every change is an audit row on the server).
// A rule is previewed before it is saved: what it would re-classify over the last 7 days.

const STRINGS = {
  en: {
    title: "Settings",
    subtitle: "How Metron works for everyone in {org}. Each change is recorded in the audit trail.",
    save: "Save",
    saved: "Saved",
    org: "Organization",
    orgName: "Name",
    taskCreation: "Who may create tasks",
    everyone: "Everyone",
    admins: "Admins only",
    detail: "Managers see details",
    detailHint: "Window titles, addresses, the event log and devices of the people they manage. Figures and timesheets are always visible to managers.",
    urlPolicy: "Addresses kept",
    urlFull: "As the desktop app sends it",
    urlHost: "Host only",
    urlDrop: "None",
    urlHint: "What the server keeps of each page address, whatever a desktop app sends.",
    retention: "Keep detail for (days)",
    retentionHint: "After this, days are kept as totals only. Empty: the server's default ({days} days).",
    secondFactor: "Two-factor codes required of",
    sfOff: "Nobody",
    sfAdmins: "Admins",
    sfEveryone: "Everyone",
    secondFactorHint: "They sign in with a code from an authenticator app too; devices of people without codes are refused until they set them up on this page (Account). Set up your own first.",
    policy: "Timesheets",
    manual: "Manual time",
    moves: "Moving time to another task",
    allowed: "Allowed",
    approval: "Needs approval",
    forbidden: "Not allowed",
    maxManual: "Longest manual entry (hours)",
    editWindow: "Days back a person may change time",
    passive: "Presence without input counts up to (minutes)",
    passiveHint: "While a call or a video holds the screen awake. 0 turns it off.",
    unusual: "Unusual activity",
    unusualHint: "When a day is flagged for a closer look. Flags never change the figures.",
    high_activity_pct: "High activity: at least (%)",
    high_activity_minutes: "… for at least (minutes)",
    steady_spread_pct: "Steady activity: within (points)",
    steady_minutes: "… for at least (minutes)",
    mouse_only_max_keys_per_minute: "Mouse only: at most (keys a minute)",
    mouse_only_minutes: "… for at least (minutes)",
    same_window_minutes: "Same window with input for (minutes)",
    injected_min_secs: "Injected input at least (seconds a day)",
    long_passive_minutes: "Presence without input for (minutes)",
    release: "Desktop app release",
    releaseHint: "Desktop apps and agents tell their person about a newer release. Nothing is installed for them.",
    latest: "Version",
    download: "Download address",
    notes: "What is new",
    announce: "Announce",
    withdraw: "Withdraw",
    noRelease: "No release is announced.",
    announced: "Announced {when}.",
    rules: "Productivity rules",
    rulesHint: "The first matching rule decides. An address rule wins over an application rule. Time no rule matches is neutral.",
    target: "Matches",
    app: "Application",
    host: "Address host",
    kind: "Pattern type",
    glob: "Wildcard",
    regex: "Regular expression",
    pattern: "Pattern",
    class: "Class",
    productive: "Productive",
    unproductive: "Unproductive",
    neutral: "Neutral",
    noRules: "No rules yet: all time is neutral.",
    remove: "Remove",
    preview: "Preview",
    addRule: "Add rule",
    previewTitle: "Over the last 7 days this would re-classify {time}:",
    previewNone: "Over the last 7 days this changes nothing.",
    previewMore: "… and more.",
    people: (v) => `${v.n} ${v.n === 1 ? "person" : "people"}`,
    confirmRemove: "Remove this rule? Reports are re-classified at once.",
    sso: "Identity provider (SSO)",
    ssoHint: "People sign in with their company account through an OpenID Connect provider. Saving does not contact the provider: the first sign-in does.",
    ssoNone: "No identity provider is set: people sign in with their Metron passwords.",
    ssoFile: "Set in /etc/metron/server.toml ([sso]): change it there and restart the server.",
    callback: "Callback URL",
    callbackHint: "Register this address with the provider as the redirect URI.",
    callbackGuess: "Register this address with the provider as the redirect URI. The server builds it from public_url in server.toml: this is it when public_url is this page's address; it is confirmed here once saved.",
    callbackMissing: "The server has no public_url: set it in /etc/metron/server.toml to the page's address; the provider sends people back there.",
    copy: "Copy",
    copied: "Copied",
    ssoName: "Button name",
    ssoNameHint: "Shown on the sign-in button: “Sign in with …”.",
    issuer: "Issuer URL",
    issuerHint: "https:// (plain http:// only on this machine). Metron reads its /.well-known/openid-configuration.",
    clientId: "Client ID",
    clientSecret: "Client secret",
    stored: "stored",
    secretHint: "Never shown again. Leave it empty to keep the stored one.",
    domains: "Allowed email domains",
    domainsHint: "Separated by commas. Empty: any domain the provider vouches for.",
    groupsClaim: "Groups claim",
    groupsClaimHint: "The ID token's claim that lists the person's groups. Empty: everyone new joins as a member.",
    adminGroups: "Admin groups",
    managerGroups: "Manager groups",
    groupsHint: "Separated by commas. They decide the role of a person Metron creates at their first sign-in; later, roles are changed on the People page.",
    ssoOnly: "SSO only",
    ssoOnlyHint: "Password sign-in is turned off for everyone but the break-glass admin.",
    breakGlass: "Break-glass admin's email",
    breakGlassHint: "An enabled admin who can still sign in with a password when the provider is down. Required with SSO only.",
    confirmRemoveSso: "Remove the identity provider? People sign in with passwords again; those it created have none until they get a reset link.",
  },
  ru: {
    title: "Настройки",
    subtitle: "Как Metron работает для всех в {org}. Каждое изменение записывается в журнал аудита.",
    save: "Сохранить",
    saved: "Сохранено",
    org: "Организация",
    orgName: "Название",
    taskCreation: "Кто может создавать задачи",
    everyone: "Все",
    admins: "Только администраторы",
    detail: "Руководители видят подробности",
    detailHint: "Заголовки окон, адреса, журнал событий и устройства их сотрудников. Цифры и табели руководители видят всегда.",
    urlPolicy: "Сохранять адреса",
    urlFull: "Как присылает приложение",
    urlHost: "Только домен",
    urlDrop: "Не сохранять",
    urlHint: "Что сервер сохраняет из адреса страницы, что бы ни прислало приложение.",
    retention: "Хранить подробности (дней)",
    retentionHint: "Потом от дня остаются только итоги. Пусто: как на сервере ({days} дней).",
    secondFactor: "Двухфакторные коды обязательны для",
    sfOff: "Никого",
    sfAdmins: "Администраторов",
    sfEveryone: "Всех",
    secondFactorHint: "Они входят ещё и с кодом из приложения-аутентификатора; устройства тех, у кого кодов нет, не войдут, пока коды не настроены на этой странице (Аккаунт). Сначала настройте свои.",
    policy: "Табели",
    manual: "Ручное время",
    moves: "Перенос времени на другую задачу",
    allowed: "Разрешено",
    approval: "С подтверждением",
    forbidden: "Запрещено",
    maxManual: "Самая длинная ручная запись (часов)",
    editWindow: "На сколько дней назад можно менять время",
    passive: "Присутствие без ввода засчитывается до (минут)",
    passiveHint: "Пока звонок или видео не дают экрану уснуть. 0 — выключено.",
    unusual: "Необычная активность",
    unusualHint: "Когда день отмечается для проверки. Отметки не меняют цифры.",
    high_activity_pct: "Высокая активность: не меньше (%)",
    high_activity_minutes: "… не меньше (минут)",
    steady_spread_pct: "Ровная активность: в пределах (пунктов)",
    steady_minutes: "… не меньше (минут)",
    mouse_only_max_keys_per_minute: "Только мышь: не больше (нажатий в минуту)",
    mouse_only_minutes: "… не меньше (минут)",
    same_window_minutes: "Одно окно с вводом (минут)",
    injected_min_secs: "Программный ввод не меньше (секунд в день)",
    long_passive_minutes: "Присутствие без ввода (минут)",
    release: "Выпуск приложения",
    releaseHint: "Приложения и агенты сообщат сотруднику о новом выпуске. Сами они ничего не устанавливают.",
    latest: "Версия",
    download: "Адрес загрузки",
    notes: "Что нового",
    announce: "Объявить",
    withdraw: "Отозвать",
    noRelease: "Выпуск не объявлен.",
    announced: "Объявлено {when}.",
    rules: "Правила продуктивности",
    rulesHint: "Решает первое подходящее правило. Правило для адреса важнее правила для приложения. Время без правила — нейтральное.",
    target: "Что проверяется",
    app: "Приложение",
    host: "Домен адреса",
    kind: "Вид шаблона",
    glob: "Подстановка",
    regex: "Регулярное выражение",
    pattern: "Шаблон",
    class: "Класс",
    productive: "Продуктивно",
    unproductive: "Непродуктивно",
    neutral: "Нейтрально",
    noRules: "Правил пока нет: всё время нейтральное.",
    remove: "Удалить",
    preview: "Проверить",
    addRule: "Добавить правило",
    previewTitle: "За последние 7 дней это изменит класс {time}:",
    previewNone: "За последние 7 дней это ничего не меняет.",
    previewMore: "… и другое.",
    people: (v) => {
      const n = v.n;
      const m10 = n % 10;
      const m100 = n % 100;
      const form = m10 === 1 && m100 !== 11 ? "сотрудник" : m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? "сотрудника" : "сотрудников";
      return `${n} ${form}`;
    },
    confirmRemove: "Удалить правило? Отчёты пересчитаются сразу.",
    sso: "Поставщик удостоверений (SSO)",
    ssoHint: "Сотрудники входят с рабочей учётной записью через поставщика OpenID Connect. Сохранение не обращается к поставщику: это сделает первый вход.",
    ssoNone: "Поставщик удостоверений не задан: сотрудники входят с паролями Metron.",
    ssoFile: "Задан в /etc/metron/server.toml ([sso]): меняйте его там и перезапустите сервер.",
    callback: "Адрес возврата",
    callbackHint: "Зарегистрируйте этот адрес у поставщика как redirect URI.",
    callbackGuess: "Зарегистрируйте этот адрес у поставщика как redirect URI. Сервер строит его из public_url в server.toml: он такой, если public_url — адрес этой страницы; после сохранения он будет подтверждён здесь.",
    callbackMissing: "У сервера нет public_url: укажите в /etc/metron/server.toml адрес страницы; поставщик возвращает сотрудников туда.",
    copy: "Копировать",
    copied: "Скопировано",
    ssoName: "Название на кнопке",
    ssoNameHint: "Показывается на кнопке входа: «Войти через …».",
    issuer: "Адрес издателя (issuer)",
    issuerHint: "https:// (простой http:// только на этой машине). Metron читает его /.well-known/openid-configuration.",
    clientId: "ID клиента",
    clientSecret: "Секрет клиента",
    stored: "сохранён",
    secretHint: "Больше не показывается. Оставьте пустым, чтобы сохранить прежний.",
    domains: "Разрешённые домены почты",
    domainsHint: "Через запятую. Пусто: любой домен, который подтверждает поставщик.",
    groupsClaim: "Поле с группами",
    groupsClaimHint: "Поле ID-токена со списком групп сотрудника. Пусто: все новые входят как сотрудники.",
    adminGroups: "Группы администраторов",
    managerGroups: "Группы руководителей",
    groupsHint: "Через запятую. Определяют роль сотрудника, которого Metron создаёт при первом входе; потом роль меняется на странице «Люди».",
    ssoOnly: "Только SSO",
    ssoOnlyHint: "Вход по паролю выключен для всех, кроме аварийного администратора.",
    breakGlass: "Почта аварийного администратора",
    breakGlassHint: "Действующий администратор, который может войти по паролю, если поставщик недоступен. Обязательна при «Только SSO».",
    confirmRemoveSso: "Удалить поставщика удостоверений? Вход снова по паролям; у тех, кого он создал, пароля нет, пока они не получат ссылку для сброса.",
  },
};

const THRESHOLDS = [
  "high_activity_pct",
  "high_activity_minutes",
  "steady_spread_pct",
  "steady_minutes",
  "mouse_only_max_keys_per_minute",
  "mouse_only_minutes",
  "same_window_minutes",
  "injected_min_secs",
  "long_passive_minutes",
];

export const page = {
  name: "settings",
  label: { en: "Settings", ru: "Настройки" },
  visible: ({ role }) => role === "admin",
  async render(root, ctx) {
    const t = ctx.translator(STRINGS);
    const { el } = ctx;
    const [org, policy, thresholds, release, rules, sso] = await Promise.all([
      ctx.api("/api/v1/organization/settings"),
      ctx.api("/api/v1/timesheets/policy"),
      ctx.api("/api/v1/unusual/thresholds"),
      ctx.api("/api/v1/client-version"),
      ctx.api("/api/v1/rules"),
      // 404: no identity provider is set yet.
      ctx.api("/api/v1/organization/sso").catch((err) => {
        if (err.status === 404) return null;
        throw err;
      }),
    ]);
    root.append(
      el("div", { class: "section-head" }, el("div", {}, el("h1", { text: t("title") }), el("p", { id: "settings-subtitle", class: "muted", text: t("subtitle", { org: org.name }) }))),
      orgCard(ctx, t, org),
      ssoCard(ctx, t, sso),
      policyCard(ctx, t, policy),
      rulesCard(ctx, t, rules),
      thresholdsCard(ctx, t, thresholds),
      releaseCard(ctx, t, release),
    );
  },
};

// ---------- building blocks ----------

let uid = 0;

/** A labelled control in a form grid: [label, control] (and a hint line under it). */
function row(ctx, label, control, hint) {
  const id = control.id || `setting-${++uid}`;
  control.id = id;
  const parts = [ctx.el("label", { for: id, text: label }), control];
  if (hint) parts.push(ctx.el("p", { class: "hint", text: hint }));
  return parts;
}

function select(ctx, name, value, options) {
  const node = ctx.el("select", { name });
  for (const [v, label] of options) node.append(ctx.el("option", { value: v, text: label }));
  node.value = value;
  return node;
}

function number(ctx, name, value, min, max, step = 1) {
  return ctx.el("input", { type: "number", name, value: String(value), min, max, step, required: true, class: "num-input" });
}

/** A card holding a form: `save()` sends it; the button shows "Saved" a moment after. */
function formCard(ctx, t, { id, title, hint, fields, save, extraActions = [] }) {
  const { el } = ctx;
  const status = el("span", { class: "saved", role: "status" });
  const button = el("button", { class: "primary", type: "submit", text: t("save") });
  const wrap = el("form", { id, class: "card settings-card", novalidate: true });
  wrap.append(el("div", { class: "card-head" }, el("h2", { text: title })));
  if (hint) wrap.append(el("p", { class: "muted small", text: hint }));
  wrap.append(el("div", { class: "form-grid" }, ...fields.flat()), el("div", { class: "form-actions" }, status, ...extraActions, button));
  wrap.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    button.disabled = true;
    try {
      await save(wrap);
      ctx.error(null);
      status.textContent = t("saved");
      setTimeout(() => (status.textContent = ""), 2500);
    } catch (err) {
      ctx.error(err.message);
    } finally {
      button.disabled = false;
    }
  });
  return wrap;
}

const value = (form, name) => form.elements.namedItem(name).value;
const int = (form, name) => Number.parseInt(value(form, name), 10);

// ---------- the cards ----------

function orgCard(ctx, t, org) {
  const retention = ctx.el("input", { type: "number", name: "retention_days", min: 1, max: 3650, value: org.retention_days ?? "", placeholder: String(org.server_retention_days) });
  const detail = ctx.el("input", { type: "checkbox", name: "managers_see_detail" });
  detail.checked = org.managers_see_detail;
  return formCard(ctx, t, {
    id: "settings-org",
    title: t("org"),
    fields: [
      row(ctx, t("orgName"), ctx.el("input", { name: "name", value: org.name, maxlength: 200, required: true })),
      row(ctx, t("taskCreation"), select(ctx, "task_creation", org.task_creation, [["everyone", t("everyone")], ["admins", t("admins")]])),
      row(ctx, t("detail"), detail, t("detailHint")),
      row(ctx, t("urlPolicy"), select(ctx, "url_policy", org.url_policy, [["full", t("urlFull")], ["host_only", t("urlHost")], ["drop", t("urlDrop")]]), t("urlHint")),
      row(ctx, t("retention"), retention, t("retentionHint", { days: org.server_retention_days })),
      row(ctx, t("secondFactor"), select(ctx, "require_second_factor", org.require_second_factor, [["off", t("sfOff")], ["admins", t("sfAdmins")], ["everyone", t("sfEveryone")]]), t("secondFactorHint")),
    ],
    save: async (form) => {
      const days = value(form, "retention_days").trim();
      const saved = await ctx.api("/api/v1/organization/settings", {
        method: "PUT",
        body: {
          name: value(form, "name").trim(),
          task_creation: value(form, "task_creation"),
          managers_see_detail: form.elements.namedItem("managers_see_detail").checked,
          url_policy: value(form, "url_policy"),
          retention_days: days === "" ? null : Number.parseInt(days, 10),
          require_second_factor: value(form, "require_second_factor"),
        },
      });
      document.getElementById("settings-subtitle").textContent = t("subtitle", { org: saved.name });
    },
  });
}

function policyCard(ctx, t, policy) {
  const permissions = [["allowed", t("allowed")], ["approval", t("approval")], ["forbidden", t("forbidden")]];
  return formCard(ctx, t, {
    id: "settings-policy",
    title: t("policy"),
    fields: [
      row(ctx, t("manual"), select(ctx, "manual", policy.manual, permissions)),
      row(ctx, t("maxManual"), number(ctx, "max_manual_hours", policy.max_manual_secs / 3600, 1 / 60, 24, "any")),
      row(ctx, t("moves"), select(ctx, "moves", policy.moves, permissions)),
      row(ctx, t("editWindow"), number(ctx, "edit_window_days", policy.edit_window_days, 0, 366)),
      row(ctx, t("passive"), number(ctx, "passive_limit_minutes", Math.round(policy.passive_limit_secs / 60), 0, 120), t("passiveHint")),
    ],
    save: async (form) => {
      await ctx.api("/api/v1/timesheets/policy", {
        method: "PUT",
        body: {
          manual: value(form, "manual"),
          max_manual_secs: Math.round(Number(value(form, "max_manual_hours")) * 3600),
          moves: value(form, "moves"),
          edit_window_days: int(form, "edit_window_days"),
          passive_limit_secs: int(form, "passive_limit_minutes") * 60,
        },
      });
    },
  });
}

function thresholdsCard(ctx, t, thresholds) {
  return formCard(ctx, t, {
    id: "settings-unusual",
    title: t("unusual"),
    hint: t("unusualHint"),
    fields: THRESHOLDS.map((name) => row(ctx, t(name), number(ctx, name, thresholds[name], 0, 100000))),
    save: async (form) => {
      const body = Object.fromEntries(THRESHOLDS.map((name) => [name, int(form, name)]));
      await ctx.api("/api/v1/unusual/thresholds", { method: "PUT", body });
    },
  });
}

function releaseCard(ctx, t, release) {
  const { el } = ctx;
  const state = el("p", { class: "muted small", text: release.latest ? t("announced", { when: ctx.dateTime(release.updated_at) }) : t("noRelease") });
  const withdraw = el("button", { type: "button", class: "ghost", text: t("withdraw"), disabled: !release.latest });
  const card = formCard(ctx, t, {
    id: "settings-release",
    title: t("release"),
    hint: t("releaseHint"),
    fields: [
      row(ctx, t("latest"), el("input", { name: "latest", value: release.latest ?? "", maxlength: 64, placeholder: "0.2.0" })),
      row(ctx, t("download"), el("input", { name: "download_url", type: "url", value: release.download_url ?? "", maxlength: 2048, placeholder: "https://" })),
      row(ctx, t("notes"), el("textarea", { name: "notes", rows: 3, maxlength: 2000, text: release.notes ?? "" })),
    ],
    extraActions: [withdraw],
    save: async (form) => {
      const answer = await ctx.api("/api/v1/client-version", {
        method: "PUT",
        body: { latest: value(form, "latest").trim() || null, download_url: value(form, "download_url").trim() || null, notes: value(form, "notes").trim() || null },
      });
      state.textContent = answer.latest ? t("announced", { when: ctx.dateTime(answer.updated_at) }) : t("noRelease");
      withdraw.disabled = !answer.latest;
    },
  });
  withdraw.addEventListener("click", async () => {
    try {
      await ctx.api("/api/v1/client-version", { method: "PUT", body: { latest: null, download_url: null, notes: null } });
      for (const name of ["latest", "download_url", "notes"]) card.elements.namedItem(name).value = "";
      state.textContent = t("noRelease");
      withdraw.disabled = true;
      ctx.error(null);
    } catch (err) {
      ctx.error(err.message);
    }
  });
  card.querySelector(".card-head").after(state);
  // The announcement's button says what it does.
  card.querySelector("button.primary").textContent = t("announce");
  return card;
}

/** A list kept as one comma-separated input, its items shown under it as they are typed. */
function listRow(ctx, label, name, items, hint, placeholder) {
  const { el } = ctx;
  const input = el("input", { name, value: items.join(", "), placeholder, id: `setting-${++uid}`, autocomplete: "off" });
  const shown = el("div", { class: "list-pills", dataset: { list: name } });
  const draw = () => shown.replaceChildren(...splitList(input.value).map((item) => el("span", { class: "pill", text: item })));
  input.addEventListener("input", draw);
  draw();
  return [el("label", { for: input.id, text: label }), el("div", { class: "list-field" }, input, shown), el("p", { class: "hint", text: hint })];
}

const splitList = (text) =>
  text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");

/** The callback URL to register with the provider, copyable; what is missing when there is none. */
function callbackBox(ctx, t, node, view) {
  const { el } = ctx;
  // Without a provider the server has not said its public_url yet: the page's own address is
  // what it will be when public_url is this address.
  const url = view ? view.callback_url : `${location.origin}/api/v1/sso/callback`;
  if (!url) {
    node.replaceChildren(el("p", { id: "sso-callback-missing", class: "error", text: t("callbackMissing") }));
    return;
  }
  const input = el("input", { id: "sso-callback", readonly: true, value: url, "aria-label": t("callback") });
  const button = el("button", {
    type: "button",
    class: "secondary",
    text: t("copy"),
    on: {
      click: async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(url);
        } catch {
          document.execCommand("copy");
        }
        button.textContent = t("copied");
      },
    },
  });
  node.replaceChildren(el("div", { class: "copy-box" }, input, button), el("p", { class: "muted small", text: view ? t("callbackHint") : t("callbackGuess") }));
}

/**
 * The organization's OpenID Connect provider (issue 29): `view` is GET /api/v1/organization/sso,
 * null when none is set. The client secret is write-only: the server says only whether one is
 * stored, and a save without one keeps it. Set in server.toml, the card is read-only.
 */
function ssoCard(ctx, t, view) {
  const { el } = ctx;
  const fromFile = Boolean(view?.from_file);
  const v = view || { name: "", issuer: "", client_id: "", client_secret_set: false, allowed_domains: [], groups_claim: "", admin_groups: [], manager_groups: [], sso_only: false, break_glass_email: "" };
  const card = el("form", { id: "settings-sso", class: "card settings-card", novalidate: true });
  const state = el("p", { id: "sso-state", class: "muted small" });
  const callback = el("div", { id: "sso-callback-box" });
  const secret = el("input", { name: "client_secret", type: "password", autocomplete: "new-password", maxlength: 512 });
  const ssoOnly = el("input", { type: "checkbox", name: "sso_only" });
  ssoOnly.checked = v.sso_only;
  const breakGlass = el("input", { name: "break_glass_email", type: "email", value: v.break_glass_email, maxlength: 254, autocomplete: "off", placeholder: "it-admin@example.com" });
  const markRequired = () => breakGlass.toggleAttribute("aria-required", ssoOnly.checked);
  ssoOnly.addEventListener("change", markRequired);
  markRequired();
  const status = el("span", { class: "saved", role: "status" });
  const error = el("p", { id: "sso-error", class: "error", role: "alert", hidden: true });
  const remove = el("button", { type: "button", class: "ghost danger", text: t("remove") });
  const save = el("button", { type: "submit", class: "primary", text: t("save") });

  const draw = (shown) => {
    state.textContent = fromFile ? t("ssoFile") : shown ? "" : t("ssoNone");
    ctx.show(state, state.textContent !== "");
    callbackBox(ctx, t, callback, shown);
    secret.value = "";
    secret.placeholder = shown?.client_secret_set ? t("stored") : "";
    remove.disabled = !shown;
  };
  const fail = (err) => {
    error.textContent = err ? err.message : "";
    ctx.show(error, Boolean(err));
  };

  const fields = el(
    "fieldset",
    { class: "plain-fieldset", disabled: fromFile },
    el(
      "div",
      { class: "form-grid" },
      ...[
        row(ctx, t("ssoName"), el("input", { name: "name", value: v.name, maxlength: 80, placeholder: "Acme ID", autocomplete: "off" }), t("ssoNameHint")),
        row(ctx, t("issuer"), el("input", { name: "issuer", type: "url", value: v.issuer, maxlength: 512, placeholder: "https://id.example.com/realms/acme", autocomplete: "off" }), t("issuerHint")),
        row(ctx, t("clientId"), el("input", { name: "client_id", value: v.client_id, maxlength: 256, autocomplete: "off" })),
        row(ctx, t("clientSecret"), secret, t("secretHint")),
        listRow(ctx, t("domains"), "allowed_domains", v.allowed_domains, t("domainsHint"), "example.com"),
        row(ctx, t("groupsClaim"), el("input", { name: "groups_claim", value: v.groups_claim, maxlength: 64, placeholder: "groups", autocomplete: "off" }), t("groupsClaimHint")),
        listRow(ctx, t("adminGroups"), "admin_groups", v.admin_groups, t("groupsHint")),
        listRow(ctx, t("managerGroups"), "manager_groups", v.manager_groups, t("groupsHint")),
        row(ctx, t("ssoOnly"), ssoOnly, t("ssoOnlyHint")),
        row(ctx, t("breakGlass"), breakGlass, t("breakGlassHint")),
      ].flat(),
    ),
  );
  // Outside the fieldset: the address stays copyable when the fields are read-only.
  const callbackRow = el("div", { class: "form-grid sso-callback-row" }, el("label", { for: "sso-callback", text: t("callback") }), callback);
  card.append(el("div", { class: "card-head" }, el("h2", { text: t("sso") })), el("p", { class: "muted small", text: t("ssoHint") }), state, callbackRow, fields, error);
  if (!fromFile) card.append(el("div", { class: "form-actions" }, status, remove, save));
  draw(view);
  // Read-only, an example in an empty field would read as a value.
  if (fromFile) for (const input of fields.querySelectorAll("input:not([name=client_secret])")) input.removeAttribute("placeholder");
  // The fields as the server stored them (domains and the email lower-cased, lists trimmed).
  const fill = (shown) => {
    for (const name of ["name", "issuer", "client_id", "groups_claim", "break_glass_email"]) card.elements.namedItem(name).value = shown[name];
    for (const name of ["allowed_domains", "admin_groups", "manager_groups"]) {
      const input = card.elements.namedItem(name);
      input.value = shown[name].join(", ");
      input.dispatchEvent(new Event("input"));
    }
    ssoOnly.checked = shown.sso_only;
    markRequired();
  };

  card.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (fromFile) return;
    status.textContent = "";
    save.disabled = true;
    const text = (name) => value(card, name).trim();
    const body = {
      name: text("name"),
      issuer: text("issuer"),
      client_id: text("client_id"),
      allowed_domains: splitList(value(card, "allowed_domains")),
      groups_claim: text("groups_claim"),
      admin_groups: splitList(value(card, "admin_groups")),
      manager_groups: splitList(value(card, "manager_groups")),
      sso_only: ssoOnly.checked,
      break_glass_email: text("break_glass_email"),
    };
    // Empty keeps the stored secret: the field is never filled from the server.
    if (secret.value !== "") body.client_secret = secret.value;
    try {
      const saved = await ctx.api("/api/v1/organization/sso", { method: "PUT", body });
      fill(saved);
      draw(saved);
      fail(null);
      status.textContent = t("saved");
      setTimeout(() => (status.textContent = ""), 2500);
    } catch (err) {
      fail(err);
    } finally {
      save.disabled = false;
    }
  });
  remove.addEventListener("click", async () => {
    if (!confirm(t("confirmRemoveSso"))) return;
    try {
      // 204 without a body: the response itself, not JSON.
      await ctx.api("/api/v1/organization/sso", { method: "DELETE", raw: true });
      for (const input of card.querySelectorAll("input:not([type=checkbox]):not([readonly])")) input.value = "";
      ssoOnly.checked = false;
      for (const input of card.querySelectorAll(".list-field input")) input.dispatchEvent(new Event("input"));
      markRequired();
      draw(null);
      fail(null);
    } catch (err) {
      fail(err);
    }
  });
  return card;
}

function rulesCard(ctx, t, rules) {
  const { el } = ctx;
  const card = el("section", { id: "settings-rules", class: "card settings-card" });
  const body = el("tbody");
  const table = el(
    "table",
    { class: "data-table" },
    el("thead", {}, el("tr", {}, ...[t("target"), t("kind"), t("pattern"), t("class"), ""].map((h) => el("th", { scope: "col", text: h })))),
    body,
  );
  const empty = el("p", { class: "muted", text: t("noRules") });
  const classBadge = (c) => el("span", { class: `badge ${c}`, text: t(c) });

  const draw = () => {
    body.replaceChildren(
      ...rules.map((r) =>
        el(
          "tr",
          { dataset: { id: r.id } },
          el("td", { text: t(r.target) }),
          el("td", { text: t(r.kind) }),
          el("td", {}, el("code", { text: r.pattern })),
          el("td", {}, classBadge(r.class)),
          el(
            "td",
            { class: "actions" },
            el("button", {
              type: "button",
              class: "ghost",
              text: t("remove"),
              on: {
                click: async () => {
                  if (!confirm(t("confirmRemove"))) return;
                  try {
                    await ctx.api(`/api/v1/rules/${encodeURIComponent(r.id)}`, { method: "DELETE" });
                    rules = rules.filter((x) => x.id !== r.id);
                    draw();
                    ctx.error(null);
                  } catch (err) {
                    ctx.error(err.message);
                  }
                },
              },
            }),
          ),
        ),
      ),
    );
    ctx.show(table, rules.length > 0);
    ctx.show(empty, rules.length === 0);
  };

  const form = el("form", { id: "rule-form", class: "rule-form toolbar" });
  const target = select(ctx, "target", "app", [["app", t("app")], ["host", t("host")]]);
  const kind = select(ctx, "kind", "glob", [["glob", t("glob")], ["regex", t("regex")]]);
  const pattern = el("input", { name: "pattern", maxlength: 500, placeholder: "*.example.com", required: true, "aria-label": t("pattern") });
  const cls = select(ctx, "class", "productive", [["productive", t("productive")], ["unproductive", t("unproductive")]]);
  target.setAttribute("aria-label", t("target"));
  kind.setAttribute("aria-label", t("kind"));
  cls.setAttribute("aria-label", t("class"));
  const previewButton = el("button", { type: "button", class: "secondary", text: t("preview") });
  const add = el("button", { type: "submit", class: "primary", text: t("addRule") });
  const preview = el("div", { id: "rule-preview", class: "rule-preview", hidden: true });
  form.append(target, kind, pattern, cls, previewButton, add);
  const candidate = () => ({ target: target.value, kind: kind.value, pattern: pattern.value.trim(), class: cls.value });

  previewButton.addEventListener("click", async () => {
    try {
      const answer = await ctx.api("/api/v1/rules/preview", {
        method: "POST",
        body: { rules: [...rules.map(({ target, kind, pattern, class: c }) => ({ target, kind, pattern, class: c })), candidate()] },
      });
      drawPreview(ctx, t, preview, answer);
      ctx.error(null);
    } catch (err) {
      ctx.show(preview, false);
      ctx.error(err.message);
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const stored = await ctx.api("/api/v1/rules", { method: "POST", body: candidate() });
      rules = [...rules, stored];
      pattern.value = "";
      ctx.show(preview, false);
      draw();
      ctx.error(null);
    } catch (err) {
      ctx.error(err.message);
    }
  });

  card.append(el("div", { class: "card-head" }, el("h2", { text: t("rules") })), el("p", { class: "muted small", text: t("rulesHint") }), table, empty, form, preview);
  // A preview is of what the form says now: an edit makes it stale.
  form.addEventListener("input", () => ctx.show(preview, false));
  draw();
  return card;
}

/** What a proposed set of rules would change: each app or host whose class moves, with its time. */
function drawPreview(ctx, t, node, answer) {
  const { el } = ctx;
  node.replaceChildren();
  if (answer.changes.length === 0) {
    node.append(el("p", { class: "muted", text: t("previewNone") }));
  } else {
    node.append(el("p", { text: t("previewTitle", { time: ctx.duration(answer.reclassified_secs) }) }));
    const list = el("ul", { class: "preview-list" });
    for (const c of answer.changes) {
      list.append(
        el(
          "li",
          {},
          el("span", { class: "app-tag", text: c.host ? t("host") : t("app") }),
          el("strong", { text: c.host || c.app }),
          " ",
          el("span", { class: `badge ${c.from}`, text: t(c.from) }),
          " → ",
          el("span", { class: `badge ${c.to}`, text: t(c.to) }),
          el("span", { class: "muted", text: ` ${ctx.duration(c.tracked_secs)} · ${t("people", { n: c.people })}` }),
        ),
      );
    }
    node.append(list);
    if (answer.more) node.append(el("p", { class: "muted small", text: t("previewMore") }));
  }
  ctx.show(node, true);
}
