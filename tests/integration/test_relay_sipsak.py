#!/usr/bin/env python3
"""sipsak (a SIP tool nobody here wrote) through siptlsd's relay: an
OPTIONS to a user is relayed to the UDP backend and its 200 comes back,
and sipsak's traceroute mode (-T) walks Max-Forwards through the relay
(483 from siptlsd at 0, as RFC 3261 16.3 asks). Over a tcp: listener:
Debian's sipsak 0.9.8 drops the last digit of a 5-digit port in the URI
it writes and fails to read replies over TLS ("select returned error"),
so the TLS side is left to the python-ssl tests. Skipped without
sipsak."""
import os
import shutil
import subprocess
import sys
import tempfile

from daemon_util import Daemon, check, test_pki
from relay_util import Backend

PKI = test_pki()


def sipsak(*args):
    r = subprocess.run(["sipsak", "-vv"] + list(args), capture_output=True,
                       text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def main():
    if not shutil.which("sipsak"):
        print("SKIP: sipsak not installed")
        return 77
    be = Backend()
    tmp = tempfile.mkdtemp(prefix="stls-relay-sipsak-")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("[server:default]\ncertificate = %s\nprivate_key = %s\n"
                % (os.path.join(PKI, "server.pem"),
                   os.path.join(PKI, "server.key")))
    d = Daemon("""[core]
listen = tcp:127.0.0.1:0
backend = udp:127.0.0.1:%d
workers = 2
[tls]
config = @TMP@/tls.cfg
""" % be.port, tmp=tmp)
    port = d.addrs[0][2]
    try:
        rc, out = sipsak("-s", "sip:bob@127.0.0.1:%d" % port,
                         "--transport=tcp")
        m = be.wait(lambda m: m.method == "OPTIONS", 3)
        check(rc == 0 and m is not None and "200" in out,
              "sipsak OPTIONS to a user: relayed to the backend, 200 back")
        check(";ft=" in m.all("via")[0], "with our flow-token Via")
        rc, out = sipsak("-T", "-s", "sip:bob@127.0.0.1:%d" % port,
                         "--transport=tcp")
        check("483" in out and "200" in out,
              "sipsak traceroute: 483 at the relay, 200 from the backend")
        check(d.stop() == 0, "siptlsd exited cleanly")
    except SystemExit:
        print(d.log())
        raise
    finally:
        if d.p.poll() is None:
            d.stop()
        be.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
