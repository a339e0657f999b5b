"""Kamailio 5.6 (Debian package) as the registrar and proxy behind
siptlsd in the relay tests: a UDP-only script with use_path, with or
without record_route(). Loopback only; the process is stopped by PID.
Not a test itself (no test_ prefix)."""
import base64
import os
import shutil
import signal
import socket
import subprocess
import time

MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"

# In-dialog requests: loose_route() when there is a Route of Kamailio's
# own; otherwise (no record_route(), or a request a phone sent straight
# to a peer Kamailio serves) by Request-URI.
KAM_CFG = r"""#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
listen=udp:127.0.0.1:%(port)d
mpath="%(moddir)s/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "path.so"
modparam("registrar", "use_path", 1)
modparam("registrar", "path_mode", %(path_mode)d)
modparam("usrloc", "db_mode", 0)

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (has_totag()) {
		if (loose_route()) {
			t_relay();
			exit;
		}
		if (is_method("ACK")) {
			if (t_check_trans()) {
				t_relay();
				exit;
			}
			# The ACK of a 2xx, no Route of ours: by Request-URI.
			forward();
			exit;
		}
		t_relay();
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) {
			t_relay();
		}
		exit;
	}
	if (is_method("REGISTER")) {
		save("location");
		exit;
	}
	%(rr)s
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		exit;
	}
	t_relay();
}
"""


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def have_kamailio():
    return shutil.which("kamailio") is not None and os.path.isdir(MODDIR)


class Kamailio:
    """One kamailio process on a free loopback UDP port; record_route()
    in its script when rr. path_mode 0 stores Path whatever the phone
    supports; 2 also echoes it in the 200 to a REGISTER with Supported:
    path (and refuses one without)."""

    def __init__(self, tmp, rr=True, tag="kam", path_mode=0):
        self.port = free_udp_port()
        self.tmp = tmp
        self.logpath = os.path.join(tmp, tag + ".log")
        cfg = os.path.join(tmp, tag + ".cfg")
        with open(cfg, "w") as f:
            f.write(KAM_CFG % {"port": self.port, "moddir": MODDIR,
                               "rr": "record_route();" if rr else "",
                               "path_mode": path_mode})
        self.log = open(self.logpath, "w")
        self.p = subprocess.Popen(
            ["kamailio", "-f", cfg, "-DD", "-E", "-w", tmp, "-P",
             os.path.join(tmp, tag + ".pid"), "-m", "64", "-M", "8"],
            stdout=self.log, stderr=subprocess.STDOUT)
        # Ready once it has printed its sockets and its children forked.
        end = time.time() + 10
        while time.time() < end and self.p.poll() is None:
            with open(self.logpath) as f:
                if "Listening on" in f.read():
                    break
            time.sleep(0.1)
        time.sleep(0.8)

    def alive(self):
        return self.p.poll() is None

    def tail(self, n=3000):
        self.log.flush()
        with open(self.logpath) as f:
            return f.read()[-n:]

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def token_worker(token):
    """The worker index in a flow token (bytes 0-1, docs/sip.md)."""
    raw = base64.b32decode(token.upper())
    return (raw[0] << 8) | raw[1]
