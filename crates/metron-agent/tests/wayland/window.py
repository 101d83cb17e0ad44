#!/usr/bin/python3
"""A native Wayland window for the sensor tests: GTK 3 with a given app id and title.

Usage: window.py APP_ID TITLE   (runs until killed)
On Wayland, GTK sends the program name as the xdg-toplevel app id.
"""
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402

GLib.set_prgname(sys.argv[1])
window = Gtk.Window(title=sys.argv[2])
window.set_default_size(400, 300)
window.connect("destroy", Gtk.main_quit)
window.show_all()
window.present()
Gtk.main()
