"""siptlsd --check against certificates generated at test time: every
problem gets its own clear FILE:LINE message, warnings never fail, a good
configuration passes. Issue "Foundation", item 7."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from daemon_util import SIPTLSD, check, test_pki  # noqa: E402

PKI = test_pki()
MAIN = """[core]
listen = tls:127.0.0.1:5061
backend = udp:127.0.0.1:5060
[tls]
config = tls.cfg
"""


def run_check(tmp, tls_cfg, user=None):
    with open(os.path.join(tmp, "main.cfg"), "w") as f:
        f.write(MAIN)
    with open(os.path.join(tmp, "tls.cfg"), "w") as f:
        f.write(tls_cfg)
    exe = SIPTLSD
    if user:
        # The build tree may not be reachable for <user>: run a copy.
        exe = os.path.join(tmp, "siptlsd")
        shutil.copy(SIPTLSD, exe)
        os.chmod(exe, 0o755)
    cmd = [exe, "-c", os.path.join(tmp, "main.cfg"), "--check"]
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", "nogroup",
               "--clear-groups"] + cmd
    r = subprocess.run(cmd, text=True, capture_output=True, timeout=60)
    return r.returncode, r.stderr + r.stdout


def pki(name):
    return os.path.join(PKI, name)


def good_profiles(extra=""):
    return ("[server:default]\ncertificate = %s\nprivate_key = %s\n"
            "[client:default]\nverify_certificate = yes\nca_list = %s\n%s"
            % (pki("server.pem"), pki("server.key"), pki("ca.pem"), extra))


def expect_error(tmp, tls_cfg, line, pattern, what, user=None):
    rc, out = run_check(tmp, tls_cfg, user)
    tlscfg = re.escape(os.path.join(tmp, "tls.cfg"))
    m = re.search(r"^%s:%d: %s" % (tlscfg, line, pattern), out, re.M)
    if rc != 1 or not m:
        print(out)
    check(rc == 1 and m is not None, what)


def main():
    tmp = tempfile.mkdtemp(prefix="stls-check-")
    os.chmod(tmp, 0o755)
    try:
        rc, out = run_check(tmp, good_profiles())
        check(rc == 0 and "configuration OK" in out, "good config passes")

        expect_error(tmp, "[server:default]\ncertificate = %s/missing.pem\n"
                     "private_key = %s\n" % (tmp, pki("server.key")), 2,
                     r"certificate: cannot load .*No such file",
                     "missing certificate file")
        expect_error(tmp, "[server:default]\ncertificate = %s\n"
                     "private_key = %s\n" % (pki("server.pem"),
                                             pki("server2.key")), 3,
                     r"private_key: does not match certificate",
                     "key does not match certificate")
        expect_error(tmp, "[server:default]\ncertificate = %s\n"
                     "private_key = %s\n" % (pki("server.pem"),
                                             pki("server-enc.key")), 3,
                     r"private_key: .* is encrypted and no "
                     r"private_key_password", "encrypted key, no password")
        expect_error(tmp, good_profiles(
            "[server:127.0.0.1:5061]\ncertificate = %s\nprivate_key = %s\n"
            "verify_client = on\nca_list = %s\ncrl = %s\n"
            % (pki("server.pem"), pki("server.key"), pki("ca.pem"),
               pki("ca.pem"))), 12, r"crl: no CRL found", "bad CRL")
        empty = os.path.join(tmp, "empty-ca.pem")
        open(empty, "w").close()
        expect_error(tmp, good_profiles(
            "[server:127.0.0.1:5061]\ncertificate = %s\nprivate_key = %s\n"
            "verify_client = on\nca_list = %s\n"
            % (pki("server.pem"), pki("server.key"), empty)), 11,
            r"ca_list: ", "empty CA list")
        expect_error(tmp, good_profiles(
            "[server:127.0.0.2:5061]\ncertificate = %s\nprivate_key = %s\n"
            % (pki("server.pem"), pki("server.key"))), 7,
            r"TLSs<127.0.0.2:5061>: no TLS listener",
            "server profile without a TLS listener")

        # Unreadable for the user the daemon runs as.
        secret = os.path.join(tmp, "secret.key")
        shutil.copy(pki("server.key"), secret)
        os.chmod(secret, 0o600)
        for name in ("server.pem", "ca.pem"):
            shutil.copy(pki(name), os.path.join(tmp, name))
            os.chmod(os.path.join(tmp, name), 0o644)
        expect_error(tmp, "[server:default]\ncertificate = %s\n"
                     "private_key = %s\n[client:default]\n"
                     % (os.path.join(tmp, "server.pem"), secret), 3,
                     r"private_key: cannot load .*Permission denied",
                     "unreadable key file (as nobody)", user="nobody")

        # Warnings: reported, exit 0.
        loose = os.path.join(tmp, "loose.key")
        shutil.copy(pki("server.key"), loose)
        os.chmod(loose, 0o644)
        rc, out = run_check(tmp, good_profiles(
            "[server:127.0.0.1:5061]\ncertificate = %s\nprivate_key = %s\n"
            "method = TLSv1+\n[server:any]\nserver_name = x.example\n"
            "certificate = %s\nprivate_key = %s\n"
            % (pki("server-expired.pem"), pki("server-expired.key"),
               pki("server.pem"), loose)))
        check(rc == 0, "warnings do not fail --check")
        check(re.search(r"warning: certificate: .* expired on", out)
              is not None, "expired certificate warned")
        check(re.search(r"warning: .*(readable|mode)", out) is not None,
              "key readable by others warned")
        check(re.search(r"warning: .*TLS ?1\.[01]|warning: .*TLSv1", out)
              is not None, "old protocol warned")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1 passed, 0 failed")


main()
