// GNOME Shell 43-44 (imports.gi, init()).
const { Gio, GLib, Shell } = imports.gi;

class MetronSensor {
    enable() {
        this._sensor = exportSensor(Gio, GLib, Shell);
    }

    disable() {
        unexportSensor(this._sensor);
        this._sensor = null;
    }
}

function init() {
    return new MetronSensor();
}
