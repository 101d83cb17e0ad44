// GNOME Shell 45 and later (ES modules).
import Gio from 'gi://Gio';
import Shell from 'gi://Shell';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

export default class MetronSensor extends Extension {
    enable() {
        this._object = exportSensor(Gio, Shell);
    }

    disable() {
        this._object.unexport();
        this._object = null;
    }
}
