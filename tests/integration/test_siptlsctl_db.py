"""siptlsctl db against real databases: a SQLite file, and a PostgreSQL
server this test starts itself (tests/pg/pg_server.sh: initdb + pg_ctl as
an unprivileged user on a free loopback port, stopped by PID at the end).

For each engine:
  kamcli     a table made the way kamcli makes it (its columns and types,
             created and filled with the engine's own client, sqlite3 or
             psql, not with siptlsctl) loads unchanged (`db check`, which
             builds the profiles as siptlsd does), exports as kamcli's
             cfgprint would, and `db upgrade` adds our columns without
             touching the rows;
  lifecycle  init, import (file_type 0 and 1), show, add, set, rm, each
             write checked before commit: a broken change is refused with
             the row named and the table unchanged;
  export     the exported tls.cfg passes `siptlsd --check` and loads into
             the same profiles (a second import with --replace checks);
  secrets    a URI password and the key password never appear in output.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import BUILD, SIPTLSD, SOURCE, check, test_pki  # noqa: E402

CTL = os.path.join(BUILD, "siptlsctl")
PKI = test_pki()
KEY_PASSWORD = "secret"  # of the test PKI's server-enc.key

# kamcli's table (`kamcli tls sqlprint`), in each engine's words.
KAMCLI_COLUMNS = """
    profile_type VARCHAR(64) NOT NULL,
    profile_name VARCHAR(128) NOT NULL,
    method VARCHAR(128),
    verify_certificate INT DEFAULT 0 NOT NULL,
    verify_depth INT DEFAULT 9 NOT NULL,
    require_certificate INT DEFAULT 0 NOT NULL,
    cipher_list VARCHAR(256),
    server_name VARCHAR(128),
    server_name_mode INT DEFAULT 0 NOT NULL,
    server_id VARCHAR(128),
    file_type INT DEFAULT 0 NOT NULL,
    certificate TEXT,
    private_key TEXT,
    ca_list TEXT,
    crl TEXT
