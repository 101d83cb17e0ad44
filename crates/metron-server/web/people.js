// People (issue 28): the organization's people for admins (the people they manage for
// managers), filtered by name or email, role, status and manager; admins invite by email (the
// one-time link shown to copy), follow the pending invitations (re-send, revoke), set roles and
// managers, disable and enable, make password-reset links, and import a CSV checked whole.
// And the two public pages a link opens before sign-in: accepting an invitation
// (#invite=<token>) and choosing a new password (#reset=<token>).

const STRINGS = {
  en: {
    title: "People",
    subtitleAdmin: "Everyone in your organization. Invite colleagues, set their roles and managers.",
    subtitleManager: "The people you manage.",
    search: "Search name or email",
    anyRole: "Any role",
    anyStatus: "Any status",
    anyManager: "Any manager",
    admin: "Admin",
    manager: "Manager",
    member: "Member",
    active: "Active",
    disabled: "Disabled",
    name: "Name",
    email: "Email",
    role: "Role",
    managers: "Managed by",
    status: "Status",
    lastSeen: "Last seen",
    devices: "Devices",
    version: "App",
    never: "never",
    none: "—",
    noPeople: "Nobody matches.",
    invite: "Invite",
    importCsv: "Import CSV",
    disable: "Disable",
    enable: "Enable",
    resetLink: "Reset link",
    managePeople: "Their people",
    pending: "Pending invitations",
    noPending: "No invitations are waiting.",
    expires: "Expires",
    expired: "expired",
    resend: "Re-send",
    revoke: "Revoke",
    confirmRevoke: "Revoke the invitation of {email}? Its link stops working.",
    confirmDisable: "Disable {name}? They are signed out everywhere and can't sign in.",
    signOutDevices: "Sign out devices",
    confirmSignOut: "Sign {name} out on every device? They sign in again to go on tracking.",
    signedOut: "{name} is signed out on {n} devices.",
    remove: "Remove…",
    removeTitle: "Remove {name}",
    removeHint: "Removing is erasure: their tracked time with its windows, titles and addresses, events, devices, manual time, corrections, timesheets and sign-ins are deleted for good, and the team's figures no longer count them. The audit trail keeps a row saying who removed whom and how much. To keep their history, disable them instead.",
    removeExport: "Download their data first",
    removeExported: "Saved {file}.",
    removeConfirm: "Type their email to confirm",
    removeGo: "Remove for good",
    removed: "{name} is removed: {rows} rows deleted.",
    inviteTitle: "Invite a colleague",
    inviteName: "Name (optional)",
    inviteManager: "Manager (optional)",
    noManager: "Nobody",
    send: "Create the link",
    cancel: "Cancel",
    close: "Close",
    copy: "Copy",
    copied: "Copied",
    linkFor: "The one-time link for {email}, valid 7 days:",
    resetFor: "The one-time link for {name} to choose a new password, valid one hour:",
    mail_sent: "It was mailed to them too.",
    mail_failed: "The mail could not be sent ({error}): send them this link yourself.",
    mail_pending: "The mail is on its way; if it does not arrive, send them this link.",
    mail_not_configured: "Send it to them: this server sends no mail.",
    manageTitle: "Whom {name} manages",
    save: "Save",
    importTitle: "Import people",
    importHint: "A CSV with a header row: email,name,role,manager (the manager by email). Every row becomes an invitation, or none does.",
    importFile: "CSV file",
    importGo: "Import",
    imported: "{n} invitations created. Their links:",
    importBad: "Nothing was imported. Fix these rows and import the file again:",
    line: "Line",
    reason: "Problem",
  },
  ru: {
    title: "Сотрудники",
    subtitleAdmin: "Все в вашей организации. Приглашайте коллег, назначайте роли и руководителей.",
    subtitleManager: "Сотрудники, которыми вы руководите.",
    search: "Поиск по имени или почте",
    anyRole: "Любая роль",
    anyStatus: "Любое состояние",
    anyManager: "Любой руководитель",
    admin: "Администратор",
    manager: "Руководитель",
    member: "Сотрудник",
    active: "Активен",
    disabled: "Отключён",
    name: "Имя",
    email: "Почта",
    role: "Роль",
    managers: "Руководитель",
    status: "Состояние",
    lastSeen: "Был в сети",
    devices: "Устройства",
    version: "Версия",
    never: "никогда",
    none: "—",
    noPeople: "Никто не подходит.",
    invite: "Пригласить",
    importCsv: "Импорт CSV",
    disable: "Отключить",
    enable: "Включить",
    resetLink: "Сброс пароля",
    managePeople: "Подчинённые",
    pending: "Ожидающие приглашения",
    noPending: "Приглашений нет.",
    expires: "Действует до",
    expired: "истекло",
    resend: "Отправить снова",
    revoke: "Отозвать",
    confirmRevoke: "Отозвать приглашение {email}? Ссылка перестанет работать.",
    confirmDisable: "Отключить {name}? Все входы будут завершены, войти снова будет нельзя.",
    signOutDevices: "Выйти на устройствах",
    confirmSignOut: "Завершить вход {name} на всех устройствах? Чтобы учитывать время дальше, нужно войти снова.",
    signedOut: "{name}: вход завершён на устройствах: {n}.",
    remove: "Удалить…",
    removeTitle: "Удалить: {name}",
    removeHint: "Удаление стирает данные: учтённое время с окнами, заголовками и адресами, события, устройства, ручное время, исправления, табели и входы удаляются навсегда, и итоги команды их больше не учитывают. В журнале аудита останется запись о том, кто кого удалил и сколько. Чтобы сохранить историю, лучше отключите сотрудника.",
    removeExport: "Сначала скачать его данные",
    removeExported: "Сохранено: {file}.",
    removeConfirm: "Введите его почту для подтверждения",
    removeGo: "Удалить навсегда",
    removed: "{name} удалён: удалено строк: {rows}.",
    inviteTitle: "Пригласить коллегу",
    inviteName: "Имя (необязательно)",
    inviteManager: "Руководитель (необязательно)",
    noManager: "Нет",
    send: "Создать ссылку",
    cancel: "Отмена",
    close: "Закрыть",
    copy: "Копировать",
    copied: "Скопировано",
    linkFor: "Одноразовая ссылка для {email}, действует 7 дней:",
    resetFor: "Одноразовая ссылка для {name}, чтобы выбрать новый пароль, действует час:",
    mail_sent: "Она также отправлена письмом.",
    mail_failed: "Письмо не отправилось ({error}): перешлите ссылку сами.",
    mail_pending: "Письмо в пути; если не дойдёт, перешлите ссылку сами.",
    mail_not_configured: "Перешлите её сами: этот сервер не отправляет писем.",
    manageTitle: "Кем руководит {name}",
    save: "Сохранить",
    importTitle: "Импорт сотрудников",
    importHint: "CSV со строкой заголовков: email,name,role,manager (руководитель — по почте). Каждая строка станет приглашением — или ни одна.",
    importFile: "Файл CSV",
    importGo: "Импортировать",
    imported: "Создано приглашений: {n}. Их ссылки:",
    importBad: "Ничего не импортировано. Исправьте строки и импортируйте файл снова:",
    line: "Строка",
    reason: "Ошибка",
  },
};

