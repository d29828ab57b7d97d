#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""mplace top under a real terminal: a pseudo-terminal (pty), keys sent to
it, and what it draws read back by a small VT100 screen (TERM=vt100: cursor
addressing, erasing, attributes; what ncurses uses there).

  top.py MPLACE PID SHOW_JSON [SYSFS_ROOT]

PID is a placed process, SHOW_JSON what mplace show --json said of it; top
lists it and this test's own process (--pid twice), so that it is on the
screen however many processes the machine runs.  The
screen must show the machine's nodes (topo --json's, under SYSFS_ROOT when
given) and the process with its pages per node as show counts them; h shows
the keys and any key leaves them; c lists cgroups; a smaller window is drawn
within its new size; q ends it with status 0.  Prints ok:/FAIL: lines.
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

mplace, pid, show_json = sys.argv[1], int(sys.argv[2]), sys.argv[3]
root = sys.argv[4] if len(sys.argv) > 4 else None
failed = False


def ok(msg):
    print("ok: " + msg)


def bad(msg):
    global failed
    failed = True
    print("FAIL: " + msg)


class Screen:
    """Enough of a VT100 to replay what ncurses writes for TERM=vt100."""

    def __init__(self, rows, cols):
        self.rows, self.cols = rows, cols
        self.clear()
        self.y = self.x = 0

    def clear(self):
        self.cells = [[" "] * self.cols for _ in range(self.rows)]

    def text(self):
        return ["".join(r).rstrip() for r in self.cells]

    def put(self, ch):
        if self.x >= self.cols:
            self.x = 0
            self.y = min(self.y + 1, self.rows - 1)
        self.cells[self.y][self.x] = ch
        self.x += 1

    def feed(self, data):
        s = data.decode("latin-1")
        i = 0
        while i < len(s):
            c = s[i]
            if c == "\x1b":
                m = re.match(r"\x1b\[([?0-9;]*)([A-Za-z@])", s[i:])
                if m:
                    self.csi(m.group(1), m.group(2))
                    i += len(m.group(0))
                    continue
                # ESC ( B, ESC ) 0, ESC =, ESC >, ESC 7, ESC 8, ESC M ...
                if s[i + 1:i + 2] in ("(", ")"):
                    i += 3
                else:
                    if s[i + 1:i + 2] == "M":
                        self.y = max(self.y - 1, 0)
                    i += 2
                continue
            if c == "\r":
                self.x = 0
            elif c == "\n":
                self.y = min(self.y + 1, self.rows - 1)
            elif c == "\b":
                self.x = max(self.x - 1, 0)
            elif c in "\x07\x0e\x0f":
                pass
            elif c >= " ":
                self.put(c)
            i += 1

    def csi(self, params, op):
        p = [int(v) if v else 0 for v in params.lstrip("?").split(";")] if params else []
        n = p[0] if p and p[0] else 1
        if op in "Hf":
            self.y = min((p[0] if p and p[0] else 1) - 1, self.rows - 1)
            self.x = min((p[1] if len(p) > 1 and p[1] else 1) - 1, self.cols - 1)
        elif op == "A":
            self.y = max(self.y - n, 0)
        elif op == "B":
            self.y = min(self.y + n, self.rows - 1)
        elif op == "C":
            self.x = min(self.x + n, self.cols - 1)
        elif op == "D":
            self.x = max(self.x - n, 0)
        elif op == "K":
            what = p[0] if p else 0
            rng = range(self.x, self.cols) if what == 0 else range(0, self.x + 1) if what == 1 else range(self.cols)
            for x in rng:
                self.cells[self.y][x] = " "
        elif op == "J":
            what = p[0] if p else 0
            if what == 2:
                self.clear()
            elif what == 0:
                for x in range(self.x, self.cols):
                    self.cells[self.y][x] = " "
                for y in range(self.y + 1, self.rows):
                    self.cells[y] = [" "] * self.cols
        # m (attributes), h/l (modes), r (scroll region): no effect on text


def short_size(v):
    """As mplace top writes a size in its columns."""
    units = "BKMGTP"
    d, u = float(v), 0
    while d >= 1024 and u + 1 < len(units):
        d /= 1024
        u += 1
    if u == 0:
        return "%d" % v
    return ("%.1f%s" if d < 10 else "%.0f%s") % (d, units[u])


