// The D-Bus object of the Metron window sensor, shared by the GNOME 43-44 and 45+ wrappers.
// Exported on the shell's own session-bus connection at /dev/metron/Shell.
//
// GNOME deliberately tells no Wayland client which window has focus, so this object must not
// tell every program of the session either (issue 27). Metron's agent calls Register once,
// and from then on FocusedWindow answers that connection alone; any other caller gets an
// error. The registration ends when the agent's connection leaves the bus (it quit or
// crashed), and the next agent to start registers anew. While one is registered, nobody else
// can register: a program that registers first locks Metron out, which Metron says aloud
// (windows read 'unknown' and it warns), rather than reading windows unseen.
const IFACE = `<node>
  <interface name="dev.metron.Shell">
    <method name="Register"/>
    <method name="FocusedWindow">
      <arg type="s" direction="out" name="app_id"/>
      <arg type="s" direction="out" name="title"/>
      <arg type="u" direction="out" name="pid"/>
    </method>
  </interface>
</node>`;

const NOT_REGISTERED = 'dev.metron.Shell.Error.NotRegistered';
const TAKEN = 'dev.metron.Shell.Error.Taken';

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

// Who may ask: the unique bus name of the registered agent, forgotten when it leaves the bus.
class Registration {
    constructor(Gio) {
        this._Gio = Gio;
        this._agent = null;
        this._watch = 0;
    }

    // Whether `sender` is (now) the registered agent.
    register(sender) {
        if (this._agent !== null && this._agent !== sender)
            return false;
        if (this._agent === null) {
            this._agent = sender;
            this._watch = this._Gio.bus_watch_name_on_connection(this._Gio.DBus.session, sender,
                this._Gio.BusNameWatcherFlags.NONE, null, () => this.forget());
        }
        return true;
    }

    allows(sender) {
        return this._agent !== null && this._agent === sender;
    }

    forget() {
        if (this._watch)
            this._Gio.bus_unwatch_name(this._watch);
        this._watch = 0;
        this._agent = null;
    }
}

function exportSensor(Gio, GLib, Shell) {
    const registration = new Registration(Gio);
    const object = Gio.DBusExportedObject.wrapJSObject(IFACE, {
        RegisterAsync(_params, invocation) {
            if (registration.register(invocation.get_sender()))
                invocation.return_value(null);
            else
                invocation.return_dbus_error(TAKEN, 'another program is registered with the Metron window sensor');
        },
        FocusedWindowAsync(_params, invocation) {
            if (!registration.allows(invocation.get_sender())) {
                invocation.return_dbus_error(NOT_REGISTERED, 'the focused window is told only to the Metron agent that registered');
                return;
            }
            invocation.return_value(new GLib.Variant('(ssu)', focusedWindow(Shell)));
        },
    });
    object.export(Gio.DBus.session, '/dev/metron/Shell');
    return {object, registration};
}

function unexportSensor(sensor) {
    sensor.registration.forget();
    sensor.object.unexport();
}