const PUBLIC_STRINGS = {
  en: {
    inviteTitle: "Join your team on Metron",
    inviteHint: "Choose the name your colleagues see and a password (at least 8 characters).",
    resetTitle: "Choose a new password",
    resetHint: "At least 8 characters. Your devices will ask you to sign in again.",
    name: "Your name",
    password: "Password",
    again: "Password again",
    mismatch: "The two passwords differ.",
    join: "Join",
    set: "Set the password",
    code: "Code from your authenticator app",
    codeAsked: "Your account has two-factor codes: enter the app's current code, or a recovery code.",
  },
  ru: {
    inviteTitle: "Присоединяйтесь к команде в Metron",
    inviteHint: "Укажите имя, которое увидят коллеги, и пароль (не меньше 8 символов).",
    resetTitle: "Выберите новый пароль",
    resetHint: "Не меньше 8 символов. Устройства попросят войти снова.",
    name: "Ваше имя",
    password: "Пароль",
    again: "Пароль ещё раз",
    mismatch: "Пароли не совпадают.",
    join: "Присоединиться",
    set: "Сохранить пароль",
    code: "Код из приложения-аутентификатора",
    codeAsked: "У вашего аккаунта включены двухфакторные коды: введите текущий код из приложения или резервный код.",
  },
};

