"""watch_files: renewed certificates go into service without a human
(docs/operations.md). siptlsd serves live/cert.pem and live/privkey.pem
laid out as certbot does (symlinks into archive/); the test renews the
way certbot does (new files in archive/, then the symlinks swapped) and
checks with a real handshake that the new certificate is served, and
that tls.info shows the new expiry and a new last_good_reload. A
half-written renewal (a new certificate with the old key, a truncated
PEM) never loads: the old certificate stays in service."""
import os
import socket
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import check, fail  # noqa: E402
from ctl_util import Ctl, Daemon, base_cfg, tls_port  # noqa: E402
from ocsp_util import Pki  # noqa: E402


def served(port):
    """The DER certificate the server presents now."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return s.getpeercert(binary_form=True)


def der_of(pem):
    """The DER of the first certificate (the leaf) of a chain file."""
    end = "-----END CERTIFICATE-----"
    with open(pem) as f:
        text = f.read()
    return ssl.PEM_cert_to_DER_cert(text[:text.index(end) + len(end)])


def swap_link(link, target):
    """Points <link> at <target> atomically (certbot's way)."""
    tmp = link + ".new"
    os.symlink(target, tmp)
    os.replace(tmp, link)


def wait_served(port, der, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if served(port) == der:
            return True
        time.sleep(0.1)
    return False


def main():
    tmp = tempfile.mkdtemp(prefix="stls-watch-")
    pki = Pki(tmp)
    live = os.path.join(tmp, "live")
    archive = os.path.join(tmp, "archive")
    os.mkdir(live)
    os.mkdir(archive)
    certs = []
    for i, days in enumerate((10, 20, 30), 1):
        pem, key = pki.server("sip.test", days=days)
        os.rename(pem, os.path.join(archive, "fullchain%d.pem" % i))
        os.rename(key, os.path.join(archive, "privkey%d.pem" % i))
        certs.append((os.path.join(archive, "fullchain%d.pem" % i),
                      os.path.join(archive, "privkey%d.pem" % i)))
    lcert = os.path.join(live, "fullchain.pem")
    lkey = os.path.join(live, "privkey.pem")
    swap_link(lcert, "../archive/fullchain1.pem")
    swap_link(lkey, "../archive/privkey1.pem")
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write("[server:default]\ncertificate = %s\nprivate_key = %s\n"
                % (lcert, lkey))
    d = Daemon(base_cfg(tls_extra="config = tls.cfg\nwatch_files = yes\n"
                        "watch_delay = 300\n"), tmp=tmp)
    ctl = Ctl(d)
    port = tls_port(d)
    try:
        check(served(port) == der_of(certs[0][0]), "the first certificate "
              "is served")
        info0 = ctl.call("tls.info")
        check(info0["last_good_reload"] != "", "tls.info: last_good_reload")
        time.sleep(1.1)  # last_good_reload has a resolution of 1 s

        # Half a renewal: the certificate link moves, the key does not.
        swap_link(lcert, "../archive/fullchain2.pem")
        if not d.wait_log(r"watch_files: reload failed", 20):
            fail("no failed reload after a half renewal:\n" + d.log())
        check(served(port) == der_of(certs[0][0]),
              "certificate without its key: the old one stays in service")
        # The key follows: the renewal completes.
        swap_link(lkey, "../archive/privkey2.pem")
        check(wait_served(port, der_of(certs[1][0])),
              "certbot-like renewal: the new certificate is served")
        info1 = ctl.call("tls.info")
        check(info1["last_good_reload"] > info0["last_good_reload"],
              "tls.info: last_good_reload moved (%s -> %s)"
              % (info0["last_good_reload"], info1["last_good_reload"]))
        na = [c["not_after"] for c in info1["certificates"]
              if "sip.test" in c["subject"]]
        check(len(na) >= 1 and na[0] > [c["not_after"] for c in
                                         info0["certificates"]
                                         if "sip.test" in c["subject"]][0],
              "tls.info: the new certificate's expiry (%s)" % na)

        # A file rewritten in place, truncated: never loads.
        fails = len([ln for ln in d.log().splitlines()
                     if "watch_files: reload failed" in ln])
        real = os.path.join(archive, "fullchain2.pem")
        with open(real) as f:
            text = f.read()
        os.unlink(lcert)
        with open(lcert, "w") as f:
            f.write(text[:len(text) // 4])  # inside the leaf
        if not d.wait_log(r"watch_files: reload failed", 20, fails + 1):
            fail("no failed reload after a truncated PEM:\n" + d.log())
        check(served(port) == der_of(certs[1][0]),
              "truncated certificate file: the running one stays")
        # mv into place (the atomic way): the third certificate.
        with open(lcert + ".tmp", "w") as f:
            f.write(open(certs[2][0]).read())
        os.replace(lcert + ".tmp", lcert)
        swap_link(lkey, "../archive/privkey3.pem")
        check(wait_served(port, der_of(certs[2][0])),
              "rename into place: the third certificate is served")
    finally:
        d.stop()
    print("ok")


if __name__ == "__main__":
    main()
