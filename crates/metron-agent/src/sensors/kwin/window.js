// Loaded into KWin by Metron (sensors/kwin/mod.rs): reports the active window's class, title
// and process id to the Metron process at __SERVICE__ whenever it or its title changes.
// KWin 6 names the API windowActivated/activeWindow, KWin 5 clientActivated/activeClient.
var watched = null;

function send(w) {
    callDBus("__SERVICE__", "/dev/metron/KWin", "dev.metron.KWin", "Activated",
        w ? String(w.resourceClass || "") : "",
        w ? String(w.caption || "") : "",
        w ? String(w.pid || 0) : "0");
}

function onCaption() {
    send(watched);
}

function follow(w) {
    if (watched) {
        try { watched.captionChanged.disconnect(onCaption); } catch (e) {}
    }
    watched = w;
    if (w) {
        w.captionChanged.connect(onCaption);
    }
    send(w);
}

if (workspace.windowActivated) {
    workspace.windowActivated.connect(follow);
    follow(workspace.activeWindow);
} else {
    workspace.clientActivated.connect(follow);
    follow(workspace.activeClient);
}