/** A link the API answered: a path when the server has no public URL, so this page's address goes in front. */
const absolute = (link) => (link.startsWith("/") ? `${location.origin}${link}` : link);

export const page = {
  name: "people",
  label: { en: "People", ru: "Сотрудники" },
  visible: ({ role }) => role === "admin" || role === "manager",
  async render(root, ctx) {
    const t = ctx.translator(STRINGS);
    const { el } = ctx;
    const admin = ctx.role === "admin";
    const everyone = await ctx.api("/api/v1/users");
    const names = new Map(everyone.map((p) => [p.id, p.name]));

    const q = el("input", { id: "people-q", type: "search", placeholder: t("search"), "aria-label": t("search"), maxlength: 200 });
    const role = choice(ctx, "people-role", [["", t("anyRole")], ["admin", t("admin")], ["manager", t("manager")], ["member", t("member")]]);
    const status = choice(ctx, "people-status", [["", t("anyStatus")], ["active", t("active")], ["disabled", t("disabled")]]);
    const managerIds = [...new Set(everyone.flatMap((p) => p.managers))];
    const manager = choice(ctx, "people-manager", [["", t("anyManager")], ...managerIds.map((id) => [id, names.get(id) || id])]);
    const body = el("tbody");
    const empty = el("p", { class: "muted", text: t("noPeople"), hidden: true });
    const table = el(
      "table",
      { id: "people-table", class: "data-table" },
      el("thead", {}, el("tr", {}, ...[t("name"), t("email"), t("role"), t("managers"), t("status"), t("lastSeen"), t("devices"), t("version"), ""].map((h) => el("th", { scope: "col", text: h })))),
      body,
    );

    const reload = async () => {
      const query = new URLSearchParams();
      if (q.value.trim()) query.set("q", q.value.trim());
      for (const [key, node] of [["role", role], ["status", status], ["manager_id", manager]]) if (node.value) query.set(key, node.value);
      try {
        const list = await ctx.api(`/api/v1/users?${query}`);
        body.replaceChildren(...list.map((p) => personRow(ctx, t, p, names, everyone, admin, reload)));
        ctx.show(empty, list.length === 0);
        ctx.error(null);
      } catch (err) {
        ctx.error(err.message);
      }
    };
    let typing;
    q.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(reload, 250);
    });
    for (const node of [role, status, manager]) node.addEventListener("change", reload);

    const actions = [];
    if (admin) {
      actions.push(
        el("button", { id: "invite-open", type: "button", class: "primary", text: t("invite"), on: { click: () => inviteDialog(ctx, t, everyone, reloadAll) } }),
        el("button", { id: "import-open", type: "button", class: "secondary", text: t("importCsv"), on: { click: () => importDialog(ctx, t, reloadAll) } }),
      );
    }
    const pendingCard = el("section", { id: "people-pending", class: "card" });
    const reloadAll = async () => {
      await reload();
      if (admin) await drawPending(ctx, t, pendingCard, reloadAll);
    };
    root.append(
      el("div", { class: "section-head" }, el("div", {}, el("h1", { text: t("title") }), el("p", { class: "muted", text: admin ? t("subtitleAdmin") : t("subtitleManager") })), el("div", { class: "toolbar" }, ...actions)),
      el("section", { class: "card" }, el("div", { class: "toolbar" }, q, role, status, manager), table, empty),
    );
    if (admin) root.append(pendingCard);
    await reloadAll();
  },
};

