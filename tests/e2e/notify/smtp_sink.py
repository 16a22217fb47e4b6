#!/usr/bin/python3
"""smtp_sink.py - a local SMTP server for the mail test (Debian's python3-aiosmtpd).

Accepts every message on 127.0.0.1 (a free port, written to DIR/port) and
appends each as one JSON line to DIR/mail: the envelope sender, the
envelope recipients and the message text.  Nothing is relayed anywhere.

usage: smtp_sink.py DIR
"""
import json
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller

DIR = sys.argv[1]
LOCK = threading.Lock()


class Sink:
    async def handle_DATA(self, server, session, envelope):
        rec = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
               "data": envelope.content.decode("utf-8", "replace")}
        with LOCK, open(os.path.join(DIR, "mail"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        return "250 OK"


s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
ctl = Controller(Sink(), hostname="127.0.0.1", port=port)
ctl.start()
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(port))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
done.wait()
ctl.stop()
