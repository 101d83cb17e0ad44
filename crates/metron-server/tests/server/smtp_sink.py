"""A real SMTP server on loopback for the invitation mail test (tests/server/invitations.rs):
aiosmtpd from PyPI on 127.0.0.1:PORT. Each message it receives is printed as one JSON line
(envelope sender and recipients, subject, the plain-text body decoded as a mail reader would
decode it); "ready" is printed once it listens. It stops when its standard input closes."""

import email
import json
import sys
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        print(
            json.dumps(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "subject": str(message["subject"]),
                    "body": body.get_content() if body is not None else "",
                }
            ),
            flush=True,
        )
        return "250 Message accepted for delivery"


controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