/** Labels and controls one under the other (dialogs and the sign-in card are narrow for the
 * form grid's two columns); through the CSSOM, which the page's CSP allows. */
function stack(node) {
  Object.assign(node.style, { display: "flex", flexDirection: "column", gap: "6px" });
  return node;
}

function choice(ctx, id, options) {
  const node = ctx.el("select", { id });
  for (const [v, label] of options) node.append(ctx.el("option", { value: v, text: label }));
  return node;
}

function personRow(ctx, t, p, names, everyone, admin, reload) {
  const { el } = ctx;
  const act = async (fn) => {
    try {
      await fn();
      ctx.error(null);
      await reload();
    } catch (err) {
      ctx.error(err.message);
    }
  };
  let roleCell;
  if (admin && p.id !== ctx.me.id) {
    roleCell = choice(ctx, `role-${p.id}`, [["admin", t("admin")], ["manager", t("manager")], ["member", t("member")]]);
    roleCell.value = p.role;
    roleCell.setAttribute("aria-label", `${t("role")}: ${p.name}`);
    roleCell.addEventListener("change", () => act(() => ctx.api(`/api/v1/users/${encodeURIComponent(p.id)}/role`, { method: "PUT", body: { role: roleCell.value } })));
  } else {
    roleCell = el("span", { class: p.role === "member" ? "pill" : "pill accent", text: t(p.role) });
  }
  const buttons = [];
  if (admin) {
    if (p.role !== "member") {
      buttons.push(el("button", { type: "button", class: "ghost", text: t("managePeople"), on: { click: () => manageDialog(ctx, t, p, everyone, reload) } }));
    }
    buttons.push(
      el("button", {
        type: "button",
        class: "ghost",
        text: t("resetLink"),
        disabled: p.disabled,
        on: {
          click: () =>
            act(async () => {
              const issued = await ctx.api(`/api/v1/users/${encodeURIComponent(p.id)}/reset-link`, { method: "POST" });
              linkDialog(ctx, t, t("resetFor", { name: p.name }), issued);
            }),
        },
      }),
    );
    if (p.id !== ctx.me.id) {
      buttons.push(
        el("button", {
          type: "button",
          class: "ghost",
          text: p.disabled ? t("enable") : t("disable"),
          on: {
            click: () => {
              if (!p.disabled && !confirm(t("confirmDisable", { name: p.name }))) return;
              act(() => ctx.api(`/api/v1/users/${encodeURIComponent(p.id)}/${p.disabled ? "enable" : "disable"}`, { method: "POST" }));
            },
          },
        }),
        el("button", {
          type: "button",
          class: "ghost",
          text: t("signOutDevices"),
          on: {
            click: () => {
              if (!confirm(t("confirmSignOut", { name: p.name }))) return;
              act(async () => {
                const answer = await ctx.api(`/api/v1/users/${encodeURIComponent(p.id)}/revoke-tokens`, { method: "POST" });
                notice(ctx, t, "signout-dialog", t("signOutDevices"), t("signedOut", { name: p.name, n: answer.revoked }));
              });
            },
          },
        }),
        el("button", { type: "button", class: "ghost danger", dataset: { action: "remove" }, text: t("remove"), on: { click: () => removeDialog(ctx, t, p, reload) } }),
      );
    }
  }
  return el(
    "tr",
    { dataset: { id: p.id, email: p.email } },
    el("td", { text: p.name }),
    el("td", { text: p.email }),
    el("td", {}, roleCell),
    el("td", { text: p.managers.map((m) => names.get(m) || m).join(", ") || t("none") }),
    el("td", {}, el("span", { class: p.disabled ? "pill bad" : "pill", text: p.disabled ? t("disabled") : t("active") })),
    el("td", { text: p.last_seen ? ctx.dateTime(p.last_seen) : t("never") }),
    el("td", { text: String(p.devices) }),
    el("td", { text: p.app_version || t("none") }),
    el("td", { class: "actions" }, ...buttons),
  );
}