rows, cols = 40, 160
args = [mplace, "top", "--interval", "0.5", "--pid", str(pid), "--pid", str(os.getpid())]
if root:
    args += ["--sysfs-root", root]
child, fd = pty.fork()
if child == 0:
    os.environ["TERM"] = "vt100"
    os.environ.pop("LINES", None)
    os.environ.pop("COLUMNS", None)
    os.execv(mplace, args)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
screen = Screen(rows, cols)


def pump(seconds):
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                return False
            if not data:
                return False
            screen.feed(data)
    return True


def send(keys, seconds=0.5):
    os.write(fd, keys)
    pump(seconds)


def find(lines, pattern):
    return [ln for ln in lines if re.search(pattern, ln)]


topo_args = [mplace, "topo", "--json"] + (["--sysfs-root", root] if root else [])
topo = json.loads(subprocess.run(topo_args, capture_output=True, check=True, text=True).stdout)
show = json.load(open(show_json))
want_bytes = {}
for r in show["ranges"]:
    for node, pages in r["pages"].items():
        want_bytes[int(node)] = want_bytes.get(int(node), 0) + pages * r["page_size"]

pump(1.2)
send(b"\x0c")  # ^L: the whole screen, drawn again from a blank one
lines = screen.text()
header = find(lines, r"^NODE +TIER +TOTAL +FREE +AVAIL +LISTED")
node_rows = {int(ln.split()[0]) for ln in lines if re.match(r"^\d+ +(\d+|-) +\S+ +\S+ +\S+ +\S+ +\S+ +\S+$", ln)}
want_nodes = {n["id"] for n in topo["nodes"]}
if header and want_nodes <= node_rows:
    ok("the screen shows a row for each of nodes %s" % sorted(want_nodes))
else:
    bad("nodes on the screen %s, topo has %s:\n%s" % (sorted(node_rows), sorted(want_nodes), "\n".join(lines[:12])))

cols_line = find(lines, r"^ +PID COMM")
row = find(lines, r"^ *%d +\S" % pid)
if not cols_line or not row:
    bad("no list header or no row for pid %d:\n%s" % (pid, "\n".join(lines)))
else:
    names = cols_line[0].split()
    values = row[0].split()
    got = {}
    for i, name in enumerate(names):
        m = re.match(r"N(\d+)$", name)
        if m:
            got[int(m.group(1))] = values[i]
    want = {n: short_size(want_bytes[n]) if want_bytes.get(n) else "-" for n in got}
    if got == want and any(v != "-" for v in got.values()):
        ok("pid %d is listed with its memory per node as show counts it: %s" % (pid, got))
    else:
        bad("pid %d per node on the screen %s, show says %s (%s)" % (pid, got, want, row[0]))

send(b"h")
if find(screen.text(), r"mplace top: keys") and find(screen.text(), r"^  q +quit"):
    ok("h shows the keys")
else:
    bad("h did not show the keys:\n" + "\n".join(screen.text()[:20]))
send(b"x")
if find(screen.text(), r"^NODE +TIER") and not find(screen.text(), r"mplace top: keys"):
    ok("a key leaves the help")
else:
    bad("the help stayed")
send(b"c")
send(b"\x0c")
if find(screen.text(), r"^CGROUP +PROCS") and find(screen.text(), r"^cgroups: \d+"):
    ok("c lists cgroups")
else:
    bad("c did not list cgroups:\n" + "\n".join(screen.text()[:14]))
send(b"c")
send(b"v")
if find(screen.text(), r"filter: pages outside their policy"):
    ok("v filters on pages outside their policy")
else:
    bad("v did not filter")
send(b"v")

# a smaller window: drawn again within it
rows, cols = 20, 90
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
os.kill(child, signal.SIGWINCH)
screen = Screen(rows, cols)
pump(0.5)
send(b"\x0c")
small = screen.text()
if find(small, r"^mplace top - ") and find(small, r"^NODE +TIER"):
    ok("resized to %dx%d: drawn again within it" % (cols, rows))
else:
    bad("after resizing:\n" + "\n".join(small))

send(b"q", 0.2)
end = time.time() + 3
status = None
while time.time() < end:
    p, st = os.waitpid(child, os.WNOHANG)
    if p == child:
        status = st
        break
    pump(0.1)
if status is None:
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    bad("q did not end mplace top")
elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
    ok("q ends it, status 0")
else:
    bad("mplace top ended with status %r" % status)
sys.exit(1 if failed else 0)
