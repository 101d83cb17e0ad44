// Signing in with the organization's identity provider (issue 29): the "Sign in with ..."
// buttons under the password form, and the pages the server's redirects come back to: the
// code to trade (#sso_code=...&sso_state=...), the reason of a refusal (#sso_error=...), and an
// agent's device code to approve (#device=ABCD-EFGH). The page signs in like an app does: a
// PKCE verifier of its own (kept in this tab's sessionStorage) and a state it checks.

import { translator } from "./i18n.js";

const KEY = "metron.sso";

const t = translator({
  en: {
    or: "or",
    with: "Sign in with {name}",
    https: "Signing in with {name} needs this page over https.",
    signing: "Signing in…",
    refused: "Sign-in refused",
    back: "Back to sign in",
    stale: "This sign-in did not start in this tab, or was already used. Start again.",
    device_title: "Sign in an agent",
    device_text: "An agent on another machine shows a code and waits for you to sign in. Check that the code below is the one it shows, then continue.",
    device_code: "Code",
    device_go: "Continue with {name}",
    device_none: "This server offers no sign-in with an identity provider.",
  },
  ru: {
    or: "или",
    with: "Войти через {name}",
    https: "Для входа через {name} страницу нужно открыть по https.",
    signing: "Вход…",
    refused: "Вход отклонён",
    back: "Вернуться ко входу",
    stale: "Этот вход начат не в этой вкладке или уже использован. Начните заново.",
    device_title: "Вход агента",
    device_text: "Агент на другом компьютере показывает код и ждёт, пока вы войдёте. Проверьте, что код ниже совпадает с показанным, и продолжите.",
    device_code: "Код",
    device_go: "Продолжить через {name}",
    device_none: "Этот сервер не предлагает вход через поставщика удостоверений.",
  },
});

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(n) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

async function providers(api) {
  try {
    return await api("/api/v1/sso/providers");
  } catch {
    return [];
  }
}

/** Draws one button per provider into `root` (emptied); hidden when there is none. */
export async function renderButtons(root, { api, el, show }) {
  const list = await providers(api);
  root.replaceChildren();
  show(root, list.length > 0);
  if (!list.length) return;
  root.append(el("p", { class: "sso-or", text: t("or") }));
  const error = el("p", { class: "error", role: "alert", hidden: true });
  for (const p of list) {
    root.append(
      el("button", {
        type: "button",
        class: "secondary sso-button",
        "data-provider": p.id,
        text: t("with", { name: p.name }),
        on: { click: () => start(p, error, show) },
      }),
    );
  }
  root.append(error);
}

async function start(provider, error, show) {
  // crypto.subtle exists only in a secure context (https, or this machine).
  if (!crypto.subtle) {
    error.textContent = t("https", { name: provider.name });
    show(error, true);
    return;
  }
  const verifier = random(32);
  const state = random(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(KEY, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    provider: provider.id,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`/api/v1/sso/start?${query}`);
}

function backButton(el) {
  return el("button", {
    type: "button",
    class: "primary",
    text: t("back"),
    on: { click: () => { location.hash = ""; } },
  });
}

/** #sso_code=...: the code the server sent the browser back with, traded for a token. */
const codePage = {
  key: "sso_code",
  async render(root, ctx, code) {
    const { el } = ctx;
    const status = el("p", { id: "sso-status", text: t("signing") });
    root.append(el("h1", { text: t("signing") }), status);
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    sessionStorage.removeItem(KEY);
    const state = new URLSearchParams(location.hash.slice(1)).get("sso_state");
    if (!saved || saved.state !== state) {
      status.textContent = t("stale");
      root.append(backButton(el));
      return;
    }
    try {
      const answer = await ctx.api("/api/v1/sso/token", {
        method: "POST",
        body: { code, code_verifier: saved.verifier, redirect_uri: "" },
      });
      await ctx.signedIn(answer);
    } catch (err) {
      status.textContent = err.message;
      root.append(backButton(el));
    }
  },
};

/** #sso_error=...: why the server or the provider refused, in the server's words. */
const errorPage = {
  key: "sso_error",
  async render(root, { el }, why) {
    sessionStorage.removeItem(KEY);
    root.append(
      el("h1", { text: t("refused") }),
      el("p", { id: "sso-error", class: "error", role: "alert", text: why }),
      backButton(el),
    );
  },
};

/** #device=ABCD-EFGH: approve an agent's device code by signing in with the provider. */
const devicePage = {
  key: "device",
  empty: true,
  async render(root, { api, el }, code) {
    const list = await providers(api);
    root.append(el("h1", { text: t("device_title") }));
    if (!list.length) {
      root.append(el("p", { text: t("device_none") }));
      return;
    }
    const input = el("input", { id: "device-code", autocomplete: "off", spellcheck: "false", maxlength: "9", value: code || "" });
    root.append(
      el("p", { text: t("device_text") }),
      el("label", { for: "device-code", text: t("device_code") }),
      input,
    );
    for (const p of list) {
      root.append(
        el("button", {
          type: "button",
          class: "primary sso-button",
          text: t("device_go", { name: p.name }),
          on: {
            click: () => {
              const query = new URLSearchParams({ provider: p.id, user_code: input.value.trim() });
              location.assign(`/api/v1/sso/start?${query}`);
            },
          },
        }),
      );
    }
  },
};

export const publicPages = [codePage, errorPage, devicePage];