async function drawPending(ctx, t, card, reloadAll) {
  const { el } = ctx;
  const list = await ctx.api("/api/v1/invitations");
  const act = async (fn) => {
    try {
      await fn();
      ctx.error(null);
      await reloadAll();
    } catch (err) {
      ctx.error(err.message);
    }
  };
  const rows = list.map((i) =>
    el(
      "tr",
      { dataset: { id: i.id, email: i.email } },
      el("td", { text: i.email }),
      el("td", { text: i.name || t("none") }),
      el("td", {}, el("span", { class: "pill", text: t(i.role) })),
      el("td", {}, i.expired ? el("span", { class: "pill bad", text: t("expired") }) : document.createTextNode(ctx.dateTime(i.expires_at))),
      el(
        "td",
        { class: "actions" },
        el("button", {
          type: "button",
          class: "ghost",
          text: t("resend"),
          on: {
            click: () =>
              act(async () => {
                const issued = await ctx.api(`/api/v1/invitations/${encodeURIComponent(i.id)}/resend`, { method: "POST" });
                linkDialog(ctx, t, t("linkFor", { email: i.email }), issued);
              }),
          },
        }),
        el("button", {
          type: "button",
          class: "ghost",
          text: t("revoke"),
          on: {
            click: () => {
              if (confirm(t("confirmRevoke", { email: i.email }))) act(() => ctx.api(`/api/v1/invitations/${encodeURIComponent(i.id)}`, { method: "DELETE" }));
            },
          },
        }),
      ),
    ),
  );
  card.replaceChildren(
    el("div", { class: "card-head" }, el("h2", { text: t("pending") })),
    list.length
      ? el("table", { class: "data-table" }, el("thead", {}, el("tr", {}, ...[t("email"), t("name"), t("role"), t("expires"), ""].map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, ...rows))
      : el("p", { class: "muted", text: t("noPending") }),
  );
}

/** A modal dialog appended to the page, removed when closed. */
function dialog(ctx, id, title, ...content) {
  const node = ctx.el("dialog", { id, class: "sheet-dialog" }, ctx.el("h2", { text: title }), ...content);
  node.addEventListener("close", () => node.remove());
  document.body.append(node);
  node.showModal();
  return node;
}

function copyBox(ctx, t, text) {
  const { el } = ctx;
  const input = el("input", { class: "link-value", readonly: true, value: text, "aria-label": "link" });
  const button = el("button", {
    type: "button",
    class: "secondary",
    text: t("copy"),
    on: {
      click: async () => {
        input.select();
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          document.execCommand("copy");
        }
        button.textContent = t("copied");
      },
    },
  });
  return el("div", { class: "copy-box" }, input, button);
}

function mailLine(ctx, t, mail) {
  return ctx.el("p", { class: "muted small mail-status", dataset: { status: mail.status }, text: t(`mail_${mail.status}`, { error: mail.error || "" }) });
}

/** Shows an issued link (an invitation's or a reset's) to copy, with what became of its mail. */
function linkDialog(ctx, t, heading, issued) {
  const { el } = ctx;
  const close = el("button", { type: "button", class: "primary", text: t("close") });
  const node = dialog(ctx, "link-dialog", heading, copyBox(ctx, t, absolute(issued.link)), mailLine(ctx, t, issued.mail), el("div", { class: "form-actions" }, close));
  close.addEventListener("click", () => node.close());
}

