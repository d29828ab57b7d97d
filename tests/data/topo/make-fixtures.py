#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the synthetic sysfs/procfs fixture trees under tests/data/topo/.

Each machine is described below in the kernel's own formats (cpulist, the
"Node N MemTotal:  X kB" meminfo lines, distance rows, hex block_size_bytes,
memory_tierN/nodelist, HMAT access0 attributes, cpu/online, PCI vendor and
class, and the NVIDIA driver's numa_status).  Run it from this directory
after changing a description, then regenerate and re-read expected.json by
hand: expected.json is the oracle for 'mplace topo --json'.

The recorded fixture (live-1n) is not generated here.
"""
import os
import shutil
import sys

GiB = 1 << 30


def w(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def symlink(root, rel, target):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


def nodelist(ids):
    """The kernel's list format: 0-3,7."""
    ids = sorted(ids)
    out, i = [], 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else "%d-%d" % (ids[i], ids[j]))
        i = j + 1
    return ",".join(out)


def meminfo(nid, total_kb, free_kb):
    # The first lines of drivers/base/node.c:node_read_meminfo, same padding.
    used = total_kb - free_kb
    lines = [("MemTotal", total_kb), ("MemFree", free_kb), ("MemUsed", used),
             ("SwapCached", 0), ("Active", used // 3), ("Inactive", used // 4),
             ("Dirty", 0), ("Writeback", 0), ("FilePages", used // 3),
             ("AnonPages", used // 4), ("Shmem", 0), ("KernelStack", 0),
             ("PageTables", 0), ("HugePages_Total", 0), ("HugePages_Free", 0)]
    out = ""
    for k, v in lines:
        if k.startswith("HugePages"):
            out += "Node %d %s: %5d\n" % (nid, k, v)
        else:
            out += "Node %d %-15s %8d kB\n" % (nid, k + ":", v)
    return out


def machine(root, m):
    if os.path.exists(root):
        for e in os.listdir(root):
            if e != "expected.json":
                p = os.path.join(root, e)
                shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
    nodes = m["nodes"]
    ids = sorted(nodes)
    nd = "sys/devices/system/node"
    w(root, nd + "/possible", nodelist(range(max(ids) + 1)) + "\n")
    w(root, nd + "/online", nodelist(ids) + "\n")
    w(root, nd + "/has_memory", nodelist([i for i in ids if nodes[i]["mem_gib"]]) + "\n")
    # memory the kernel onlined as ZONE_MOVABLE only (a GPU's) is not "normal"
    w(root, nd + "/has_normal_memory",
      nodelist([i for i in ids if nodes[i]["mem_gib"] and not nodes[i].get("movable")]) + "\n")
    # N_CPU is set when a CPU of the node comes up and cleared only when the
    # node's mask is empty: where offline CPUs stay in the mask, it stays set
    w(root, nd + "/has_cpu", nodelist(m.get("has_cpu", [i for i in ids if nodes[i]["cpus"]])) + "\n")
    if "cpu_online" in m:
        # Documentation/ABI/testing/sysfs-devices-system-cpu: possible,
        # present, online, offline (possible CPUs that are not online)
        possible = sorted(c for i in ids for c in nodes[i]["cpus"])
        offline = sorted(set(possible) - set(m["cpu_online"]))
        cd = "sys/devices/system/cpu"
        w(root, cd + "/possible", nodelist(possible) + "\n")
        w(root, cd + "/present", nodelist(possible) + "\n")
        w(root, cd + "/online", nodelist(m["cpu_online"]) + "\n")
        w(root, cd + "/offline", nodelist(offline) + "\n")
    bs = m.get("block_size", 128 << 20)
    w(root, "sys/devices/system/memory/block_size_bytes", "%x\n" % bs)
    for i in ids:
        n = nodes[i]
        d = "%s/node%d" % (nd, i)
        w(root, d + "/cpulist", nodelist(n["cpus"]) + "\n")
        total = n["mem_gib"] * GiB // 1024
        # firmware and the kernel keep a little of each node
        total_kb = total - (total // 64 if total else 0)
        free_kb = total_kb * n.get("free_pct", 90) // 100
        w(root, d + "/meminfo", meminfo(i, total_kb, free_kb))
        w(root, d + "/distance", " ".join(str(x) for x in m["distance"][ids.index(i)]) + "\n")
        for size_kb, nr, free in n.get("huge", []):
            h = "%s/hugepages/hugepages-%dkB" % (d, size_kb)
            w(root, h + "/nr_hugepages", "%d\n" % nr)
            w(root, h + "/free_hugepages", "%d\n" % free)
            w(root, h + "/surplus_hugepages", "0\n")
        if "hmat" in n:
            rb, wb, rl, wl = n["hmat"]
            a = d + "/access0/initiators"
            w(root, a + "/read_bandwidth", "%d\n" % rb)
            w(root, a + "/write_bandwidth", "%d\n" % wb)
            w(root, a + "/read_latency", "%d\n" % rl)
            w(root, a + "/write_latency", "%d\n" % wl)
        for blk in n.get("blocks", []):
            symlink(root, "%s/memory%d" % (d, blk), "../../memory/memory%d" % blk)
            w(root, "sys/devices/system/memory/memory%d/online" % blk, "1\n")
            w(root, "sys/devices/system/memory/memory%d/phys_index" % blk, "%08x\n" % blk)
    for tid, members in m.get("tiers", {}).items():
        w(root, "sys/devices/virtual/memory_tiering/memory_tier%d/nodelist" % tid, nodelist(members) + "\n")
    for bdf, node in m.get("pci", []):
        w(root, "sys/bus/pci/devices/%s/numa_node" % bdf, "%d\n" % node)
    for bdf, node, mem_node, device, mem_hex in m.get("gpus", []):
        # an NVIDIA 3D controller (class 0302) near its socket's node, and
        # the driver's report of the node its memory was onlined as
        p = "sys/bus/pci/devices/%s" % bdf
        w(root, p + "/numa_node", "%d\n" % node)
        w(root, p + "/vendor", "0x10de\n")
        w(root, p + "/device", "0x%04x\n" % device)
        w(root, p + "/class", "0x030200\n")
        w(root, "proc/driver/nvidia/gpus/%s/numa_status" % bdf,
          "Node:      %d\nStatus:    online\nAddress:   %x\nSize:      %x\n"
          % (mem_node, mem_hex, nodes[mem_node]["mem_gib"] * GiB))
    for name, node in m.get("net", []):
        w(root, "sys/class/net/%s/device/numa_node" % name, "%d\n" % node)
    for name in m.get("net_virtual", []):
        w(root, "sys/class/net/%s/operstate" % name, "unknown\n")
    for name, node in m.get("block", []):
        if name.startswith("nvme"):
            # the namespace's device is the controller, whose device is PCI
            w(root, "sys/class/block/%s/device/state" % name, "live\n")
            w(root, "sys/class/block/%s/device/device/numa_node" % name, "%d\n" % node)
        else:
            w(root, "sys/class/block/%s/device/numa_node" % name, "%d\n" % node)
    for name in m.get("block_virtual", []):
        w(root, "sys/class/block/%s/size" % name, "0\n")
    f = m.get("features", {})
    if "release" in f:
        w(root, "proc/sys/kernel/osrelease", f["release"] + "\n")
    if "numa_balancing" in f:
        w(root, "proc/sys/kernel/numa_balancing", "%d\n" % f["numa_balancing"])
    if "capeff" in f:
        w(root, "proc/self/status",
          "Name:\tmplace\nCapInh:\t0000000000000000\nCapPrm:\t%s\nCapEff:\t%s\n"
          "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n" % (f["capeff"], f["capeff"]))
    if "thp_enabled" in f:
        w(root, "sys/kernel/mm/transparent_hugepage/enabled", f["thp_enabled"] + "\n")
        w(root, "sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "2097152\n")
        for kb in f.get("thp_kb", []):
            w(root, "sys/kernel/mm/transparent_hugepage/hugepages-%dkB/enabled" % kb,
              "always inherit madvise [never]\n")
    if f.get("weighted_interleave"):
        for i in ids:
            if nodes[i]["mem_gib"]:
                w(root, "sys/kernel/mm/mempolicy/weighted_interleave/node%d" % i, "1\n")
        if f.get("wi_auto"):
            w(root, "sys/kernel/mm/mempolicy/weighted_interleave/auto", "true\n")
    if f.get("damon"):
        w(root, "sys/kernel/mm/damon/admin/kdamonds/nr_kdamonds", "0\n")
    cg = m.get("cgroup")
    if cg:
        w(root, "proc/self/cgroup", cg["self"])
        for rel, mems in cg["files"].items():
            w(root, rel, mems + "\n")


def blocks(start, count, skip=()):
    return [b for b in range(start, start + count) if b not in skip]


def rng(a, b):
    return list(range(a, b + 1))


MACHINES = {
    # A single-socket workstation on an LTS kernel without memory tiers.
    "1n": {
        "nodes": {0: {"cpus": rng(0, 7), "mem_gib": 16, "free_pct": 71,
                      "huge": [(2048, 0, 0), (1048576, 0, 0)],
                      "blocks": blocks(0, 136, skip=set(range(24, 32)))}},
        "distance": [[10]],
        "pci": [("0000:00:00.0", -1), ("0000:00:1f.3", -1), ("0000:01:00.0", -1)],
        "net": [("enp1s0", -1)],
        "net_virtual": ["lo"],
        "block": [("nvme0n1", -1)],
        "block_virtual": ["loop0"],
        "features": {"release": "5.15.0-91-generic", "numa_balancing": 0,
                     "capeff": "0000000000000000", "thp_enabled": "always [madvise] never"},
        "cgroup": {"self": "0::/user.slice/user-1000.slice/session-2.scope\n",
                   "files": {"sys/fs/cgroup/cpuset.mems.effective": "0"}},
    },
    # Two sockets with SMT, the common server.
    "2s": {
        "nodes": {0: {"cpus": rng(0, 15) + rng(32, 47), "mem_gib": 128, "free_pct": 83,
                      "huge": [(2048, 512, 500), (1048576, 4, 4)]},
                  1: {"cpus": rng(16, 31) + rng(48, 63), "mem_gib": 128, "free_pct": 88,
                      "huge": [(2048, 512, 512), (1048576, 4, 2)]}},
        "distance": [[10, 21], [21, 10]],
        "tiers": {4: [0, 1]},
        "pci": [("0000:00:00.0", 0), ("0000:3b:00.0", 0), ("0000:af:00.0", 1)],
        "net": [("eno1", 0), ("ens5f0", 1)],
        "block": [("sda", 0)],
        "features": {"release": "6.1.0-18-amd64", "numa_balancing": 1,
                     "capeff": "000001ffffffffff", "thp_enabled": "[always] madvise never",
                     "damon": True},
        "cgroup": {"self": "12:pids:/docker/4f1c\n3:cpuset:/docker/4f1c\n0::/\n",
                   "files": {"sys/fs/cgroup/cpuset/cpuset.effective_mems": "0-1",
                             "sys/fs/cgroup/cpuset/docker/4f1c/cpuset.effective_mems": "1"}},
    },
    # Two sockets plus two CPU-less CXL memory expanders (Type 3), one per
    # socket, with HMAT and memory tiers as a 6.16 kernel shows them.
    "2s-cxl": {
        "block_size": 2 * GiB,
        "nodes": {0: {"cpus": rng(0, 23) + rng(48, 71), "mem_gib": 64, "free_pct": 80,
                      "hmat": (100000, 100000, 80, 80),
                      "huge": [(2048, 1024, 1000), (1048576, 8, 8)],
                      "blocks": [0] + rng(2, 32)},
                  1: {"cpus": rng(24, 47) + rng(72, 95), "mem_gib": 64, "free_pct": 85,
                      "hmat": (100000, 100000, 80, 80),
                      "huge": [(2048, 1024, 1024), (1048576, 8, 8)],
                      "blocks": rng(33, 64)},
                  2: {"cpus": [], "mem_gib": 32, "free_pct": 99,
                      "hmat": (25000, 22000, 250, 260),
                      "huge": [(2048, 0, 0), (1048576, 0, 0)],
                      "blocks": rng(128, 143)},
                  3: {"cpus": [], "mem_gib": 32, "free_pct": 99,
                      "hmat": (25000, 22000, 250, 260),
                      "huge": [(2048, 0, 0), (1048576, 0, 0)],
                      "blocks": rng(144, 159)}},
        "distance": [[10, 21, 14, 24], [21, 10, 24, 14], [14, 24, 10, 26], [24, 14, 26, 10]],
        "tiers": {4: [0, 1], 22: [2, 3]},
        "pci": [("0000:00:00.0", 0), ("0000:17:00.0", 0), ("0000:98:00.0", 1), ("0000:99:00.0", 1)],
        "net": [("ens801f0", 1)],
        "net_virtual": ["lo", "docker0"],
        "block": [("nvme0n1", 1)],
        "block_virtual": ["loop0"],
        "features": {"release": "6.16.3-amd64", "numa_balancing": 2,
                     "capeff": "000001ffffffffff", "thp_enabled": "always [madvise] never",
                     "thp_kb": [64, 128, 2048], "weighted_interleave": True, "wi_auto": True,
                     "damon": True},
        "cgroup": {"self": "0::/system.slice/db.service\n",
                   "files": {"sys/fs/cgroup/cpuset.mems.effective": "0-3",
                             "sys/fs/cgroup/system.slice/cpuset.mems.effective": "0-3",
                             "sys/fs/cgroup/system.slice/db.service/cpuset.mems.effective": "0-1"}},
    },
    # Xeon Max in flat mode: DDR5 with the cores, HBM as a CPU-less node with
    # more bandwidth, a little more latency and less capacity.  Boot memory
    # all lands in the default tier (memory_tier4); only HMAT tells them apart.
    "hbm": {
        "nodes": {0: {"cpus": rng(0, 55) + rng(56, 111), "mem_gib": 128, "free_pct": 90,
                      "hmat": (260000, 230000, 115, 115), "huge": [(2048, 0, 0), (1048576, 0, 0)]},
                  1: {"cpus": [], "mem_gib": 64, "free_pct": 98,
                      "hmat": (680000, 650000, 135, 135), "huge": [(2048, 0, 0), (1048576, 0, 0)]}},
        "distance": [[10, 13], [13, 10]],
        "tiers": {4: [0, 1]},
        "pci": [("0000:00:00.0", 0)],
        "features": {"release": "6.8.0-45-generic", "numa_balancing": 1,
                     "capeff": "0000000000800000", "thp_enabled": "always [madvise] never",
                     "weighted_interleave": True},
    },
    # A node with CPUs and no memory (a populated socket with empty DIMM
    # slots), on a kernel before memory tiers.
    "memless": {
        "nodes": {0: {"cpus": rng(0, 7) + rng(16, 23), "mem_gib": 32, "free_pct": 75,
                      "huge": [(2048, 16, 16)]},
                  1: {"cpus": rng(8, 15) + rng(24, 31), "mem_gib": 0, "huge": [(2048, 0, 0)]}},
        "distance": [[10, 20], [20, 10]],
        "pci": [("0000:00:00.0", 0), ("0000:80:00.0", 1)],
        "features": {"release": "5.10.0-28-amd64", "numa_balancing": 1,
                     "thp_enabled": "[always] madvise never"},
    },
    # AMD EPYC, two sockets in NPS4: eight nodes, 11/12 inside a socket and
    # 32 across, cgroup v1 cpuset nested two deep.
    "8n": {
        "nodes": {i: {"cpus": rng(8 * i, 8 * i + 7) + rng(64 + 8 * i, 64 + 8 * i + 7), "mem_gib": 64,
                      "free_pct": 60 + 4 * i, "huge": [(2048, 128, 128 - i), (1048576, 0, 0)]}
                  for i in range(8)},
        "distance": [[10 if i == j else (32 if i // 4 != j // 4 else (11 if i // 2 == j // 2 else 12))
                      for j in range(8)] for i in range(8)],
        "tiers": {4: list(range(8))},
        "pci": [("0000:00:00.0", 0), ("0000:20:00.0", 1), ("0000:40:00.0", 2), ("0000:60:00.0", 3),
                ("0000:80:00.0", 4), ("0000:a0:00.0", 5), ("0000:c0:00.0", 6), ("0000:e0:00.0", 7),
                ("0000:41:00.0", 2)],
        "net": [("enp65s0f0", 2), ("enp65s0f1", 2)],
        "block": [("nvme0n1", 5), ("nvme1n1", 6)],
        "features": {"release": "6.11.0-rc5", "numa_balancing": 0,
                     "capeff": "0000000000000000", "thp_enabled": "always madvise [never]",
                     "thp_kb": [2048], "weighted_interleave": True, "damon": True},
        "cgroup": {"self": "11:cpuset:/slurm/uid_1000/job_42\n10:memory:/slurm/uid_1000/job_42\n",
                   "files": {"sys/fs/cgroup/cpuset/cpuset.effective_mems": "0-7",
                             "sys/fs/cgroup/cpuset/slurm/cpuset.effective_mems": "0-7",
                             "sys/fs/cgroup/cpuset/slurm/uid_1000/job_42/cpuset.effective_mems": "4-5"}},
    },
    # Four nodes of eight CPUs after CPU hotplug, on a kernel before memory
    # tiers: CPU 4 of node 0 and 30-31 of node 3 were taken offline, and
    # every CPU of node 2.  The architecture keeps offline CPUs in the
    # nodes' masks (x86 does not; the machines of issue #9 did), so
    # node2/cpulist still says 16-23 and has_cpu still lists node 2.
    "offline-cpus": {
        "nodes": {i: {"cpus": rng(8 * i, 8 * i + 7), "mem_gib": 64, "free_pct": 80 + i,
                      "huge": [(2048, 0, 0)]} for i in range(4)},
        "distance": [[10, 12, 20, 20], [12, 10, 20, 20], [20, 20, 10, 12], [20, 20, 12, 10]],
        "cpu_online": rng(0, 3) + rng(5, 15) + rng(24, 29),
        "has_cpu": [0, 1, 2, 3],
        "pci": [("0000:00:00.0", 0), ("0002:00:00.0", 2)],
        "features": {"release": "5.14.0-427.13.1.el9_4.ppc64le", "numa_balancing": 1,
                     "thp_enabled": "always [madvise] never"},
        "cgroup": {"self": "0::/user.slice\n",
                   "files": {"sys/fs/cgroup/cpuset.mems.effective": "0-3"}},
    },
    # A POWER9 server with six NVLink GPUs (V100, 16 GiB): sockets on nodes
    # 0 and 8, and each GPU's memory onlined by the NVIDIA driver as a
    # CPU-less, movable-only node 250-255, far from everything.  Kernel 4.18
    # has no memory tiers, so without knowing better they would be derived
    # as the slow tier.  Which GPU owns which node is the driver's to say.
    "power9-gpu": {
        "nodes": dict([(0, {"cpus": rng(0, 87), "mem_gib": 256, "free_pct": 70}),
                       (8, {"cpus": rng(88, 175), "mem_gib": 256, "free_pct": 75})] +
                      [(250 + k, {"cpus": [], "mem_gib": 16, "free_pct": 99, "movable": True})
                       for k in range(6)]),
        "distance": [[10 if a == b else (40 if a < 250 and b < 250 else 80)
                      for b in [0, 8] + rng(250, 255)] for a in [0, 8] + rng(250, 255)],
        "cpu_online": rng(0, 175),
        "pci": [("0000:01:00.0", 0), ("0030:01:00.0", 8)],
        "gpus": [("0004:04:00.0", 0, 250, 0x1db1, 0x200000000000),
                 ("0004:05:00.0", 0, 251, 0x1db1, 0x202000000000),
                 ("0004:06:00.0", 0, 252, 0x1db1, 0x204000000000),
                 ("0035:03:00.0", 8, 253, 0x1db1, 0x206000000000),
                 ("0035:04:00.0", 8, 254, 0x1db1, 0x208000000000),
                 ("0035:05:00.0", 8, 255, 0x1db1, 0x20a000000000)],
        "features": {"release": "4.18.0-513.5.1.el8_9.ppc64le", "numa_balancing": 1,
                     "thp_enabled": "[always] madvise never"},
        "cgroup": {"self": "0::/\n7:cpuset:/\n",
                   "files": {"sys/fs/cgroup/cpuset/cpuset.effective_mems": "0,8,250-255"}},
    },
    # NVIDIA Grace Hopper: one Grace CPU node, the Hopper GPU's HBM onlined
    # by the driver as CPU-less node 1, and nodes 2-8 that the firmware
    # keeps for the GPU's partitions, online but empty.  The driver's memory
    # joins the default tier next to the CPU's, and HMAT (values invented
    # here) gives the HBM, as seen from its best initiator, the GPU, far more
    # bandwidth than the CPU's memory: tier:fast and best:bandwidth would
    # both pick it.
    "grace-hopper": {
        "nodes": dict([(0, {"cpus": rng(0, 71), "mem_gib": 480, "free_pct": 90,
                            "hmat": (450000, 450000, 110, 110),
                            "huge": [(2048, 0, 0), (524288, 0, 0)]}),
                       (1, {"cpus": [], "mem_gib": 96, "free_pct": 99, "movable": True,
                            "hmat": (3600000, 3600000, 700, 700),
                            "huge": [(2048, 0, 0), (524288, 0, 0)]})] +
                      [(k, {"cpus": [], "mem_gib": 0}) for k in rng(2, 8)]),
        "distance": [[10 if a == b else 80 for b in range(9)] for a in range(9)],
        "tiers": {4: [0, 1]},
        "cpu_online": rng(0, 71),
        "pci": [("0008:01:00.0", 0)],
        "gpus": [("0009:01:00.0", 0, 1, 0x2342, 0x400000000000)],
        "features": {"release": "6.8.0-1015-nvidia-64k", "numa_balancing": 1,
                     "thp_enabled": "always [madvise] never", "weighted_interleave": True},
        "cgroup": {"self": "0::/slurm/job_7\n",
                   "files": {"sys/fs/cgroup/cpuset.mems.effective": "0-1",
                             "sys/fs/cgroup/slurm/job_7/cpuset.mems.effective": "0-1"}},
    },
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    names = sys.argv[1:] or sorted(MACHINES)
    for name in names:
        machine(os.path.join(here, name), MACHINES[name])


if __name__ == "__main__":
    main()
