#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Records the files mplace's topology loader and probe read from this
machine into a fixture tree: python3 record-live.py DIR.

Only those files are copied, with sysfs symlinks recreated as they are
(relative targets), so the loader follows the same paths it follows live.
proc/self/status keeps only the Name and capability lines, and
proc/self/cgroup only the cgroup2 and cpuset lines: nothing else is read.
"""
import glob
import os
import re
import sys


def replicate(out, rel):
    """Copies /rel into out/rel, recreating every symlink on the way."""
    cur = ""
    for part in rel.split("/"):
        if part == "..":
            cur = os.path.dirname(cur)
            continue
        nxt = os.path.join(cur, part) if cur else part
        live = "/" + nxt
        if os.path.islink(live):
            target = os.readlink(live)
            dst = os.path.join(out, nxt)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if not os.path.lexists(dst):
                os.symlink(target, dst)
            cur = os.path.normpath(os.path.join(os.path.dirname(nxt), target))
        else:
            cur = nxt
    src = "/" + cur
    if not os.path.isfile(src):
        return False
    dst = os.path.join(out, cur)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "wb") as f:
        f.write(data)
    return True


def write(out, rel, text):
    dst = os.path.join(out, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w") as f:
        f.write(text)


def first(out, rels):
    for rel in rels:
        if os.path.exists("/" + rel) and replicate(out, rel):
            return True
    return False


def main():
    out = sys.argv[1]
    nd = "sys/devices/system/node"
    for f in ("online", "possible", "has_memory", "has_cpu", "has_normal_memory"):
        replicate(out, "%s/%s" % (nd, f))
    replicate(out, "sys/devices/system/memory/block_size_bytes")
    # which CPUs can run: a node's cpulist may keep offline ones
    for f in ("online", "offline", "possible", "present"):
        replicate(out, "sys/devices/system/cpu/%s" % f)
    # the NVIDIA driver's word on which node is a GPU's memory
    for f in glob.glob("/proc/driver/nvidia/gpus/*/numa_status"):
        replicate(out, f[1:])
    for node in sorted(glob.glob("/%s/node[0-9]*" % nd)):
        n = node[1:]
        for f in ("cpulist", "meminfo", "distance"):
            replicate(out, "%s/%s" % (n, f))
        for f in glob.glob(node + "/access0/initiators/*_*"):
            replicate(out, f[1:])
        for h in glob.glob(node + "/hugepages/hugepages-*kB"):
            for f in ("nr_hugepages", "free_hugepages", "surplus_hugepages"):
                replicate(out, "%s/%s" % (h[1:], f))
        for m in glob.glob(node + "/memory[0-9]*"):
            replicate(out, m[1:] + "/online")
    for t in glob.glob("/sys/devices/virtual/memory_tiering/memory_tier*/nodelist"):
        replicate(out, t[1:])
    for d in glob.glob("/sys/bus/pci/devices/*"):
        replicate(out, d[1:] + "/numa_node")
    for cls in ("net", "block"):
        for d in glob.glob("/sys/class/%s/*" % cls):
            r = d[1:] + "/device/"
            first(out, [r + "numa_node", r + "device/numa_node", r + "../numa_node"])
    for rel in ("proc/sys/kernel/osrelease", "proc/sys/kernel/numa_balancing",
                "sys/kernel/mm/transparent_hugepage/enabled",
                "sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
                "sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds"):
        if os.path.exists("/" + rel):
            replicate(out, rel)
    for d in glob.glob("/sys/kernel/mm/transparent_hugepage/hugepages-*kB"):
        replicate(out, d[1:] + "/enabled")
    for f in glob.glob("/sys/kernel/mm/mempolicy/weighted_interleave/*"):
        replicate(out, f[1:])
    with open("/proc/self/status") as f:
        keep = [l for l in f if re.match(r"(Name|Cap\w+):", l)]
    write(out, "proc/self/status", "".join(keep))
    with open("/proc/self/cgroup") as f:
        cg = [l for l in f if l.startswith("0::") or re.match(r"\d+:([^:]*,)?cpuset(,[^:]*)?:", l)]
    write(out, "proc/self/cgroup", "".join(cg))
    for l in cg:
        path = l.rstrip("\n").split(":", 2)[2]
        for rel in ("sys/fs/cgroup%s/cpuset.mems.effective" % path.rstrip("/"),
                    "sys/fs/cgroup/cpuset%s/cpuset.effective_mems" % path.rstrip("/")):
            if os.path.exists("/" + rel):
                replicate(out, rel)


if __name__ == "__main__":
    main()
