#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks for mplace plot's pictures (plot.sh, tests/vm/test-see.sh).

  plotcheck.py machine SVG TOPO_JSON     the nodes, tiers, memory, HMAT
                                         figures, devices and distances drawn
                                         equal mplace topo --json's
  plotcheck.py process SVG SHOW_JSON     every range with present pages in
                                         show's JSON is drawn with the same
                                         kind, policies, pages per node and
                                         verdict, and no other range is drawn
  plotcheck.py record SVG MIN_SAMPLES    the samples: times increase, each
                                         sample's per-node pages add up to its
                                         per-kind pages
  plotcheck.py size SVG                  prints "WIDTH,HEIGHT" for the browser
  plotcheck.py png PNG                   the screenshot is not blank: many
                                         colours, and not all background

Each prints "ok: ..." or "FAIL: ..." lines and exits 1 on a failure.
"""
import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

SVG = "{http://www.w3.org/2000/svg}"
failed = False


def ok(msg):
    print("ok: " + msg)


def bad(msg):
    global failed
    failed = True
    print("FAIL: " + msg)


def parse_svg(path):
    """The parsed picture; a picture that is not XML fails here."""
    root = ET.parse(path).getroot()
    if root.tag != SVG + "svg":
        raise ValueError("root element is %s, not svg" % root.tag)
    return root


def elements(root, cls):
    return [e for e in root.iter() if cls in e.get("class", "").split()]


def num_or_none(s):
    return int(s) if s not in (None, "") else None


def pages_attr(s):
    """'0:12 1:3' -> {'0': 12, '1': 3}"""
    out = {}
    for item in (s or "").split():
        k, v = item.split(":")
        out[k] = int(v)
    return out


def check_machine(svg, topo):
    root = parse_svg(svg)
    t = json.load(open(topo))
    drawn = {int(e.get("data-node")): e for e in elements(root, "node")}
    want = {n["id"]: n for n in t["nodes"]}
    if set(drawn) != set(want):
        bad("nodes drawn %s, topo has %s" % (sorted(drawn), sorted(want)))
        return
    ok("the picture draws nodes %s, as topo lists" % sorted(drawn))
    for nid, n in want.items():
        e = drawn[nid]
        cpus = []
        for part in filter(None, e.get("data-cpus").split(",")):
            a, _, b = part.partition("-")
            cpus += range(int(a), int(b or a) + 1)
        devs = sorted(e.get("data-devices").split())
        want_devs = sorted("%s:%s" % (d["type"], d["name"]) for d in t["devices"] if d["node"] == nid)
        got = {
            "cpus": cpus,
            "tier": num_or_none(e.get("data-tier")),
            "memory_total": num_or_none(e.get("data-memory-total")),
            "memory_free": num_or_none(e.get("data-memory-free")),
            "read_bandwidth": num_or_none(e.get("data-read-bandwidth")),
            "read_latency": num_or_none(e.get("data-read-latency")),
            "write_bandwidth": num_or_none(e.get("data-write-bandwidth")),
            "write_latency": num_or_none(e.get("data-write-latency")),
        }
        # topo says null for unknown memory; the picture leaves it empty,
        # and a node without memory has 0 in topo and nothing drawn
        exp = {k: n[k] or None for k in got}
        exp["cpus"] = n["cpus"]
        exp["tier"] = n["tier"]
        # a live machine's free memory moves between topo's reading and
        # plot's: within 2% of the node's memory is the same reading
        if (got["memory_free"] is not None and exp["memory_free"] is not None and exp["memory_total"]
                and abs(got["memory_free"] - exp["memory_free"]) <= exp["memory_total"] // 50):
            got["memory_free"] = exp["memory_free"]
        if got != exp or devs != want_devs:
            bad("node %d drawn as %s %s, topo says %s %s" % (nid, got, devs, exp, want_devs))
        else:
            ok("node %d: CPUs, tier %s, memory, bandwidth, latency and %d devices as topo says"
               % (nid, n["tier"], len(devs)))
    ids = [n["id"] for n in t["nodes"]]
    cells = {(int(e.get("data-from")), int(e.get("data-to"))): int(e.get("data-distance"))
             for e in elements(root, "distance")}
    exp = {(a, b): t["nodes"][i]["distances"][j] or 0 for i, a in enumerate(ids) for j, b in enumerate(ids)}
    if cells != exp:
        bad("distances drawn %s, topo says %s" % (cells, exp))
    else:
        ok("all %d distances as topo says" % len(cells))
    tiers = {int(e.get("data-rank")) for e in elements(root, "tier")}
    want_tiers = {tr["rank"] for tr in t["tiers"]} | ({-1} if any(n["tier"] is None for n in t["nodes"]) else set())
    if tiers != want_tiers:
        bad("tier bands %s, topo has %s" % (sorted(tiers), sorted(want_tiers)))
    else:
        ok("one band per tier: %s" % sorted(tiers))


def check_process(svg, show):
    root = parse_svg(svg)
    s = json.load(open(show))
    drawn = {e.get("data-start"): e for e in elements(root, "range")}
    proc = elements(root, "process")
    if len(proc) != 1 or int(proc[0].get("data-pid")) != s["pid"]:
        bad("the picture is not of pid %d" % s["pid"])
        return
    want = [r for r in s["ranges"] if r["present"] or not r["matches"]]
    if sorted(drawn) != sorted(r["start"] for r in want):
        bad("ranges drawn %s, show has %s with pages" % (sorted(drawn), sorted(r["start"] for r in want)))
        return
    ok("the %d ranges with pages that show lists are drawn, and no other" % len(want))
    n_bad = 0
    for r in want:
        e = drawn[r["start"]]
        got = (e.get("data-end"), e.get("data-kind"), e.get("data-kernel-policy") or None,
               e.get("data-requested") or None, pages_attr(e.get("data-pages")), int(e.get("data-present")),
               e.get("data-matches") == "true")
        exp = (r["end"], r["kind"], r["kernel_policy"], r["requested"], {k: v for k, v in r["pages"].items()},
               r["present"], r["matches"])
        if got != exp:
            n_bad += 1
            bad("range %s drawn as %s, show says %s" % (r["start"], got, exp))
    if not n_bad:
        ok("each range's kind, policies, pages per node and verdict as show says")
    marks = {e.get("data-start") for e in elements(root, "violation")}
    want_marks = {v["start"] for v in s["violations"]}
    if marks != want_marks:
        bad("violations marked %s, show lists %s" % (sorted(marks), sorted(want_marks)))
    else:
        ok("%d violation(s) marked, as show lists" % len(marks))


def check_record(svg, min_samples):
    root = parse_svg(svg)
    samples = elements(root, "sample")
    if len(samples) < int(min_samples):
        bad("%d samples drawn, want at least %s" % (len(samples), min_samples))
        return
    times = [float(e.get("data-t")) for e in samples]
    if times != sorted(times) or len(set(times)) != len(times):
        bad("sample times do not increase: %s" % times)
    else:
        ok("%d samples, times increasing from %.2f to %.2f s" % (len(samples), times[0], times[-1]))
    for e in samples:
        by_node = sum(pages_attr(e.get("data-pages")).values())
        by_kind = sum(pages_attr(e.get("data-kinds")).values())
        if by_node != by_kind or by_node != int(e.get("data-present")):
            bad("sample at %s s: %d pages by node, %d by kind, present %s"
                % (e.get("data-t"), by_node, by_kind, e.get("data-present")))
            return
    ok("in every sample the pages per node and per kind add up to the same")


def png_pixels(path):
    """Decode a PNG (8-bit RGB or RGBA, as chromium writes) with zlib alone."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if depth != 8 or ctype not in (2, 6):
        raise ValueError("PNG depth %d colour type %d not handled" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def check_png(path):
    w, h, bpp, rows = png_pixels(path)
    colours = {}
    for row in rows[::2]:
        for x in range(0, len(row), bpp * 2):
            px = row[x:x + 3]
            colours[px] = colours.get(px, 0) + 1
    total = sum(colours.values())
    bg = max(colours.values())
    if len(colours) < 8 or bg > 0.97 * total:
        bad("%s (%dx%d) looks blank: %d colours, the commonest %.1f%% of pixels"
            % (path, w, h, len(colours), 100.0 * bg / total))
    else:
        ok("%s (%dx%d) is drawn: %d colours, the background %.1f%% of pixels"
           % (path.rsplit("/", 1)[-1], w, h, len(colours), 100.0 * bg / total))


def main():
    what = sys.argv[1]
    try:
        if what == "machine":
            check_machine(sys.argv[2], sys.argv[3])
        elif what == "process":
            check_process(sys.argv[2], sys.argv[3])
        elif what == "record":
            check_record(sys.argv[2], sys.argv[3])
        elif what == "size":
            r = parse_svg(sys.argv[2])
            print("%d,%d" % (float(r.get("width")), float(r.get("height"))))
        elif what == "png":
            check_png(sys.argv[2])
        else:
            bad("unknown check %s" % what)
    except (ValueError, ET.ParseError, OSError, KeyError, TypeError) as e:
        bad("%s %s: %s" % (what, " ".join(sys.argv[2:]), e))
    sys.exit(1 if failed else 0)


main()
