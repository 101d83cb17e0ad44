// GNOME Shell 45 and later (ES modules).
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Shell from 'gi://Shell';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

export default class MetronSensor extends Extension {
    enable() {
        this._sensor = exportSensor(Gio, GLib, Shell);
    }

    disable() {
        unexportSensor(this._sensor);
        this._sensor = null;
    }
}
