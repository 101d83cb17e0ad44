// Metron's browser extension: tells the Metron tracker on this computer which address the tab
// in front shows, through the native-messaging host `app.metron.browser` (metron-agent). The
// tracker records it only while this browser window is in front, and keeps what the person's
// privacy settings allow (the host by default). Private (incognito) windows are never seen:
// the extension is not allowed in them.
"use strict";

const HOST = "app.metron.browser";
const api = globalThis.browser ?? globalThis.chrome;
let port = null;
let last = "";

function connect() {
  if (port) return port;
  port = api.runtime.connectNative(HOST);
  port.onDisconnect.addListener(() => {
    port = null;
    last = "";
  });
  return port;
}

// The tab in front of the focused window, once per change.
function report(tab) {
  if (!tab || tab.incognito) return;
  const message = { url: tab.url || "", title: tab.title || "" };
  const text = JSON.stringify(message);
  if (text === last) return;
  last = text;
  try {
    connect().postMessage(message);
  } catch (e) {
    // No host installed (or it exited): tell nothing, try again on the next change.
    port = null;
    last = "";
  }
}

async function reportFront() {
  const [tab] = await api.tabs.query({ active: true, lastFocusedWindow: true });
  report(tab);
}

api.tabs.onActivated.addListener(reportFront);
api.tabs.onUpdated.addListener((_id, change, tab) => {
  if (tab.active && (change.url !== undefined || change.title !== undefined || change.status === "complete")) reportFront();
});
api.windows.onFocusChanged.addListener(reportFront);
reportFront();