function inviteDialog(ctx, t, everyone, reloadAll) {
  const { el } = ctx;
  const email = el("input", { id: "invite-email", name: "email", type: "email", required: true, maxlength: 254, autocomplete: "off" });
  const name = el("input", { id: "invite-name", name: "name", maxlength: 200 });
  const role = choice(ctx, "invite-role", [["member", t("member")], ["manager", t("manager")], ["admin", t("admin")]]);
  const manager = choice(ctx, "invite-manager", [["", t("noManager")], ...everyone.filter((p) => !p.disabled && p.role !== "member").map((p) => [p.id, p.name])]);
  const cancel = el("button", { type: "button", class: "ghost", text: t("cancel") });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const form = el(
    "form",
    { id: "invite-form", novalidate: true },
    el("label", { for: "invite-email", text: t("email") }),
    email,
    el("label", { for: "invite-name", text: t("inviteName") }),
    name,
    el("label", { for: "invite-role", text: t("role") }),
    role,
    el("label", { for: "invite-manager", text: t("inviteManager") }),
    manager,
  );
  stack(form);
  const submit = el("button", { type: "submit", class: "primary", text: t("send"), form: "invite-form" });
  const node = dialog(ctx, "invite-dialog", t("inviteTitle"), form, error, el("div", { class: "form-actions" }, cancel, submit));
  cancel.addEventListener("click", () => node.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const issued = await ctx.api("/api/v1/invitations", {
        method: "POST",
        body: { email: email.value.trim(), name: name.value.trim() || null, role: role.value, manager_id: manager.value || null },
      });
      node.close();
      linkDialog(ctx, t, t("linkFor", { email: issued.email }), issued);
      await reloadAll();
    } catch (err) {
      error.textContent = err.message;
      ctx.show(error, true);
    } finally {
      submit.disabled = false;
    }
  });
  email.focus();
}

/** Whom a manager (or admin) manages: a checkbox per other person, saved with PUT .../managed. */
async function manageDialog(ctx, t, manager, everyone, reload) {
  const { el } = ctx;
  let managed;
  try {
    managed = new Set((await ctx.api(`/api/v1/users/${encodeURIComponent(manager.id)}/managed`)).users);
  } catch (err) {
    ctx.error(err.message);
    return;
  }
  const boxes = everyone
    .filter((p) => p.id !== manager.id)
    .map((p) => {
      const box = el("input", { type: "checkbox", value: p.id, id: `managed-${p.id}` });
      box.checked = managed.has(p.id);
      return el("label", { for: box.id }, box, ` ${p.name} (${p.email})`);
    });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const cancel = el("button", { type: "button", class: "ghost", text: t("cancel") });
  const save = el("button", { id: "managed-save", type: "button", class: "primary", text: t("save") });
  const list = stack(el("div", { id: "managed-list" }, ...boxes));
  const node = dialog(ctx, "managed-dialog", t("manageTitle", { name: manager.name }), list, error, el("div", { class: "form-actions" }, cancel, save));
  cancel.addEventListener("click", () => node.close());
  save.addEventListener("click", async () => {
    const users = [...list.querySelectorAll("input:checked")].map((b) => b.value);
    try {
      await ctx.api(`/api/v1/users/${encodeURIComponent(manager.id)}/managed`, { method: "PUT", body: { users } });
      node.close();
      ctx.error(null);
      await reload();
    } catch (err) {
      error.textContent = err.message;
      ctx.show(error, true);
    }
  });
}

/** A done action's outcome, in a dialog closed by its button. */
function notice(ctx, t, id, title, text) {
  const close = ctx.el("button", { type: "button", class: "primary", text: t("close") });
  const node = dialog(ctx, id, title, ctx.el("p", { class: "notice-text", text }), ctx.el("div", { class: "form-actions" }, close));
  close.addEventListener("click", () => node.close());
}