"""
KAMCLI_DDL = {
    "sqlite": "CREATE TABLE tlscfg (id INTEGER PRIMARY KEY AUTOINCREMENT "
              "NOT NULL," + KAMCLI_COLUMNS + ");",
    "postgresql": "CREATE TABLE tlscfg (id SERIAL PRIMARY KEY NOT NULL,"
                  + KAMCLI_COLUMNS + ");",
}


def pki(name):
    return os.path.join(PKI, name)


def read(path):
    with open(path) as f:
        return f.read()


def sql_str(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def kamcli_rows():
    """Rows as a kamcli user inserts them: paths and PEM text."""
    cert, key, ca = pki("server.pem"), pki("server.key"), pki("ca.pem")
    rows = [
        ("server", "default", "TLSv1.2+", 0, 9, 0, None, None, 0, None, 0,
         cert, key, None, None),
        ("server", "127.0.0.1:5061", "TLSv1.3", 1, 3, 1, None,
         "sip.example.test", 1, None, 0, cert, key, ca, pki("crl.pem")),
        ("client", "any", None, 1, 9, 0, None, "carrier.example.test", 0,
         "trunk-1", 1, None, None, read(ca), None),
        ("client", "default", "", 0, 9, 0, "", "", 0, "", 0, "", "", "",
         ""),
    ]
    out = []
    for r in rows:
        vals = [sql_str(v) if isinstance(v, str) or v is None else str(v)
                for v in r]
        out.append("INSERT INTO tlscfg (profile_type, profile_name, method, "
                   "verify_certificate, verify_depth, require_certificate, "
                   "cipher_list, server_name, server_name_mode, server_id, "
                   "file_type, certificate, private_key, ca_list, crl) "
                   "VALUES (%s);" % ", ".join(vals))
    return "\n".join(out)


class Engine:
    def __init__(self, name, source, client):
        self.name, self.source, self.client = name, source, client

    def sql(self, text):
        r = subprocess.run(self.client, input=text, text=True,
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
        check(r.returncode == 0, "%s: client ran the SQL" % self.name)
        return r.stdout

    def table(self, table):
        sep = "&" if "?" in self.source else "?"
        return self.source + sep + "table=" + table


def ctl(*args, env=None):
    r = subprocess.run([CTL, "db"] + list(args), text=True,
                       capture_output=True, timeout=120, env=env)
    return r.returncode, r.stdout, r.stderr


def expect(what, want_rc, *args, out=None, err=None):
    rc, o, e = ctl(*args)
    ok = rc == want_rc and (out is None or out in o) and \
        (err is None or err in e)
    if not ok:
        print("  exit %d\n  out: %s\n  err: %s" % (rc, o, e))
    check(ok, what)
    return o


def kamcli(eng, tmp):
    n = eng.name
    eng.sql(KAMCLI_DDL[eng.name] + "\n" + kamcli_rows())
    src = eng.source
    pem = os.path.join(tmp, "kamcli-" + n)
    os.mkdir(pem)
    expect("%s kamcli: the kamcli table loads unchanged" % n, 0, "check",
           "--db", src, out="table tlscfg loads: 4 profiles")
    o = expect("%s kamcli: export like cfgprint" % n, 0, "export", "--db",
               src, "--pem-dir", pem)
    check("[server:127.0.0.1:5061]\nmethod = TLSv1.3\nverify_certificate = 1"
          "\nverify_depth = 3\nrequire_certificate = 1\n" in o,
          "%s kamcli: the second row as cfgprint prints it" % n)
    check("server_name_mode = 1\n" in o and
          "ca_list = %s/ca_list_3.pem" % pem in o,
          "%s kamcli: server_name_mode with server_name; PEM to a file" % n)
    check("[client:default]\nverify_certificate = 0\nverify_depth = 9\n"
          "require_certificate = 0\n\n" in o + "\n",
          "%s kamcli: blank text columns are unset" % n)
    expect("%s kamcli: upgrade adds our 13 columns" % n, 0, "upgrade",
           "--db", src, out="13 columns added")
    expect("%s kamcli: still loads after the upgrade" % n, 0, "check",
           "--db", src, out="4 profiles")
    o = expect("%s kamcli: rows unchanged" % n, 0, "show", "2", "--db", src)
    check("server_name: sip.example.test\n" in o and
          "verify_depth: 3\n" in o, "%s kamcli: row 2 as inserted" % n)


def lifecycle(eng, tmp):
    n, src = eng.name, eng.table("life")
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write(KEY_PASSWORD + "\n")
    cfg = os.path.join(tmp, "tls.cfg")
    with open(cfg, "w") as f:
        f.write("[server:default]\ncertificate = %s\nprivate_key = %s\n"
                "[client:default]\nverify_certificate = yes\n"
                "ca_list = %s\n" % (pki("server.pem"),
                                    pki("server-enc.key"), pki("ca.pem")))
    expect("%s: init" % n, 0, "init", "--db", src, out="created table life")
    expect("%s: init twice is refused" % n, 1, "init", "--db", src,
           err="exists")
    expect("%s: import as PEM text" % n, 0, "import", cfg, "--db", src,
           "--file-type", "1", "--key-password-file", pw,
           out="imported 2 profiles")
    o = expect("%s: show sums PEM up" % n, 0, "show", "--db", src)
    check("PEM: encrypted key" in o and "BEGIN" not in o,
          "%s: no PEM text in show" % n)
    expect("%s: the key needs its password" % n, 1, "check", "--db", src,
           err="life id=1 column=private_key: private_key: '(PEM value)' is "
               "encrypted and no private_key_password is set")
    common = ["--db", src, "--key-password-file", pw]
    expect("%s: add" % n, 0, "add", "server:127.0.0.1:5062",
           "cert_file=" + pki("server2.pem"),
           "private_key=" + pki("server2.key"),
           "server_name=other.example.test", *common, out="added id 3")
    expect("%s: a broken add is refused, naming the row" % n, 1, "add",
           "server:127.0.0.1:5063", "certificate=" + pki("server2.pem"),
           "private_key=" + pki("server.key"), *common,
           err="life id=4 column=private_key: private_key: does not match "
               "certificate")
    expect("%s: set" % n, 0, "set", "3", "verify_depth=4", "method=TLSv1.3",
           *common, out="updated id 3")
    expect("%s: a broken set is refused" % n, 1, "set", "3",
           "cipher_list=NOPE", *common,
           err="life id=3 column=cipher_list: cipher_list: OpenSSL accepts "
               "no cipher in 'NOPE'")
    o = expect("%s: the refused changes left nothing" % n, 0, "show", "3",
               "--db", src)
    check("verify_depth: 4\n" in o and "cipher_list" not in o,
          "%s: row 3 has the good set only" % n)
    expect("%s: rm" % n, 0, "rm", "3", *common, out="removed id 3")
    expect("%s: rm of a missing row" % n, 1, "rm", "3", *common,
           err="no row with id 3")
    expect("%s: check with the password" % n, 0, "check", *common,
           out="table life loads: 2 profiles")


def export_round_trip(eng, tmp):
    n, src = eng.name, eng.table("life")
    pw = os.path.join(tmp, "pw")
    pem = os.path.join(tmp, "pem-" + n)
    os.mkdir(pem)
    out = os.path.join(tmp, "export-%s.cfg" % n)
    expect("%s: export to a file" % n, 0, "export", "--db", src, "--out",
           out, "--pem-dir", pem)
    text = read(out)
    check("private_key_password =" not in text and "BEGIN" not in text,
          "%s: the export names PEM files, holds no key" % n)
    check(oct(os.stat(os.path.join(pem, "private_key_1.pem")).st_mode
              & 0o777) == "0o600", "%s: exported key file is 0600" % n)
    # The exported key is encrypted: give siptlsd its password the way
    # the export's comment asks, then siptlsd --check must accept it.
    text = text.replace("# private_key is encrypted and the row has no "
                        "password: add private_key_password\n",
                        "private_key_password = %s\n" % KEY_PASSWORD)
    with open(out, "w") as f:
        f.write(text)
    main = os.path.join(tmp, "main-%s.cfg" % n)
    with open(main, "w") as f:
        f.write("[core]\nlisten = tls:127.0.0.1:5061\n"
                "backend = udp:127.0.0.1:5060\n[tls]\nconfig = %s\n" % out)
    r = subprocess.run([SIPTLSD, "-c", main, "--check"], text=True,
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
    check(r.returncode == 0, "%s: siptlsd --check accepts the export" % n)
    expect("%s: the export imports back over the table" % n, 0, "import",
           out, "--db", src, "--replace", "--file-type", "1",
           "--key-password-file", pw, out="imported 2 profiles")


def secrets(eng, tmp):
    n = eng.name
    if eng.name != "postgresql":
        return
    bad = eng.source.replace("postgresql://siptls@",
                             "postgresql://siptls:Sup3rS3cret@")
    rc, o, e = ctl("show", "--db", bad, env=dict(os.environ,
                                                PGPASSFILE="/nonexistent"))
    check(rc == 1 and "Sup3rS3cret" not in o + e and ":***@" in e,
          "%s: a URI password is never printed back" % n)
    rc, o, e = ctl("check", "--db", eng.table("life"),
                   "--key-password-file", os.path.join(tmp, "pw"))
    check(KEY_PASSWORD not in o + e and "PRIVATE KEY" not in o + e,
          "%s: the key password and keys stay out of the output" % n)


def run(eng, tmp):
    kamcli(eng, tmp)
    lifecycle(eng, tmp)
    export_round_trip(eng, tmp)
    secrets(eng, tmp)


def main():
    tmp = tempfile.mkdtemp(prefix="stls-ctldb-")
    pg = os.path.join(tempfile.gettempdir(), "stls-pgi-%d" % os.getpid())
    script = os.path.join(SOURCE, "tests", "pg", "pg_server.sh")
    try:
        db = os.path.join(tmp, "tls.db")
        run(Engine("sqlite", "sqlite:" + db, ["sqlite3", "-bail", db]), tmp)
        r = subprocess.run(["bash", script, "start", pg], text=True,
                           capture_output=True, timeout=180)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
        check(r.returncode == 0, "postgresql: the test server started")
        os.environ["PGPASSFILE"] = os.path.join(pg, "pgpass")
        uri = read(os.path.join(pg, "uri")).strip()
        run(Engine("postgresql", uri,
                   ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", uri]),
            tmp)
    finally:
        subprocess.run(["bash", script, "stop", pg], timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
