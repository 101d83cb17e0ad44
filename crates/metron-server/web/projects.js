// Projects (issue 28, item 3), for admins: each project a card with its colour, client, members
// and tasks; projects and tasks created, renamed in place, tasks moved between projects, both
// archived and restored (archived ones hidden unless "Show archived" is on, then shown muted),
// and a project's members chosen from the organization's people (none: everyone). Every action
// goes through the API (docs/ADMIN.md "Projects and tasks") and redraws the list from its answer.
// "Show archived" lives in the hash (#page=projects&archived=1), so a change of language, which
// re-draws the section from scratch, keeps it.

/** The server's palette (src/projects.rs), offered first; any #rrggbb goes too. */
const PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];
const HEX = /^#[0-9a-fA-F]{6}$/;

const STRINGS = {
  en: {
    title: "Projects",
    subtitle: "Projects and their tasks: what people pick in the desktop app and the agent. Archiving hides; the time stays in every report.",
    search: "Search projects, clients, tasks",
    showArchived: "Show archived",
    newProject: "New project",
    summary: (v) => `${v.projects} ${v.projects === 1 ? "project" : "projects"} · ${v.tasks} ${v.tasks === 1 ? "task" : "tasks"}`,
    tasks: (v) => `${v.n} ${v.n === 1 ? "task" : "tasks"}`,
    archivedCount: "{n} archived",
    everyone: "Everyone sees it",
    membersOf: "Members: {names}",
    andMore: "+{n}",
    archived: "Archived",
    noClient: "No client",
    noProject: "No project",
    noProjectHint: "Tasks in no project: everyone sees them.",
    noProjects: "No projects yet. Create the first one, then add the tasks people pick when they track time.",
    noMatch: "Nothing matches.",
    noTasks: "No tasks yet.",
    task: "Task",
    rename: "Rename",
    edit: "Edit",
    members: "Members",
    archive: "Archive",
    restore: "Restore",
    moveTo: "Move to…",
    moveLabel: "Move {name} to another project",
    newTask: "New task in {project}",
    newTaskNone: "New task in no project",
    addTask: "Add task",
    save: "Save",
    cancel: "Cancel",
    name: "Name",
    client: "Client (optional)",
    colour: "Colour",
    colourCustom: "Any colour",
    colourBad: "A colour is # and six hex digits, like #2563eb.",
    create: "Create project",
    newTitle: "New project",
    editTitle: "Edit {name}",
    membersTitle: "Who sees {name}",
    membersHint: "Only the people ticked (and the admins) get its tasks in the desktop app and the agent. Nobody ticked: everyone does. Reports are not affected.",
    clearMembers: "Everyone (untick all)",
    confirmArchiveProject: "Archive {name}? Its tasks leave the desktop app's lists at their next refresh; their time stays in every report.",
    nameLabel: "Name of {name}",
  },
  ru: {
    title: "Проекты",
    subtitle: "Проекты и их задачи: из них выбирают в приложении и агенте. Архив скрывает, а время остаётся во всех отчётах.",
    search: "Поиск проектов, клиентов, задач",
    showArchived: "Показать архив",
    newProject: "Новый проект",
    summary: (v) => `${v.projects} ${ru(v.projects, "проект", "проекта", "проектов")} · ${v.tasks} ${ru(v.tasks, "задача", "задачи", "задач")}`,
    tasks: (v) => `${v.n} ${ru(v.n, "задача", "задачи", "задач")}`,
    archivedCount: "в архиве: {n}",
    everyone: "Видят все",
    membersOf: "Участники: {names}",
    andMore: "+{n}",
    archived: "В архиве",
    noClient: "Без клиента",
    noProject: "Без проекта",
    noProjectHint: "Задачи вне проектов: их видят все.",
    noProjects: "Проектов пока нет. Создайте первый и добавьте задачи, которые сотрудники выбирают, отмечая время.",
    noMatch: "Ничего не найдено.",
    noTasks: "Задач пока нет.",
    task: "Задача",
    rename: "Переименовать",
    edit: "Изменить",
    members: "Участники",
    archive: "В архив",
    restore: "Восстановить",
    moveTo: "Перенести в…",
    moveLabel: "Перенести {name} в другой проект",
    newTask: "Новая задача в «{project}»",
    newTaskNone: "Новая задача вне проектов",
    addTask: "Добавить задачу",
    save: "Сохранить",
    cancel: "Отмена",
    name: "Название",
    client: "Клиент (необязательно)",
    colour: "Цвет",
    colourCustom: "Любой цвет",
    colourBad: "Цвет — это # и шесть шестнадцатеричных цифр, например #2563eb.",
    create: "Создать проект",
    newTitle: "Новый проект",
    editTitle: "Изменить «{name}»",
    membersTitle: "Кто видит «{name}»",
    membersHint: "Задачи проекта в приложении и агенте получат только отмеченные (и администраторы). Никто не отмечен — все. На отчёты это не влияет.",
    clearMembers: "Все (снять отметки)",
    confirmArchiveProject: "Отправить «{name}» в архив? Его задачи исчезнут из списков приложения при следующем обновлении; время останется во всех отчётах.",
    nameLabel: "Название: {name}",
  },
};