/** Removal: what it erases, the person's export to keep first, their email typed to confirm. */
function removeDialog(ctx, t, p, reload) {
  const { el } = ctx;
  const status = el("p", { id: "remove-status", class: "muted small", role: "status" });
  const exportButton = el("button", { id: "remove-export", type: "button", class: "secondary", text: t("removeExport") });
  const typed = el("input", { id: "remove-email", type: "email", autocomplete: "off", maxlength: 254 });
  const close = el("button", { type: "button", class: "ghost", text: t("close") });
  const go = el("button", { id: "remove-go", type: "button", class: "primary danger", text: t("removeGo"), disabled: true });
  const node = dialog(
    ctx,
    "remove-dialog",
    t("removeTitle", { name: p.name }),
    el("p", { class: "muted small", text: t("removeHint") }),
    el("div", { class: "toolbar" }, exportButton),
    stack(el("div", {}, el("label", { for: "remove-email", text: t("removeConfirm") }), typed)),
    status,
    el("div", { class: "form-actions" }, close, go),
  );
  const fail = (err) => {
    status.className = "error";
    status.textContent = err.message;
  };
  close.addEventListener("click", () => node.close());
  typed.addEventListener("input", () => {
    go.disabled = typed.value.trim().toLowerCase() !== p.email.toLowerCase();
  });
  exportButton.addEventListener("click", async () => {
    exportButton.disabled = true;
    try {
      const response = await ctx.api(`/api/v1/users/${encodeURIComponent(p.id)}/export`, { raw: true });
      const url = URL.createObjectURL(await response.blob());
      const file = `metron-${p.email}.zip`;
      const link = el("a", { href: url, download: file });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.className = "saved";
      status.textContent = t("removeExported", { file });
    } catch (err) {
      fail(err);
    } finally {
      exportButton.disabled = false;
    }
  });
  go.addEventListener("click", async () => {
    go.disabled = true;
    try {
      const answer = await ctx.api(`/api/v1/users/${encodeURIComponent(p.id)}`, { method: "DELETE" });
      const rows = Object.values(answer.deleted || {}).reduce((a, b) => a + b, 0);
      node.close();
      await reload();
      ctx.error(null);
      notice(ctx, t, "removed-dialog", t("removeTitle", { name: p.name }), t("removed", { name: p.name, rows }));
    } catch (err) {
      fail(err);
      go.disabled = false;
    }
  });
}

function importDialog(ctx, t, reloadAll) {
  const { el } = ctx;
  const file = el("input", { id: "import-file", type: "file", accept: ".csv,text/csv", required: true });
  const report = el("div", { id: "import-report" });
  const close = el("button", { type: "button", class: "ghost", text: t("close") });
  const go = el("button", { id: "import-go", type: "button", class: "primary", text: t("importGo") });
  const node = dialog(
    ctx,
    "import-dialog",
    t("importTitle"),
    el("p", { class: "muted small", text: t("importHint") }),
    stack(el("div", {}, el("label", { for: "import-file", text: t("importFile") }), file)),
    report,
    el("div", { class: "form-actions" }, close, go),
  );
  close.addEventListener("click", () => node.close());
  go.addEventListener("click", async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    go.disabled = true;
    report.replaceChildren();
    try {
      const answer = await postCsv(await chosen.text());
      if (answer.status === 422) {
        report.append(
          el("p", { class: "error", text: t("importBad") }),
          el(
            "table",
            { class: "data-table import-problems" },
            el("thead", {}, el("tr", {}, ...[t("line"), t("email"), t("reason")].map((h) => el("th", { scope: "col", text: h })))),
            el("tbody", {}, ...answer.body.problems.map((p) => el("tr", { dataset: { line: String(p.line) } }, el("td", { text: String(p.line) }), el("td", { text: p.email }), el("td", { text: p.reason })))),
          ),
        );
      } else {
        const lines = answer.body.invitations.map((i) => `${i.email} ${absolute(i.link)}`).join("\n");
        report.append(el("p", { class: "saved", text: t("imported", { n: answer.body.imported }) }), el("textarea", { class: "import-links", readonly: true, rows: 6, text: lines }));
        await reloadAll();
      }
    } catch (err) {
      report.append(el("p", { class: "error", role: "alert", text: err.message }));
    } finally {
      go.disabled = false;
    }
  });
}

