"""Every `key = value` example in the generated key references
(docs/core-config.md, docs/relay-config.md) loads as written: each is put
in its section of an otherwise good configuration and `siptlsd --check`
must report no error for that line. An example that fails to load (an
unquoted value with spaces, a retired spelling) fails this test."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from daemon_util import SIPTLSD, check, test_pki  # noqa: E402

SRC = os.environ.get("STLS_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
PKI = test_pki()
DOCS = {"core": "docs/core-config.md", "relay": "docs/relay-config.md"}
EXAMPLE = re.compile(r"`([a-z_]+) = ([^`]+)`")


def examples():
    for section, doc in DOCS.items():
        text = open(os.path.join(SRC, doc), encoding="utf-8").read()
        for row in text.splitlines():
            if not row.startswith("| `"):
                continue
            key = row.split("`")[1]
            for m in EXAMPLE.finditer(row):
                if m.group(1) == key:
                    yield section, key, m.group(2)


def run(tmp, section, key, value):
    core = ["listen = tls:127.0.0.1:0", "backend = udp:127.0.0.1:5060",
            "rpc_socket = " + os.path.join(tmp, "ctl.sock")]
    relay = []
    (core if section == "core" else relay).append("%s = %s" % (key, value))
    lines = (["[core]"] + core + ["[relay]"] + relay +
             ["[tls]", "certificate = " + os.path.join(PKI, "server.pem"),
              "private_key = " + os.path.join(PKI, "server.key")])
    path = os.path.join(tmp, "main.cfg")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    line = lines.index("%s = %s" % (key, value)) + 1
    r = subprocess.run([SIPTLSD, "-c", path, "--check"], text=True,
                       capture_output=True, timeout=60)
    out = r.stdout + r.stderr
    errors = [ln for ln in out.splitlines()
              if ln.startswith("%s:%d:" % (path, line))
              and "warning" not in ln]
    return errors, out


def main():
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for section, key, value in examples():
            errors, out = run(tmp, section, key, value)
            if errors:
                print(out)
            check(not errors, "[%s] %s = %s loads" % (section, key, value))
            n += 1
    check(n >= 2, "found the examples (%d)" % n)
    print("%d passed, 0 failed" % n)


main()