/** The Russian form of a count: 1, 2-4, 5-20 (21 takes the first again). */
function ru(n, one, few, many) {
  const m10 = n % 10;
  const m100 = n % 100;
  if (m10 === 1 && m100 !== 11) return one;
  if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return few;
  return many;
}

const hashParams = () => new URLSearchParams(location.hash.slice(1));

/** Keeps "Show archived" in the address without a hashchange (which would re-draw the page). */
function setArchivedInHash(on) {
  const params = hashParams();
  if (on) params.set("archived", "1");
  else params.delete("archived");
  history.replaceState(null, "", `#${params}`);
}

export const page = {
  name: "projects",
  label: { en: "Projects", ru: "Проекты" },
  visible: ({ role }) => role === "admin",
  async render(root, ctx) {
    const t = ctx.translator(STRINGS);
    const { el } = ctx;
    const people = await ctx.api("/api/v1/users");
    const view = { ctx, t, people, archived: hashParams().get("archived") === "1", data: null, query: "" };

    const search = el("input", { id: "projects-q", type: "search", placeholder: t("search"), "aria-label": t("search"), maxlength: 200 });
    const toggle = el("input", { id: "projects-archived", type: "checkbox" });
    toggle.checked = view.archived;
    const summary = el("span", { id: "projects-summary", class: "muted small" });
    const list = el("div", { id: "projects-list", class: "projects-list" });
    view.list = list;
    view.summary = summary;
    view.reload = async () => {
      view.data = await ctx.api(`/api/v1/projects${view.archived ? "?archived=true" : ""}`);
      draw(view);
    };
    view.act = async (fn) => {
      try {
        await fn();
        ctx.error(null);
        await view.reload();
      } catch (err) {
        ctx.error(err.message);
      }
    };

    search.addEventListener("input", () => {
      view.query = search.value.trim().toLowerCase();
      draw(view);
    });
    toggle.addEventListener("change", async () => {
      view.archived = toggle.checked;
      setArchivedInHash(view.archived);
      try {
        await view.reload();
        ctx.error(null);
      } catch (err) {
        ctx.error(err.message);
      }
    });

    root.append(
      el(
        "div",
        { class: "section-head" },
        el("div", {}, el("h1", { text: t("title") }), el("p", { class: "muted", text: t("subtitle") })),
        el("div", { class: "toolbar" }, el("button", { id: "project-new", type: "button", class: "primary", text: t("newProject"), on: { click: () => projectDialog(view, null) } })),
      ),
      el(
        "div",
        { class: "toolbar projects-toolbar" },
        search,
        el("label", { class: "check", for: "projects-archived" }, toggle, el("span", { text: t("showArchived") })),
        summary,
      ),
      list,
    );
    await view.reload();
  },
};

// ---------- the list ----------

/** Whether a project or task matches the search box (a project matching shows all its tasks). */
function matches(query, ...texts) {
  return !query || texts.some((s) => (s || "").toLowerCase().includes(query));
}

function draw(view) {
  const { ctx, t, data, query } = view;
  const { el } = ctx;
  const cards = [];
  // Open projects by name, then the archived ones (shown on request) below them.
  for (const p of [...data.projects.filter((x) => !x.archived), ...data.projects.filter((x) => x.archived)]) {
    const own = matches(query, p.name, p.client);
    const tasks = own ? p.tasks : p.tasks.filter((k) => matches(query, k.name));
    if (own || tasks.length) cards.push(projectCard(view, p, tasks));
  }
  const loose = data.unassigned.filter((k) => matches(query, k.name));
  if (loose.length) cards.push(unassignedCard(view, loose));
  const live = data.projects.filter((p) => !p.archived);
  const liveTasks = [...data.projects.filter((p) => !p.archived).flatMap((p) => p.tasks), ...data.unassigned].filter((k) => !k.archived);
  view.summary.textContent = t("summary", { projects: live.length, tasks: liveTasks.length });
  if (!cards.length) {
    cards.push(el("p", { id: "projects-empty", class: "card empty-projects muted", text: data.projects.length || data.unassigned.length ? t("noMatch") : t("noProjects") }));
  }
  view.list.replaceChildren(...cards);
}