/** POSTs a CSV as text/csv (the page's `api` sends JSON): {status, body} for 201 and 422. */
async function postCsv(text) {
  const response = await fetch("/api/v1/invitations/import", {
    method: "POST",
    headers: { authorization: `Bearer ${sessionStorage.getItem("metron.token")}`, "content-type": "text/csv" },
    body: text,
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 201 || response.status === 422) return { status: response.status, body };
  throw new Error(typeof body.error === "string" ? body.error : `${response.status} ${response.statusText}`);
}

// ---------- the pages a link opens ----------

/** A public form: fields, a submit button; `send(values)` answers as login does. */
function linkForm(ctx, value, { title, hint, withName, button, path }) {
  const t = ctx.translator(PUBLIC_STRINGS);
  const { el } = ctx;
  const fields = [];
  const name = el("input", { id: "link-name", name: "name", maxlength: 200, required: true, autocomplete: "name" });
  if (withName) fields.push(el("label", { for: "link-name", text: t("name") }), name);
  const password = el("input", { id: "link-password", name: "password", type: "password", minlength: 8, maxlength: 1024, required: true, autocomplete: "new-password" });
  const again = el("input", { id: "link-again", name: "again", type: "password", minlength: 8, maxlength: 1024, required: true, autocomplete: "new-password" });
  fields.push(el("label", { for: "link-password", text: t("password") }), password, el("label", { for: "link-again", text: t("again") }), again);
  // A reset link does not pass two-factor codes: the server asks for one (401), then this shows.
  const code = el("input", { id: "link-code", name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 64 });
  const codeField = el("div", { class: "signin-code", hidden: true }, el("label", { for: "link-code", text: t("code") }), code);
  fields.push(codeField);
  const error = el("p", { id: "link-error", class: "error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "primary", text: t(button) });
  const form = stack(el("form", { id: "link-form", novalidate: true }, el("div", { class: "brand" }, el("span", { class: "logo", "aria-hidden": "true" }), "Metron"), el("h1", { text: t(title) }), el("p", { class: "muted", text: t(hint) }), ...fields, error, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ctx.show(error, false);
    if (password.value !== again.value) {
      error.textContent = t("mismatch");
      ctx.show(error, true);
      return;
    }
    submit.disabled = true;
    try {
      const body = { token: value, password: password.value };
      if (withName) body.name = name.value.trim();
      if (!codeField.hidden && code.value.trim()) body.second_factor = code.value.trim();
      const answer = await ctx.api(path, { method: "POST", body });
      await ctx.signedIn(answer);
    } catch (err) {
      if (err.status === 401 && err.message.startsWith("second_factor_")) {
        ctx.show(codeField, true);
        code.value = "";
        code.focus();
      }
      error.textContent = err.status === 401 && err.message.startsWith("second_factor_required") ? t("codeAsked") : err.message;
      ctx.show(error, true);
      submit.disabled = false;
    }
  });
  return form;
}

export const publicPages = [
  {
    key: "invite",
    async render(root, ctx, value) {
      root.append(linkForm(ctx, value, { title: "inviteTitle", hint: "inviteHint", withName: true, button: "join", path: "/api/v1/invitations/accept" }));
    },
  },
  {
    key: "reset",
    async render(root, ctx, value) {
      root.append(linkForm(ctx, value, { title: "resetTitle", hint: "resetHint", withName: false, button: "set", path: "/api/v1/password-reset" }));
    },
  },
];
