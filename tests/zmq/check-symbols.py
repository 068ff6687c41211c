#!/usr/bin/python3
"""Compares the functions libsegmask exports with those its public
headers declare with SEGMASK_API: internal ones (pub-internal.h, static
helpers) must stay hidden, and nothing declared may be missing.
Usage: check-symbols.py LIBSEGMASK.so HEADER..."""
import re
import subprocess
import sys

lib, headers = sys.argv[1], sys.argv[2:]
declared = set()
for h in headers:
    text = open(h).read()
    declared |= set(re.findall(r"^SEGMASK_API\b[^;(]*?\b(segmask_\w+)\s*\(",
                               text, re.M))
out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                     capture_output=True, text=True).stdout
exported = {line.split()[-1] for line in out.splitlines()
            if re.match(r"^\S+ T ", line)}
extra, missing = exported - declared, declared - exported
if extra or missing or not declared:
    print("exported but not in the headers: %s" % sorted(extra), file=sys.stderr)
    print("declared but not exported: %s" % sorted(missing), file=sys.stderr)
    sys.exit(1)
print("libsegmask exports exactly the %d declared functions" % len(declared))
