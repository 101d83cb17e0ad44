// GNOME Shell 43-44 (imports.gi, init()).
const { Gio, Shell } = imports.gi;

class MetronSensor {
    enable() {
        this._object = exportSensor(Gio, Shell);
    }

    disable() {
        this._object.unexport();
        this._object = null;
    }
}

function init() {
    return new MetronSensor();
}