function dot(ctx, colour) {
  const node = ctx.el("span", { class: "colour-dot", "aria-hidden": "true" });
  node.style.backgroundColor = colour;
  return node;
}

/** Who sees the project's tasks: "Everyone", or the first names and "+N". */
function membersText(view, p) {
  const { t, people } = view;
  if (!p.members.length) return t("everyone");
  const names = p.members.map((id) => people.find((u) => u.id === id)?.name || id);
  const shown = names.slice(0, 3).join(", ");
  return t("membersOf", { names: names.length > 3 ? `${shown} ${t("andMore", { n: names.length - 3 })}` : shown });
}

function projectCard(view, p, tasks) {
  const { ctx, t } = view;
  const { el } = ctx;
  const nameNode = el("span", { class: "project-name", text: p.name });
  const title = el("div", { class: "project-title" }, nameNode, el("span", { class: "project-client muted", text: p.client || t("noClient") }));
  const live = p.tasks.filter((k) => !k.archived).length;
  const gone = p.tasks.length - live;
  const meta = el(
    "div",
    { class: "project-meta" },
    el("span", { class: "pill task-count", text: t("tasks", { n: live }) }),
    gone ? el("span", { class: "pill", text: t("archivedCount", { n: gone }) }) : null,
    el("span", { class: p.members.length ? "pill accent members" : "pill members", text: membersText(view, p) }),
    p.archived ? el("span", { class: "pill bad", text: t("archived") }) : null,
  );
  const button = (cls, text, click) => el("button", { type: "button", class: `ghost ${cls}`, text, on: { click } });
  const patch = (body) => ctx.api(`/api/v1/projects/${encodeURIComponent(p.id)}`, { method: "PATCH", body });
  const actions = p.archived
    ? [el("button", { type: "button", class: "secondary restore", text: t("restore"), on: { click: () => view.act(() => patch({ archived: false })) } })]
    : [
        button("rename", t("rename"), () => renameInPlace(view, nameNode, p.name, (name) => patch({ name }))),
        button("edit", t("edit"), () => projectDialog(view, p)),
        button("members-open", t("members"), () => membersDialog(view, p)),
        button("archive", t("archive"), () => {
          if (confirm(t("confirmArchiveProject", { name: p.name }))) view.act(() => patch({ archived: true }));
        }),
      ];
  nameNode.addEventListener("dblclick", () => !p.archived && renameInPlace(view, nameNode, p.name, (name) => patch({ name })));
  const card = el(
    "section",
    { class: p.archived ? "card project-card archived" : "card project-card", dataset: { id: p.id, name: p.name } },
    el("div", { class: "project-head" }, dot(ctx, p.colour), title, meta, el("div", { class: "actions" }, ...actions)),
    taskTable(view, tasks, p),
  );
  if (!p.archived) card.append(addTaskForm(view, p));
  return card;
}

function unassignedCard(view, tasks) {
  const { ctx, t } = view;
  const { el } = ctx;
  const none = el("span", { class: "colour-dot none", "aria-hidden": "true" });
  return el(
    "section",
    { id: "projects-unassigned", class: "card project-card" },
    el("div", { class: "project-head" }, none, el("div", { class: "project-title" }, el("span", { class: "project-name", text: t("noProject") }), el("span", { class: "project-client muted", text: t("noProjectHint") }))),
    taskTable(view, tasks, null),
  );
}

function taskTable(view, tasks, project) {
  const { ctx, t } = view;
  const { el } = ctx;
  if (!tasks.length) return el("p", { class: "muted small no-tasks", text: t("noTasks") });
  return el("table", { class: "data-table task-table" }, el("tbody", {}, ...tasks.map((k) => taskRow(view, k, project))));
}

