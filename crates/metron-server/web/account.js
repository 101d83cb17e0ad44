// "Account" (issue 29), for everyone signed in: their two-factor codes. Set up (the QR code an
// authenticator app scans, or its key to type; then the app's current code confirms it), the ten
// recovery codes shown once with a copy button, new recovery codes, turning codes off (each with
// a current code). A person the organization requires codes of, who has none yet, is signed in
// to this page only; once confirmed, "Continue" opens the rest of the page.

const STRINGS = {
  en: {
    title: "Account",
    subtitle: "How you sign in to Metron.",
    tfa: "Two-factor codes",
    offText: "Signing in asks for your password only. With two-factor codes on, it also asks for a 6-digit code from an authenticator app on your phone (Google Authenticator, Microsoft Authenticator, 1Password, Aegis…).",
    requiredText: "Your organization requires two-factor codes. Set them up to continue.",
    setUp: "Set up two-factor codes",
    scan: "1. Scan this code with your authenticator app.",
    orType: "Or type this key into the app:",
    enterCode: "2. Enter the 6-digit code the app shows.",
    code: "Code",
    confirm: "Turn on",
    cancel: "Cancel",
    expires: "This set-up expires in 10 minutes.",
    onText: "Two-factor codes are on. Signing in asks for a code from your authenticator app.",
    left: (v) => `${v.n} recovery ${v.n === 1 ? "code" : "codes"} left.`,
    requiredOn: "Your organization requires them: they stay on.",
    currentCode: "Current code",
    currentHint: "A code from the app, or one of your recovery codes.",
    newCodes: "New recovery codes",
    turnOff: "Turn off",
    confirmOff: "Turn two-factor codes off? Signing in will ask for your password only.",
    recovery: "Your recovery codes",
    recoveryHint: "If you lose your phone, each of these signs you in once instead of a code. Keep them somewhere safe: they are shown only now.",
    copy: "Copy",
    copied: "Copied",
    done: "I have saved them",
    continue: "Continue to Metron",
    offDone: "Two-factor codes are off.",
    on: "On",
  },
  ru: {
    title: "Аккаунт",
    subtitle: "Как вы входите в Metron.",
    tfa: "Двухфакторные коды",
    offText: "Сейчас для входа нужен только пароль. С двухфакторными кодами понадобится ещё 6-значный код из приложения-аутентификатора на телефоне (Google Authenticator, Microsoft Authenticator, 1Password, Aegis…).",
    requiredText: "Ваша организация требует двухфакторные коды. Настройте их, чтобы продолжить.",
    setUp: "Настроить двухфакторные коды",
    scan: "1. Отсканируйте этот код приложением-аутентификатором.",
    orType: "Или введите в приложение этот ключ:",
    enterCode: "2. Введите 6-значный код, который показывает приложение.",
    code: "Код",
    confirm: "Включить",
    cancel: "Отмена",
    expires: "Настройка действует 10 минут.",
    onText: "Двухфакторные коды включены. При входе нужен код из приложения-аутентификатора.",
    left: (v) => `Осталось резервных кодов: ${v.n}.`,
    requiredOn: "Их требует ваша организация: они остаются включёнными.",
    currentCode: "Текущий код",
    currentHint: "Код из приложения или один из резервных кодов.",
    newCodes: "Новые резервные коды",
    turnOff: "Выключить",
    confirmOff: "Выключить двухфакторные коды? Для входа будет нужен только пароль.",
    recovery: "Ваши резервные коды",
    recoveryHint: "Если вы потеряете телефон, каждый из них один раз заменит код при входе. Сохраните их в надёжном месте: они показываются только сейчас.",
    copy: "Копировать",
    copied: "Скопировано",
    done: "Я их сохранил(а)",
    continue: "Перейти в Metron",
    offDone: "Двухфакторные коды выключены.",
    on: "Включены",
  },
};

export const page = {
  name: "account",
  label: { en: "Account", ru: "Аккаунт" },
  visible: () => true,
  async render(root, ctx) {
    const t = ctx.translator(STRINGS);
    const { el } = ctx;
    const card = el("section", { id: "account-tfa", class: "card account-card" });
    root.append(el("div", { class: "section-head" }, el("div", {}, el("h1", { text: t("title") }), el("p", { class: "muted", text: t("subtitle") }))), card);
    await drawStatus(ctx, t, card);
  },
};

