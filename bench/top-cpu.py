#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What mplace top costs with many processes (doc/top.md, "Cost").

  bench/top-cpu.py MPLACE [N ...]

For each N (default 1000 2000): N idle processes (sleep) are started, then
mplace top runs in a pseudo-terminal, refreshing every second, and its CPU
time (utime + stime from /proc/PID/stat) is taken over 10 s after a 3 s
start, as a percentage of one CPU; procps top, the baseline, is run the same
way with the same processes (-d 1).  Prints one row per N: both figures and
their ratio, and mplace top's first screen (every map read once).
"""
import os
import pty
import select
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15


def measure(argv, warm=3.0, span=10.0):
    """CPU % of one CPU of argv in a pty over span seconds after warm."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.execvp(argv[0], argv)
    import fcntl
    import struct
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))

    def drain(seconds):
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    os.read(fd, 1 << 16)
                except OSError:
                    return

    t0 = time.time()
    first = None
    drain(warm)
    first = cpu_ticks(pid)
    c0, w0 = first, time.time()
    drain(span)
    c1, w1 = cpu_ticks(pid), time.time()
    os.write(fd, b"q")
    drain(0.5)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    return 100.0 * (c1 - c0) / TICK / (w1 - w0), first / TICK, w0 - t0


def main():
    mplace = sys.argv[1]
    counts = [int(a) for a in sys.argv[2:]] or [1000, 2000]
    print("%7s %14s %14s %8s %22s" % ("IDLE", "MPLACE TOP %", "PROCPS TOP %", "RATIO", "MPLACE FIRST 3 S (CPU)"))
    for n in counts:
        sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(n)]
        time.sleep(1)
        try:
            ours, first, warm = measure([mplace, "top", "--interval", "1"])
            base, _, _ = measure(["top", "-d", "1"])
        finally:
            for p in sleepers:
                p.kill()
            for p in sleepers:
                p.wait()
        print("%7d %14.2f %14.2f %8.2f %17.2f s" % (n, ours, base, ours / base if base else float("nan"), first))


main()
