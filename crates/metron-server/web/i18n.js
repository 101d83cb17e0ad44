// The page's languages: English and Russian. Each page module carries its own strings
// ({ en: {...}, ru: {...} }) and asks `translator(strings)` for its `t`; a string missing in
// Russian falls back to English, a key missing everywhere shows as the key, so a gap is visible
// rather than blank. The choice is kept in localStorage; the first visit follows the browser.

const KEY = "metron.lang";

/** The languages the page speaks, by code, each named in itself. */
export const LANGUAGES = { en: "English", ru: "Русский" };

/** "en" or "ru": the saved choice, else the browser's first language we speak. */
export function currentLang() {
  const saved = localStorage.getItem(KEY);
  if (saved && saved in LANGUAGES) return saved;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const code = String(tag).slice(0, 2).toLowerCase();
    if (code in LANGUAGES) return code;
  }
  return "en";
}

export function setLang(code) {
  if (!(code in LANGUAGES)) return;
  localStorage.setItem(KEY, code);
  document.documentElement.lang = code;
}

/**
 * `t(key, vars)` for one page's strings. A string may hold `{name}` placeholders, filled from
 * `vars`, or be a function of `vars` (for plurals: see `plural`).
 */
export function translator(strings) {
  return (key, vars = {}) => {
    const lang = currentLang();
    const s = strings[lang]?.[key] ?? strings.en?.[key] ?? key;
    if (typeof s === "function") return s(vars);
    return s.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
  };
}

/**
 * The form of a count: `plural(n, ["person", "people"], ["человек", "человека", "человек"])`
 * picks by the current language's rule (Russian has three forms: 1, 2-4, 5-20).
 */
export function plural(n, en, ru) {
  if (currentLang() === "ru") {
    const m10 = n % 10;
    const m100 = n % 100;
    if (m10 === 1 && m100 !== 11) return ru[0];
    if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return ru[1];
    return ru[2];
  }
  return n === 1 ? en[0] : en[1];
}

/** A date and time the reader's way, in their language ("6 Dec 2026, 21:05"). */
export function dateTime(value) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString(currentLang() === "ru" ? "ru-RU" : "en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}
