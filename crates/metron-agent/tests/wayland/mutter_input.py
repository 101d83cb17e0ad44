#!/usr/bin/python3
"""Input into a headless mutter through its RemoteDesktop D-Bus API (mutter has no virtual
keyboard protocol for wtype). A RemoteDesktop session lives as long as the D-Bus client that
made it, so one process makes it and sends every event.

Usage: mutter_input.py STEP...   with STEP one of
  burst:N:SECS   N pointer moves SECS apart
  sleep:SECS
Prints one line per burst: "<unix time of the first event> <unix time of the last event>".
"""
import sys
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(path, interface, method, args=None):
    return bus.call_sync(
        "org.gnome.Mutter.RemoteDesktop", path, interface, method, args, None,
        Gio.DBusCallFlags.NONE, 5000, None,
    )


session = call("/org/gnome/Mutter/RemoteDesktop", "org.gnome.Mutter.RemoteDesktop",
               "CreateSession").unpack()[0]
iface = "org.gnome.Mutter.RemoteDesktop.Session"
call(session, iface, "Start")
time.sleep(0.5)
for step in sys.argv[1:]:
    kind, *rest = step.split(":")
    if kind == "sleep":
        time.sleep(float(rest[0]))
    elif kind == "burst":
        n, gap = int(rest[0]), float(rest[1])
        first = time.time()
        for k in range(n):
            if k:
                time.sleep(gap)
            call(session, iface, "NotifyPointerMotionRelative",
                 GLib.Variant("(dd)", (3.0 if k % 2 else -3.0, 2.0)))
        print(f"{first:.3f} {time.time():.3f}", flush=True)
    else:
        sys.exit(f"unknown step {step}")
call(session, iface, "Stop")
