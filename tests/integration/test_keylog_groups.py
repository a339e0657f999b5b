"""The opt-in key log and key-exchange groups, against openssl s_client.

Key log: a key_file alone is refused (`--check` fails and says why);
with keylog_enable = yes the daemon warns at start, makes the file 0600,
and writes for each handshake exactly the secrets that s_client writes
to its own -keylog file (two implementations agreeing on every
SSLKEYLOGFILE line: TLS 1.3 traffic secrets and the TLS 1.2
CLIENT_RANDOM master secret).

Groups: a server with groups = P-256 negotiates P-256 with a client that
offers it, and fails the handshake with a client that offers only
X25519."""
import os
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import (SIPTLSD, check, fail,  # noqa: E402
                         install_default_cert)
from ctl_util import Daemon, base_cfg, tls_port  # noqa: E402


def s_client(port, *args):
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port] + list(args),
                       input="", capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def lines(path):
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and
                not ln.startswith("#")]


def main():
    tmp = tempfile.mkdtemp(prefix="stls-keylog-")
    klog = os.path.join(tmp, "keys.log")

    # A file name alone is refused.
    cfg = os.path.join(tmp, "refused.cfg")
    with open(cfg, "w") as f:
        f.write(base_cfg(tls_extra="keylog_file = %s\n" % klog)
                .replace("@TMP@", tmp))
    install_default_cert(tmp)
    r = subprocess.run([SIPTLSD, "-c", cfg, "--check"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and "keylog_enable" in r.stderr,
          "keylog_file without keylog_enable is refused:\n" + r.stderr)
    check(not os.path.exists(klog), "and no key log file is made")

    d = Daemon(base_cfg(tls_extra="keylog_file = %s\nkeylog_enable = yes\n"
                        "groups = P-256:P-384\n" % klog), tmp=tmp)
    try:
        check(d.wait_log(r"(?i)warning.*key ?log", 5),
              "the key log is warned about at start")
        port = tls_port(d)
        for ver in ("-tls1_3", "-tls1_2"):
            mine = os.path.join(tmp, "client%s.log" % ver)
            rc, out = s_client(port, ver, "-keylogfile", mine)
            check(rc == 0, "s_client %s handshake" % ver)
            check("Server Temp Key: ECDH, prime256v1" in out,
                  "groups: P-256 negotiated in %s" % ver)
            theirs = set(lines(mine))
            ours = set(lines(klog))
            check(theirs and theirs <= ours,
                  "%s: every secret s_client logged is in the daemon's "
                  "key log (%d lines)" % (ver, len(theirs)))
        labels = {ln.split()[0] for ln in lines(klog)}
        check({"CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
               "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
               "SERVER_TRAFFIC_SECRET_0"} <= labels,
              "SSLKEYLOGFILE labels of TLS 1.2 and 1.3: %s" % sorted(labels))
        for ln in lines(klog):
            parts = ln.split()
            if len(parts) != 3 or len(parts[1]) != 64 or \
                    len(parts[2]) not in (64, 96):
                fail("bad key log line: %r" % ln)
        check(stat.S_IMODE(os.stat(klog).st_mode) == 0o600,
              "the key log is mode 0600")
        rc, out = s_client(port, "-groups", "X25519", "-tls1_3")
        check(rc != 0, "a client offering only X25519 is refused "
              "(groups = P-256:P-384)")
        rc, out = s_client(port, "-groups", "X25519:P-384", "-tls1_3")
        check(rc == 0 and "Server Temp Key: ECDH, secp384r1" in out,
              "X25519:P-384 offered: P-384 negotiated")
    finally:
        d.stop()
    print("ok")


if __name__ == "__main__":
    main()