function taskRow(view, task, project) {
  const { ctx, t, data } = view;
  const { el } = ctx;
  const patch = (body) => ctx.api(`/api/v1/tasks/${encodeURIComponent(task.id)}`, { method: "PATCH", body });
  const nameNode = el("span", { class: "task-name", text: task.name });
  const muted = task.archived || project?.archived;
  const cells = [el("td", { class: "task-cell" }, nameNode, task.archived ? el("span", { class: "pill bad", text: t("archived") }) : null)];
  const actions = el("td", { class: "actions" });
  if (task.archived) {
    actions.append(el("button", { type: "button", class: "secondary restore", text: t("restore"), on: { click: () => view.act(() => patch({ archived: false })) } }));
  } else if (!project?.archived) {
    // Tasks can only go into projects that are open; "" is no project.
    const targets = data.projects.filter((p) => !p.archived && p.id !== project?.id);
    const move = el("select", { class: "move", "aria-label": t("moveLabel", { name: task.name }) }, el("option", { value: "-", text: t("moveTo") }));
    for (const p of targets) move.append(el("option", { value: p.id, text: p.name }));
    if (project) move.append(el("option", { value: "", text: t("noProject") }));
    move.value = "-";
    move.addEventListener("change", () => {
      if (move.value !== "-") view.act(() => patch({ project_id: move.value }));
    });
    actions.append(
      el("button", { type: "button", class: "ghost rename", text: t("rename"), on: { click: () => renameInPlace(view, nameNode, task.name, (name) => patch({ name })) } }),
      move,
      el("button", { type: "button", class: "ghost archive", text: t("archive"), on: { click: () => view.act(() => patch({ archived: true })) } }),
    );
    nameNode.addEventListener("dblclick", () => renameInPlace(view, nameNode, task.name, (name) => patch({ name })));
  }
  cells.push(actions);
  return el("tr", { class: muted ? "archived" : null, dataset: { id: task.id, name: task.name } }, ...cells);
}

/** Swaps a name for a field with Save and Cancel: Enter saves, Escape gives the name back. */
function renameInPlace(view, nameNode, current, save) {
  const { ctx, t } = view;
  const { el } = ctx;
  if (nameNode.hidden) return;
  const input = el("input", { class: "rename-input", value: current, maxlength: 200, required: true, "aria-label": t("nameLabel", { name: current }) });
  const cancel = el("button", { type: "button", class: "ghost", text: t("cancel") });
  const form = el("form", { class: "rename-form" }, input, el("button", { type: "submit", class: "primary", text: t("save") }), cancel);
  const back = () => {
    form.remove();
    nameNode.hidden = false;
  };
  cancel.addEventListener("click", back);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") back();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name || name === current) return back();
    view.act(() => save(name));
  });
  nameNode.hidden = true;
  nameNode.after(form);
  input.focus();
  input.select();
}

function addTaskForm(view, project) {
  const { ctx, t } = view;
  const { el } = ctx;
  const placeholder = t("newTask", { project: project.name });
  const input = el("input", { class: "new-task", placeholder, "aria-label": placeholder, maxlength: 200, required: true });
  const form = el("form", { class: "add-task" }, input, el("button", { type: "submit", class: "secondary", text: t("addTask") }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) return;
    // POST /api/v1/tasks names its project (the desktop app's wire format).
    view.act(() => ctx.api("/api/v1/tasks", { method: "POST", body: { name, project: project.name } }));
  });
  return form;
}

// ---------- dialogs ----------

/** A modal dialog appended to the page, removed when closed. */
function dialog(ctx, id, title, ...content) {
  const node = ctx.el("dialog", { id, class: "sheet-dialog" }, ctx.el("h2", { text: title }), ...content);
  node.addEventListener("close", () => node.remove());
  document.body.append(node);
  node.showModal();
  return node;
}

/** The colour picker: the palette's swatches, the browser's picker and the hex, kept in step. */
function colourField(view, initial) {
  const { ctx, t } = view;
  const { el } = ctx;
  let value = initial.toLowerCase();
  const hex = el("input", { id: "project-colour", name: "colour", class: "hex-input", value, maxlength: 7, spellcheck: "false", "aria-label": t("colour") });
  const picker = el("input", { id: "project-colour-picker", type: "color", value, title: t("colourCustom"), "aria-label": t("colourCustom") });
  const swatches = PALETTE.map((c) => {
    const b = el("button", { type: "button", class: "swatch-button", title: c, "aria-label": c, dataset: { colour: c } });
    b.style.backgroundColor = c;
    b.addEventListener("click", () => set(c));
    return b;
  });
  const set = (c, from) => {
    value = c.toLowerCase();
    if (from !== hex) hex.value = value;
    if (HEX.test(value)) picker.value = value;
    for (const b of swatches) b.setAttribute("aria-pressed", String(b.dataset.colour === value));
  };
  picker.addEventListener("input", () => set(picker.value, picker));
  hex.addEventListener("input", () => set(hex.value.trim(), hex));
  set(value);
  return { node: el("div", { class: "colour-field" }, ...swatches, picker, hex), value: () => value };
}

