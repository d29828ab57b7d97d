#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Section 3 man pages against the header and the library's exports.

Every function declared in include/mplace.h and every function libmplace.so
exports has doc/man/NAME.3, a page or a '.so man3/PAGE.3' link to one that
exists; each page's SYNOPSIS declares exactly the header's prototypes of the
functions it documents; every page and link is installed by doc/meson.build.

Usage: man3.py SOURCE_DIR LIBMPLACE_SO
"""
import os
import re
import shlex
import subprocess
import sys

src, lib = sys.argv[1], sys.argv[2]
man = os.path.join(src, 'doc', 'man')
fails = []


def bad(msg):
    fails.append(msg)
    print('FAIL: ' + msg)


def norm(decl):
    """One spelling of a declaration: single spaces, none around ( ) , or
    after *."""
    decl = re.sub(r'\s+', ' ', decl).strip()
    decl = re.sub(r'\s*([(),])\s*', r'\1', decl)
    decl = re.sub(r'\*\s+', '*', decl)
    return decl.replace(',', ', ')


DECL = re.compile(r'([^;{}]*?\b(mplace_\w+)\s*\([^;{}]*\))\s*;')


def decls(text):
    return {m.group(2): norm(m.group(1)) for m in DECL.finditer(text)}


# ---- the header's prototypes
with open(os.path.join(src, 'include', 'mplace.h')) as f:
    header = f.read()
header = re.sub(r'/\*.*?\*/', ' ', header, flags=re.S)
header = re.sub(r'^\s*#.*$', ' ', header, flags=re.M)
header = header.replace('MPLACE_PUBLIC', ' ')
proto = decls(header)
if len(proto) < 10:
    bad(f'found only {len(proto)} prototypes in mplace.h')

# ---- what the library exports (the version script's result)
out = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True, check=True).stdout
exported = {l.split()[-1].split('@')[0] for l in out.splitlines() if l.split()[-2:-1] in (['T'], ['W'], ['i'])}
exported = {s for s in exported if s.startswith('mplace_')}
for s in sorted(exported - set(proto)):
    bad(f'libmplace.so exports {s}, which mplace.h does not declare')
for s in sorted(set(proto) - exported):
    bad(f'mplace.h declares {s}, which libmplace.so does not export')


# ---- the pages
def roff_text(line):
    """The text of a SYNOPSIS line: font macros' arguments joined (the
    alternating ones without spaces, .B and .I with them), escapes undone."""
    line = line.replace('\\-', '-').replace('\\e', '\\').replace('\\ ', ' ')
    m = re.match(r'^\.(B|I|BI|IB|BR|RB|IR|RI)\s+(.*)$', line)
    if m:
        args = shlex.split(m.group(2).replace('""', '\\"'))
        line = (' ' if m.group(1) in ('B', 'I') else '').join(args)
    elif line.startswith('.'):
        return ''
    return re.sub(r'\\f[BIRP]', '', line)


def synopsis(page):
    text, on = [], False
    for line in page.splitlines():
        if line.startswith('.SH'):
            on = line.split(None, 1)[1].strip('"') == 'SYNOPSIS'
            continue
        if on:
            text.append(roff_text(line))
    return '\n'.join(text)


pages = {}
for name in sorted(os.listdir(man)):
    if name.endswith('.3'):
        with open(os.path.join(man, name)) as f:
            pages[name[:-2]] = f.read()

targets = {}
for name, text in pages.items():
    m = re.match(r'^\.so man3/(\S+)\.3\s*$', text)
    if m:
        if m.group(1) not in pages:
            bad(f'{name}.3 links to man3/{m.group(1)}.3, which is not in doc/man')
        elif pages[m.group(1)].startswith('.so'):
            bad(f'{name}.3 links to {m.group(1)}.3, itself a link')
        targets[name] = m.group(1)
    else:
        targets[name] = name

documented = {}
for name, text in pages.items():
    if targets[name] != name:
        continue
    syn = decls(re.sub(r'^#.*$', '', synopsis(text), flags=re.M))
    if not syn:
        bad(f'{name}.3: no prototype in its SYNOPSIS')
    if '#include <mplace.h>' not in synopsis(text):
        bad(f'{name}.3: its SYNOPSIS does not include <mplace.h>')
    names = re.search(r'^\.SH NAME\n(.*?) \\- ', text, flags=re.M | re.S)
    listed = set(re.split(r',\s*', names.group(1))) if names else set()
    for fn, decl in syn.items():
        documented.setdefault(fn, []).append(name)
        if fn not in proto:
            bad(f'{name}.3 declares {fn}, which mplace.h does not')
        elif decl != proto[fn]:
            bad(f'{name}.3: SYNOPSIS and mplace.h differ for {fn}:\n  man:    {decl}\n  header: {proto[fn]}')
        if fn not in listed:
            bad(f'{name}.3 declares {fn} but its NAME line does not list it')
        if targets.get(fn) != name:
            bad(f'{fn} is in the SYNOPSIS of {name}.3, but man3/{fn}.3 is not a link to it')

for fn in sorted(set(proto) | exported):
    if fn not in pages:
        bad(f'{fn}: no doc/man/{fn}.3')
    elif fn not in documented:
        bad(f'{fn}: doc/man/{fn}.3 leads to {targets[fn]}.3, whose SYNOPSIS does not declare it')
    elif len(documented[fn]) > 1:
        bad(f'{fn} is declared by several pages: {documented[fn]}')

with open(os.path.join(src, 'doc', 'meson.build')) as f:
    installed = set(re.findall(r"'man/([^']+\.3)'", f.read()))
for name in sorted(set(pages) - {n[:-2] for n in installed}):
    bad(f'doc/meson.build does not install man/{name}.3')

if not fails:
    print(f'ok: {len(proto)} functions of mplace.h, {len(exported)} exported, each documented in one of '
          f'{sum(1 for n in pages if targets[n] == n)} pages with the header\'s prototype '
          f'({len(pages)} names in man3, all installed)')
sys.exit(1 if fails else 0)
