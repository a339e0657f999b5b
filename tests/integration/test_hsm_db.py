#!/usr/bin/env python3
"""Profiles held in a database whose keys are not in the rows: keys that
stay in a real PKCS#11 token (SoftHSM2 through the pkcs11 engine), and an
encrypted PEM key opened with `[tls] private_key_password_file`.

- `siptlsctl db import --file-type 1 -c MAIN` stores certificates as PEM
  text and keeps `pkcs11:` and `/engine:` key ids as ids (the PIN of the
  engine_config never reaches a row); the encrypted key is stored
  encrypted, validated with the password from the main config's file;
- siptlsd, its profiles from that SQLite table, serves each name with its
  own certificate (openssl s_client verifying the chain and the name):
  ECDSA key in the token (pkcs11: URI), RSA key in the token (/engine:),
  encrypted PEM key from the row;
- a wrong password in the file: `--check` names the row and the column;
  a running daemon read the file at start (like every [tls] parameter),
  so its tls.reload still builds and serves the encrypted key;
- neither the PIN nor the key password reaches a log, a reply or a row
  printout."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from daemon_util import BUILD, Daemon, SIPTLSD, check, fail  # noqa: E402
from hsm_util import PIN, Token  # noqa: E402

CTL = os.path.join(BUILD, "siptlsctl")
PASSWORD = "row-key-Pa55word"


def run(cmd, timeout=120):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def s_client(port, name, ca):
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port, "-servername", name,
                        "-CAfile", ca, "-verify_return_error",
                        "-verify_hostname", name, "-brief"],
                       input=b"", capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def encrypted_key(tok, tmp):
    """A certificate for enc.example.test whose key file is encrypted."""
    cert, plain = tok.issue("server", "enc.example.test")
    pw = write(os.path.join(tmp, "pw.txt"), PASSWORD + "\n")
    enc = os.path.join(tmp, "enc.key")
    rc, out = run(["openssl", "pkey", "-in", plain, "-out", enc, "-aes256",
                   "-passout", "file:" + pw])
    check(rc == 0, "openssl pkey -aes256: " + out)
    os.unlink(plain)
    return cert, enc


def main_cfg(tok, tmp, src, pwfile):
    return ("[core]\nlisten = tls:127.0.0.1:0\nbackend = udp:127.0.0.1:9\n"
            "handler = echo\nworkers = 1\nrpc_socket = @TMP@/ctl.sock\n"
            "state_dir = @TMP@/state\n"
            "[tls]\nengine = pkcs11\nengine_config = %s\nconfig = %s\n"
            "private_key_password_file = %s\n"
            % (tok.engine_cnf, src, pwfile)).replace("@TMP@", tmp)


def ctl(tmp, *args):
    return run([CTL, "-s", os.path.join(tmp, "ctl.sock"), "-w", "10"]
               + list(args))


def main():
    tok = Token()
    tok.make_ca()
    ec_cert, ec_id = tok.issue("server", "ec.example.test", "ec")
    rsa_cert, rsa_id = tok.issue("server", "rsa.example.test", "rsa")
    tmp = tempfile.mkdtemp(prefix="stls-hsm-db-")
    enc_cert, enc_key = encrypted_key(tok, tmp)
    tls = write(os.path.join(tmp, "tls.cfg"),
                "[server:default]\ncertificate = %s\nprivate_key = %s\n\n"
                "[server:any]\nserver_name = rsa.example.test\n"
                "certificate = %s\nprivate_key = /engine:%s\n\n"
                "[server:any]\nserver_name = enc.example.test\n"
                "certificate = %s\nprivate_key = %s\n"
                % (ec_cert, ec_id, rsa_cert, rsa_id, enc_cert, enc_key))
    dbfile = os.path.join(tmp, "tls.db")
    src = "sqlite:" + dbfile
    pwfile = os.path.join(tmp, "pw.txt")
    main_path = write(os.path.join(tmp, "main.conf"),
                      main_cfg(tok, tmp, src, pwfile))

    rc, out = run([CTL, "db", "init", "--db", src])
    check(rc == 0, "db init: " + out)
    rc, out = run([CTL, "db", "import", tls, "--file-type", "1", "--db",
                   src, "-c", main_path])
    check(rc == 0, "db import --file-type 1 with HSM key ids and an "
          "encrypted key, validated with the config's password file: "
          + out)
    rows = sqlite3.connect(dbfile).execute(
        "SELECT server_name, file_type, certificate, private_key FROM "
        "tlscfg ORDER BY id").fetchall()
    keys = {r[0] or "default": r for r in rows}
    check(len(rows) == 3 and all(r[1] == 1 for r in rows),
          "three rows of file_type 1: %r" % [r[:2] for r in rows])
    check(keys["default"][3] == ec_id and
          keys["rsa.example.test"][3] == "/engine:" + rsa_id,
          "token key ids are kept as ids in the rows")
    check(all(r[2].startswith("-----BEGIN CERTIFICATE-----")
              for r in rows), "certificates are PEM text in the rows")
    check("-----BEGIN ENCRYPTED PRIVATE KEY-----" in
          keys["enc.example.test"][3], "the row's PEM key is encrypted")
    dump = "\n".join(str(r) for r in rows)
    check(PIN not in dump and PASSWORD not in dump,
          "no PIN and no password in the rows")

    rc, out = run([SIPTLSD, "-c", main_path, "--check"])
    check(rc == 0, "--check with the database profiles: " + out)

    d = Daemon(open(main_path).read(), tmp=tmp)
    try:
        port = [a for a in d.addrs if a[0] == "tls"][0][2]
        for name, what in (("ec.example.test", "ECDSA key in the token "
                            "(pkcs11: URI in the row)"),
                           ("rsa.example.test", "RSA key in the token "
                            "(/engine: id in the row)"),
                           ("enc.example.test", "encrypted PEM key in "
                            "the row, password from the file")):
            rc, out = s_client(port, name, tok.ca)
            check(rc == 0 and "Verification: OK" in out,
                  "%s: %s" % (name, what))
        # A wrong password in the file: --check names the row and the
        # column; tls.reload (the file is read with the main config, at
        # start) keeps serving the old set.
        write(pwfile, "not-the-password\n")
        rc, out = run([SIPTLSD, "-c", main_path, "--check"])
        check(rc != 0 and
              "column=private_key: private_key: cannot decrypt" in out,
              "wrong password file: --check names the row: " + out)
        check("not-the-password" not in out and PASSWORD not in out,
              "--check prints no password")
        rc, out = ctl(tmp, "tls.reload")
        check(rc == 0, "tls.reload with the password read at start: "
              + out)
        rc, out = s_client(port, "enc.example.test", tok.ca)
        check(rc == 0, "enc.example.test still served after the reload")
        rc, out = ctl(tmp, "tls.info")
        info = json.loads(out) if rc == 0 else {}
        check(rc == 0 and info.get("profiles", 0) >= 3,
              "tls.info after the reload: %s" % out[:200])
    finally:
        rc = d.stop()
    check(rc == 0, "siptlsd exits 0")
    log = d.log()
    check(PIN not in log and PASSWORD not in log and
          "not-the-password" not in log,
          "neither the PIN nor a password reached the log")
    check("LeakSanitizer" not in log, "no leak at exit")


if __name__ == "__main__":
    try:
        main()
    except subprocess.TimeoutExpired as e:
        fail("timed out: %s" % e)