/** New project (`p` null) or edit one: name, client, colour. */
function projectDialog(view, p) {
  const { ctx, t, data } = view;
  const { el } = ctx;
  const used = new Set(data.projects.map((x) => x.colour));
  const fresh = PALETTE.find((c) => !used.has(c)) || PALETTE[data.projects.length % PALETTE.length];
  const name = el("input", { id: "project-name", name: "name", maxlength: 200, required: true, value: p ? p.name : "", autocomplete: "off" });
  const client = el("input", { id: "project-client", name: "client", maxlength: 200, value: p ? p.client : "", autocomplete: "off" });
  const colour = colourField(view, p ? p.colour : fresh);
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const cancel = el("button", { type: "button", class: "ghost", text: t("cancel") });
  const submit = el("button", { type: "submit", class: "primary", text: p ? t("save") : t("create"), form: "project-form" });
  const form = el(
    "form",
    { id: "project-form", class: "dialog-form", novalidate: true },
    el("label", { for: "project-name", text: t("name") }),
    name,
    el("label", { for: "project-client", text: t("client") }),
    client,
    el("label", { for: "project-colour", text: t("colour") }),
    colour.node,
  );
  const node = dialog(ctx, "project-dialog", p ? t("editTitle", { name: p.name }) : t("newTitle"), form, error, el("div", { class: "form-actions" }, cancel, submit));
  cancel.addEventListener("click", () => node.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ctx.show(error, false);
    if (!HEX.test(colour.value())) {
      error.textContent = t("colourBad");
      ctx.show(error, true);
      return;
    }
    const body = { name: name.value.trim(), client: client.value.trim(), colour: colour.value() };
    submit.disabled = true;
    try {
      if (p) {
        // Only what changed: an unchanged name is not re-checked against the others.
        const change = Object.fromEntries(Object.entries(body).filter(([k, v]) => v !== p[k]));
        if (Object.keys(change).length) await ctx.api(`/api/v1/projects/${encodeURIComponent(p.id)}`, { method: "PATCH", body: change });
      } else {
        await ctx.api("/api/v1/projects", { method: "POST", body });
      }
      node.close();
      ctx.error(null);
      await view.reload();
    } catch (err) {
      error.textContent = err.message;
      ctx.show(error, true);
    } finally {
      submit.disabled = false;
    }
  });
  name.focus();
}

/** A project's members: a box per person of the organization; none ticked is everyone. */
function membersDialog(view, p) {
  const { ctx, t, people } = view;
  const { el } = ctx;
  const chosen = new Set(p.members);
  const boxes = people
    .filter((u) => !u.disabled || chosen.has(u.id))
    .map((u) => {
      const box = el("input", { type: "checkbox", value: u.id, id: `member-${u.id}` });
      box.checked = chosen.has(u.id);
      return el("label", { class: "member-choice", for: box.id }, box, el("span", { text: u.name }), el("span", { class: "muted small", text: u.email }));
    });
  const list = el("div", { id: "members-list", class: "member-list" }, ...boxes);
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const everyone = el("button", { type: "button", class: "ghost", text: t("clearMembers") });
  const cancel = el("button", { type: "button", class: "ghost", text: t("cancel") });
  const save = el("button", { id: "members-save", type: "button", class: "primary", text: t("save") });
  const node = dialog(ctx, "members-dialog", t("membersTitle", { name: p.name }), el("p", { class: "muted small", text: t("membersHint") }), list, error, el("div", { class: "form-actions" }, everyone, cancel, save));
  everyone.addEventListener("click", () => {
    for (const b of list.querySelectorAll("input")) b.checked = false;
  });
  cancel.addEventListener("click", () => node.close());
  save.addEventListener("click", async () => {
    const users = [...list.querySelectorAll("input:checked")].map((b) => b.value);
    save.disabled = true;
    try {
      await ctx.api(`/api/v1/projects/${encodeURIComponent(p.id)}/members`, { method: "PUT", body: { users } });
      node.close();
      ctx.error(null);
      await view.reload();
    } catch (err) {
      error.textContent = err.message;
      ctx.show(error, true);
    } finally {
      save.disabled = false;
    }
  });
}
