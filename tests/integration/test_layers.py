"""The source tree keeps its layout (docs/layout.md, scripts/check-layers.py):

  tree         the real tree, with the objects of this build: no include
               from a room above, no header cycle, no call cycle;
  catches      a copy of the tree with an upward include (the runtime
               including the relay), a header cycle, a file in a folder
               the layer table does not know and a lib/ internal header
               included by the daemon: each is reported with its file and
               line, and the check fails."""
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("STLS_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("STLS_BUILD_DIR")
SCRIPT = os.path.join(SRC, "scripts", "check-layers.py")


def run(top, build=None):
    cmd = [sys.executable, SCRIPT, top] + ([build] if build else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def test_tree():
    rc, out = run(SRC, BUILD)
    assert rc == 0, out
    assert "check-layers: ok" in out, out
    assert "skipped" not in out, out


def append(path, text):
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def test_catches():
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("include", "lib", "daemon", "cli"):
            shutil.copytree(os.path.join(SRC, d), os.path.join(tmp, d))
        append(os.path.join(tmp, "daemon/runtime/mpsc.c"),
               '#include "relay/relay.h"\n')
        append(os.path.join(tmp, "daemon/runtime/mpsc.h"),
               '#include "runtime/conn_table.h"\n')
        append(os.path.join(tmp, "daemon/runtime/conn_table.h"),
               '#include "runtime/mpsc.h"\n')
        os.makedirs(os.path.join(tmp, "daemon/stray"))
        append(os.path.join(tmp, "daemon/stray/x.c"), "int x;\n")
        append(os.path.join(tmp, "daemon/relay/relay_send.c"),
               '#include "tls/tls_int.h"\n')
        rc, out = run(tmp)
        assert rc == 1, out
        assert ("daemon/runtime/mpsc.c:" in out and
                "room daemon/runtime may not include daemon/relay" in out), out
        assert "header cycle:" in out and "mpsc.h" in out, out
        assert "folder daemon/stray is not in the layer table" in out, out
        assert ("daemon/relay/relay_send.c:" in out and
                "may not include lib/tls" in out), out


if __name__ == "__main__":
    for t in (test_tree, test_catches):
        t()
        print("ok", t.__name__)
