#!/usr/bin/python3
"""A fake desktop notification server (org.freedesktop.Notifications) for tests.

Browsers on Linux (Chromium, Firefox) hand their notifications to whatever owns
`org.freedesktop.Notifications` on the D-Bus session bus. This server takes that
name, records every Notify call and, on command, emits the signals a real desktop
would send when the user clicks or closes a notification. The browser turns those
into *trusted* `notificationclick` / `notificationclose` events in the service
worker, where `event.waitUntil` and `clients.openWindow` work.

Usage (the TypeScript wrapper fake-notify.ts does all of this):

    dbus-daemon --session --nofork --print-address=1   # prints the bus address
    DBUS_SESSION_BUS_ADDRESS=<address> /usr/bin/python3 fake-notify-server.py
    # then start the browser with the same DBUS_SESSION_BUS_ADDRESS

Protocol: one JSON object per line.
  stdout  {"event": "ready"}                                   name acquired
          {"event": "notify", "id": 1, "app_name": ..., "summary": ..., "body": ...,
           "actions": [key, label, ...], "hints": {...}, "replaces_id": 0}
          {"event": "close-requested", "id": 1}                browser closed it
  stdin   {"cmd": "action", "id": 1, "key": "default"}         click on the body
          {"cmd": "action", "id": 1, "key": "0"}               click on action button 0
          {"cmd": "close", "id": 1, "reason": 2}               user dismissed it
Needs Debian's python3-dbus and python3-gi.
"""
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def plain(value):
    """D-Bus values -> JSON-friendly values (image data is summarised)."""
    if isinstance(value, (dbus.Array, list)):
        if len(value) > 64:
            return "<%d items>" % len(value)
        return [plain(v) for v in value]
    if isinstance(value, (dbus.Struct, tuple)):
        return "<struct>"
    if isinstance(value, (dbus.Dictionary, dict)):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16, dbus.UInt32, dbus.UInt64)):
        return int(value)
    if isinstance(value, dbus.Double):
        return float(value)
    return str(value)


class Notifications(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, PATH)
        self.next_id = 1

    @dbus.service.method(NAME, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["actions", "body", "body-hyperlinks", "body-markup", "body-images", "icon-static", "persistence"]

    @dbus.service.method(NAME, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("herald-fake-notify", "herald", "1.0", "1.2")

    @dbus.service.method(NAME, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, timeout):
        nid = int(replaces_id) if replaces_id else self.next_id
        if not replaces_id:
            self.next_id += 1
        call = {
            "event": "notify", "id": nid, "replaces_id": int(replaces_id), "app_name": str(app_name),
            "app_icon": str(app_icon), "summary": str(summary), "body": str(body),
            "actions": [str(a) for a in actions], "hints": plain(hints), "timeout": int(timeout),
        }
        # Reported once the reply (the id) is on its way: a test that sees the call may then ask the
        # browser about it, and the browser counts the notification as displayed only from the reply.
        GLib.idle_add(lambda: emit(call) and False)
        return dbus.UInt32(nid)

    @dbus.service.method(NAME, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        emit({"event": "close-requested", "id": int(nid)})
        self.NotificationClosed(nid, dbus.UInt32(3))

    @dbus.service.signal(NAME, signature="us")
    def ActionInvoked(self, nid, key):
        pass

    @dbus.service.signal(NAME, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    server = Notifications(bus)
    _name = dbus.service.BusName(NAME, bus, do_not_queue=True)
    loop = GLib.MainLoop()

    def on_stdin(channel, condition):
        if condition & (GLib.IO_HUP | GLib.IO_ERR):
            loop.quit()
            return False
        line = channel.readline()
        if not line:
            loop.quit()
            return False
        try:
            cmd = json.loads(line)
            nid = dbus.UInt32(int(cmd["id"]))
            if cmd["cmd"] == "action":
                server.ActionInvoked(nid, str(cmd.get("key", "default")))
            elif cmd["cmd"] == "close":
                server.NotificationClosed(nid, dbus.UInt32(int(cmd.get("reason", 2))))
            emit({"event": "done", "cmd": cmd})
        except Exception as error:  # keep serving; report the bad command
            emit({"event": "error", "message": str(error)})
        return True

    channel = GLib.IOChannel.unix_new(sys.stdin.fileno())
    GLib.io_add_watch(channel, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    emit({"event": "ready"})
    loop.run()


if __name__ == "__main__":
    main()
