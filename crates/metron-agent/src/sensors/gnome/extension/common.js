// The D-Bus object of the Metron window sensor, shared by the GNOME 43-44 and 45+ wrappers.
// Exported on the shell's own session-bus connection at /dev/metron/Shell; Metron's agent
// calls FocusedWindow once a second.
const IFACE = `<node>
  <interface name="dev.metron.Shell">
    <method name="FocusedWindow">
      <arg type="s" direction="out" name="app_id"/>
      <arg type="s" direction="out" name="title"/>
      <arg type="u" direction="out" name="pid"/>
    </method>
  </interface>
</node>`;

function focusedWindow(Shell) {
    const w = global.display.focus_window;
    if (!w)
        return ['', '', 0];
    const app = Shell.WindowTracker.get_default().get_window_app(w);
    const appId = w.get_sandboxed_app_id() || w.get_gtk_application_id() || w.get_wm_class() ||
        (app ? app.get_id() : '') || '';
    const pid = w.get_pid();
    return [appId, w.get_title() || '', pid > 0 ? pid : 0];
}

function exportSensor(Gio, Shell) {
    const object = Gio.DBusExportedObject.wrapJSObject(IFACE, {
        FocusedWindow: () => focusedWindow(Shell),
    });
    object.export(Gio.DBus.session, '/dev/metron/Shell');
    return object;
}
