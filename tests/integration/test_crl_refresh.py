"""crl_refresh (docs/ocsp.md): siptlsd requires client certificates
checked against a CA and its CRL, and fetches the CRL again from its
distribution point (an HTTP server started here: python3 -m http.server)
every crl_refresh_interval seconds, without a reload. A revocation
published there takes effect on the next handshake; a bad CRL served
there, or the server going down, keeps the last good one."""
import os
import shutil
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import check, fail  # noqa: E402
from ctl_util import Ctl, Daemon, base_cfg, echo, tls_connect  # noqa: E402
from ctl_util import tls_port  # noqa: E402
from ocsp_util import Pki, free_port, http_server  # noqa: E402


def client(pki, pem, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(pki.ca)
    ctx.load_cert_chain(pem, key)
    return ctx


def refused(port, ctx):
    try:
        s = tls_connect(port, ctx)
        ok = echo(s, b"ping")
        s.close()
        return not ok
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True


def crl_state(ctl):
    crls = ctl.call("tls.info")["crls"]
    if len(crls) != 1:
        fail("tls.info: want one refreshed CRL, have %s" % crls)
    return crls[0]


def wait_crl(ctl, pred, what, timeout=40):
    end = time.time() + timeout
    while time.time() < end:
        st = crl_state(ctl)
        if pred(st):
            return st
        time.sleep(0.3)
    fail("%s: not reached in %d s: %s" % (what, timeout, st))


def main():
    tmp = tempfile.mkdtemp(prefix="stls-crlr-")
    www = os.path.join(tmp, "www")
    os.mkdir(www)
    port_http = free_port(24600, 24699)
    url = "http://127.0.0.1:%d/ca.crl" % port_http
    # The CA certificate names where its CRL is published.
    pki = Pki(tmp, ca_cdp=url)
    srv = pki.server("srv.test")
    alice = pki.issue("alice", ["extendedKeyUsage=clientAuth"])
    bob = pki.issue("bob", ["extendedKeyUsage=clientAuth"])
    served = os.path.join(www, "ca.crl")
    local = os.path.join(tmp, "crl.pem")
    pki.crl(local)
    shutil.copy(local, served)
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("[server:default]\ncertificate = %s\nprivate_key = %s\n"
                "ca_list = %s\ncrl = %s\ncrl_refresh = yes\n"
                "verify_certificate = 1\nrequire_certificate = 1\n"
                % (srv[0], srv[1], pki.ca, local))
    http = http_server(www, port_http)
    d = None
    try:
        d = Daemon(base_cfg(tls_extra="config = tls.cfg\n"
                            "crl_refresh_interval = 10\nfetch_timeout = 3\n"),
                   tmp=tmp)
        ctl = Ctl(d)
        port = tls_port(d)
        st = wait_crl(ctl, lambda s: s["last_fetch"] != "" and
                      s["error"] == "", "first fetch")
        check(st["url"] == url, "tls.info: the CRL's URL (%s)" % st["url"])
        first = st["last_update"]
        check(not refused(port, client(pki, *alice)), "alice accepted")

        # Revoked at the CA, published at the distribution point.
        time.sleep(1.1)  # a later lastUpdate
        pki.revoke(alice[0])
        pki.crl(served + ".tmp")
        os.replace(served + ".tmp", served)
        st = wait_crl(ctl, lambda s: s["last_update"] > first,
                      "the new CRL fetched")
        check(refused(port, client(pki, *alice)),
              "alice refused after the refresh, without a reload")
        check(not refused(port, client(pki, *bob)), "bob still accepted")
        check(ctl.call("tls.info")["generation"] == 1,
              "no reload happened (generation 1)")

        # A bad CRL at the distribution point: the last good one stays.
        good = st["last_update"]
        with open(served + ".tmp", "w") as f:
            f.write("-----BEGIN X509 CRL-----\nnot a crl\n"
                    "-----END X509 CRL-----\n")
        os.replace(served + ".tmp", served)
        st = wait_crl(ctl, lambda s: "not a CRL" in s["error"],
                      "bad CRL refused")
        check(st["last_update"] == good, "bad CRL: the last good one is "
              "kept (%s)" % st["error"])
        check(refused(port, client(pki, *alice)), "alice still refused")
        # The server goes down: still the last good one.
        http.stop()
        t = st["last_fetch"]
        st = wait_crl(ctl, lambda s: s["last_fetch"] > t, "fetch while down")
        check(st["error"] != "" and st["last_update"] == good,
              "server down: error shown, last good CRL kept (%s)"
              % st["error"])
        check(refused(port, client(pki, *alice)) and
              not refused(port, client(pki, *bob)),
              "server down: alice refused, bob accepted")
    finally:
        if d:
            d.stop()
        http.stop()
    print("ok")


if __name__ == "__main__":
    main()
