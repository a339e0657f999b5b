#!/usr/bin/env python3
"""Send a SIP OPTIONS over TLS and print the answer: the quick start's
client, and a handy check for any SIPS server.

  scripts/sip-options.py [--ca FILE] [--sni NAME] [--uri URI] [--hold S]
                         HOST:PORT

--hold keeps the connection open for S seconds afterwards, sending RFC 5626
CRLF keep-alives, so that `siptlsctl tls.list` can show it. Exit status 0
when a 2xx arrived."""
import argparse
import os
import socket
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("target", help="HOST:PORT of the SIPS server")
    ap.add_argument("--ca", help="CA file to verify the server with")
    ap.add_argument("--sni", help="server name to send and verify")
    ap.add_argument("--uri", help="Request-URI (default sip:HOST:PORT)")
    ap.add_argument("--hold", type=float, default=0,
                    help="seconds to keep the connection open afterwards")
    a = ap.parse_args()
    host, _, port = a.target.rpartition(":")
    host = host.strip("[]")
    ctx = ssl.create_default_context(cafile=a.ca)
    if not a.ca:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif not a.sni:
        ctx.check_hostname = False
    raw = socket.create_connection((host, int(port)), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname=a.sni or host)
    local = s.getsockname()
    uri = a.uri or "sip:%s:%s" % (a.target.rsplit(":", 1)[0], port)
    tag = os.getpid()
    msg = ("OPTIONS %s SIP/2.0\r\n"
           "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK-opt%d;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:quickstart@localhost>;tag=%d\r\n"
           "To: <%s>\r\n"
           "Call-ID: %d-%f@localhost\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n"
           % (uri, local[0], local[1], tag, tag, uri, tag, time.time()))
    s.sendall(msg.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n")[0].decode(errors="replace")
    print("%s over %s with %s" % (a.target, s.version(), s.cipher()[0]))
    print(head)
    end = time.time() + a.hold
    while time.time() < end:
        s.sendall(b"\r\n\r\n")  # RFC 5626 ping; siptlsd answers CRLF
        time.sleep(min(5, max(0.1, end - time.time())))
    s.close()
    return 0 if head.startswith("SIP/2.0 2") else 1


if __name__ == "__main__":
    sys.exit(main())
