// The page's sections beside the reports: each is a module in this folder, listed once here.
//
// A section (signed in; shown in the top bar's navigation, opened at `#page=<name>`):
//
//   export const page = {
//     name: "people",                                   // the hash: #page=people
//     label: { en: "People", ru: "Люди" },              // its link in the navigation
//     visible: ({ me, role }) => role === "admin",     // role: "admin" | "manager" | "member"
//     async render(root, ctx) { ... },                  // draw into `root` (emptied first)
//   };
//
// A public page (before sign-in, opened by a link someone received: `#invite=<token>`):
//
//   export const publicPage = {
//     key: "invite",                                    // the hash key whose value it gets
//     async render(root, ctx, value) { ... },           // `root` is a card on the sign-in screen
//     empty: true,                                      // optional: also opens on a bare `#device`
//   };
//
// `ctx` (see app.js `context()`): api(path, {method, body, raw}) with the bearer token and JSON
// errors as `ApiError {status, message}`; el(tag, attrs, ...children) builds elements (attrs:
// class, text, title, on: {click: fn}, any attribute); show(node, bool); describe(err, what);
// error(message | null) sets the banner above the section; me (GET /api/v1/me), role; lang();
// translator(strings) gives `t`; plural, dateTime; duration(secs); go(hash) navigates;
// signedIn(loginAnswer) enters the app with a token (after an invitation or a reset).
// Styles for sections (style.css, "navigation and the sections"): card, card-head, section-head,
// toolbar, data-table (td.actions), form-grid (label + control, .hint), form-actions, saved,
// pill (.accent, .bad), copy-box, dialog.sheet-dialog; buttons: primary, secondary, ghost.
// A new module is served once it is listed in src/web.rs's FILES.
// Sections re-render from scratch when the language changes, so keep state in the server or in
// the hash, not in closures.

import { page as people, publicPages as peopleLinks } from "./people.js";
import { page as projects } from "./projects.js";
import { page as settings } from "./settings.js";
import { page as mydata } from "./mydata.js";
import { publicPages as ssoPages } from "./sso.js";
import { page as account } from "./account.js";

/** The signed-in sections, in the navigation's order (the reports come first, from app.js). */
export const PAGES = [people, projects, settings, mydata, account];

/** The pages reached by a link before sign-in. */
export const PUBLIC_PAGES = [...peopleLinks, ...ssoPages];