async function drawStatus(ctx, t, card, note) {
  const { el } = ctx;
  const status = await ctx.api("/api/v1/me/second-factor");
  card.replaceChildren(el("div", { class: "card-head" }, el("h2", { text: t("tfa") }), status.on ? el("span", { class: "pill accent", text: t("on") }) : null));
  if (note) card.append(el("p", { class: "saved", role: "status", text: note }));
  if (!status.on) {
    if (status.required) card.append(el("p", { id: "tfa-required", class: "tfa-required", role: "alert", text: t("requiredText") }));
    const start = el("button", { id: "tfa-begin", type: "button", class: "primary", text: t("setUp") });
    start.addEventListener("click", () => begin(ctx, t, card));
    card.append(el("p", { class: "muted", text: t("offText") }), el("div", { class: "form-actions" }, start));
    return;
  }
  card.append(el("p", { id: "tfa-on", text: t("onText") }), el("p", { class: "muted small", text: t("left", { n: status.recovery_codes_left }) }));
  const code = el("input", { id: "tfa-current", name: "code", maxlength: 64, autocomplete: "one-time-code", class: "code-input" });
  const renew = el("button", { id: "tfa-renew", type: "button", class: "secondary", text: t("newCodes") });
  const off = el("button", { id: "tfa-off", type: "button", class: "ghost danger", text: t("turnOff"), disabled: status.required || null });
  renew.addEventListener("click", async () => {
    ctx.error(null);
    try {
      const answer = await ctx.api("/api/v1/me/second-factor/recovery-codes", { method: "POST", body: { code: code.value.trim() } });
      showRecovery(ctx, t, card, answer.recovery_codes, false);
    } catch (err) {
      ctx.error(err.message);
    }
  });
  off.addEventListener("click", async () => {
    if (!confirm(t("confirmOff"))) return;
    ctx.error(null);
    try {
      await ctx.api("/api/v1/me/second-factor/off", { method: "POST", body: { code: code.value.trim() } });
      await drawStatus(ctx, t, card, t("offDone"));
    } catch (err) {
      ctx.error(err.message);
    }
  });
  card.append(
    el("div", { class: "form-grid" }, el("label", { for: "tfa-current", text: t("currentCode") }), code, el("p", { class: "hint", text: t("currentHint") })),
    el("div", { class: "form-actions" }, status.required ? el("span", { class: "muted small", text: t("requiredOn") }) : null, off, renew),
  );
}

async function begin(ctx, t, card) {
  const { el } = ctx;
  ctx.error(null);
  let enrolment;
  try {
    enrolment = await ctx.api("/api/v1/me/second-factor/begin", { method: "POST" });
  } catch (err) {
    ctx.error(err.message);
    return;
  }
  // The server draws the QR code as SVG; an <img> from a data: URL shows it (no script runs in
  // an image, and the CSP's img-src allows data:).
  const qr = el("img", { id: "tfa-qr", class: "tfa-qr", alt: enrolment.otpauth_uri, width: 200, height: 200 });
  qr.src = `data:image/svg+xml;base64,${btoa(enrolment.qr_svg)}`;
  const key = el("code", { id: "tfa-secret", class: "tfa-secret", text: enrolment.secret.match(/.{1,4}/g).join(" ") });
  const code = el("input", { id: "tfa-code", name: "code", inputmode: "numeric", maxlength: 7, autocomplete: "one-time-code", class: "code-input", placeholder: "123456" });
  const confirmButton = el("button", { id: "tfa-confirm", type: "submit", class: "primary", text: t("confirm") });
  const cancel = el("button", { type: "button", class: "ghost", text: t("cancel") });
  cancel.addEventListener("click", () => drawStatus(ctx, t, card));
  const form = el(
    "form",
    { id: "tfa-enrol", class: "tfa-enrol", novalidate: true },
    el("p", { text: t("scan") }),
    qr,
    el("p", { class: "muted small", text: t("orType") }),
    key,
    el("p", { text: t("enterCode") }),
    el("div", { class: "tfa-confirm-row" }, el("label", { for: "tfa-code", text: t("code") }), code, confirmButton, cancel),
    el("p", { class: "muted small", text: t("expires") }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    confirmButton.disabled = true;
    ctx.error(null);
    try {
      const answer = await ctx.api("/api/v1/me/second-factor/confirm", { method: "POST", body: { code: code.value.trim() } });
      showRecovery(ctx, t, card, answer.recovery_codes, Boolean(ctx.me.second_factor_setup_required));
    } catch (err) {
      ctx.error(err.message);
      confirmButton.disabled = false;
    }
  });
  card.replaceChildren(el("div", { class: "card-head" }, el("h2", { text: t("tfa") })), form);
  code.focus();
}

/** The recovery codes, this once, with a copy button; then back to the status (or, for a
 * session that could only set codes up, on into the page). */
function showRecovery(ctx, t, card, codes, continueToApp) {
  const { el } = ctx;
  const text = codes.join("\n");
  const copy = el("button", { id: "tfa-copy", type: "button", class: "secondary", text: t("copy") });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      list.focus();
      window.getSelection()?.selectAllChildren(list);
      document.execCommand("copy");
    }
    copy.textContent = t("copied");
  });
  const done = el("button", { id: "tfa-done", type: "button", class: "primary", text: continueToApp ? t("continue") : t("done") });
  // The session is whole now: reading it again opens the whole page.
  done.addEventListener("click", () => (continueToApp ? location.reload() : drawStatus(ctx, t, card)));
  const list = el("ol", { id: "tfa-recovery", class: "tfa-recovery", tabindex: "-1" }, ...codes.map((c) => el("li", { text: c })));
  card.replaceChildren(
    el("div", { class: "card-head" }, el("h2", { text: t("recovery") })),
    el("p", { class: "muted", text: t("recoveryHint") }),
    list,
    el("div", { class: "form-actions" }, copy, done),
  );
}
