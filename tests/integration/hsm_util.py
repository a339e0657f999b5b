"""A real PKCS#11 token for the HSM integration tests and the HSM bench:
SoftHSM2 in a temporary directory (SOFTHSM2_CONF), keys generated inside
the token with pkcs11-tool, an engine_config in the seed's shape, and a
demo CA (siptlsctl cert ca) that certifies the token keys through
`siptlsctl cert issue --key pkcs11:...`. Not a test itself."""
import glob
import os
import subprocess
import tempfile

from daemon_util import BUILD, fail

SIPTLSCTL = os.path.join(BUILD, "siptlsctl")
# Long and unusual, so that "not in the log" cannot match a port, a
# pointer or a path by chance (a four-digit PIN did, once in a run).
PIN = "stls-pin-73915"
LABEL = "siptls-test"


def module_path():
    for p in ("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
              "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
              "/usr/lib/softhsm/libsofthsm2.so"):
        if os.path.exists(p):
            return p
    fail("libsofthsm2.so not found: run scripts/install-deps.sh")


def uri(label):
    return "pkcs11:token=%s;object=%s" % (LABEL, label)


class Token:
    """One token in its own directory; os.environ gets SOFTHSM2_CONF so
    that siptlsd and the tools started later find it."""

    def __init__(self, keys=(("ec", "EC:prime256v1"), ("rsa", "rsa:2048"))):
        self.dir = tempfile.mkdtemp(prefix="stls-hsm-")
        self.module = module_path()
        os.mkdir(os.path.join(self.dir, "tokens"))
        self.conf = os.path.join(self.dir, "softhsm2.conf")
        with open(self.conf, "w") as f:
            f.write("directories.tokendir = %s/tokens\n"
                    "objectstore.backend = file\nlog.level = ERROR\n"
                    "slots.removable = false\n" % self.dir)
        os.environ["SOFTHSM2_CONF"] = self.conf
        self.sh(["softhsm2-util", "--init-token", "--free", "--label",
                 LABEL, "--so-pin", "87654321", "--pin", PIN])
        for i, (label, kind) in enumerate(keys):
            self.keygen(label, kind, i + 1)
        self.engine_cnf = self.engine_config("engine.cnf", PIN, 0o600)

    def sh(self, cmd):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail("%s: %s%s" % (" ".join(cmd), r.stdout, r.stderr))
        return r.stdout

    def p11(self, *args):
        return self.sh(["pkcs11-tool", "--module", self.module,
                        "--token-label", LABEL, "--login", "--pin", PIN]
                       + list(args))

    def keygen(self, label, kind, ident):
        self.p11("--keypairgen", "--key-type", kind, "--label", label,
                 "--id", "%02x" % ident)

    def delete_key(self, label):
        self.p11("--delete-object", "--type", "privkey", "--label", label)

    def engine_config(self, name, pin, mode, app="siptls"):
        """An engine_config as the seed shows it (section 9)."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write("# OpenSSL config for the pkcs11 engine\n"
                    "%s = openssl_init\n\n[openssl_init]\n"
                    "engines = engine_section\n\n[engine_section]\n"
                    "pkcs11 = pkcs11_section\n\n[pkcs11_section]\n"
                    "engine_id = pkcs11\nMODULE_PATH = %s\n%sinit = 0\n"
                    % (app, self.module,
                       "PIN = %s\n" % pin if pin else ""))
        os.chmod(path, mode)
        return path

    def ctl(self, *args):
        r = subprocess.run([SIPTLSCTL, "cert"] + list(args),
                           capture_output=True, text=True, timeout=60,
                           cwd=self.dir)
        if r.returncode != 0:
            fail("siptlsctl cert %s: %s%s" % (" ".join(args), r.stdout,
                                              r.stderr))
        return r.stdout

    def make_ca(self):
        self.ctl("ca", "init", "ca")
        self.ca = os.path.join(self.dir, "ca", "ca.pem")
        return self.ca

    def issue(self, kind, name, label=None):
        """A certificate from the demo CA: for token key <label>, or a new
        key file when label is None. Returns (cert path, key or id)."""
        args = ["issue", kind, name, "--ca", "ca", "--out", self.dir]
        if label:
            args += ["--key", uri(label), "--engine-config",
                     self.engine_cnf]
        self.ctl(*args)
        cert = os.path.join(self.dir, name + ".pem")
        return cert, uri(label) if label else os.path.join(
            self.dir, name + ".key")

    def key_files(self):
        return glob.glob(os.path.join(self.dir, "tokens", "*", "*"))
