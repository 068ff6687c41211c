#!/usr/bin/env python3
"""Compare the dynamic symbols a shared library defines with its headers.

Usage: check-exports.py [--nm NM] LIB.so HEADER...

A library is meant to export its public headers and nothing else (hidden
visibility by default, one *_API macro on the public declarations). This
lists the functions and variables the HEADERs declare (static inline
functions, typedefs and macros excluded) and the symbols `nm -D
--defined-only` finds in LIB.so, prints every name in one but not the
other, and exits 1 if there is any, 0 otherwise. With --symbols-file, the
names of a Debian symbols file (debian/*.symbols) must be the same set
too, so a new function is not first noticed by lintian in the package
build. The header reader is a small C declaration scanner, not a
compiler: it needs no include paths, so it works on any library's headers
(GLib's G_BEGIN_DECLS and friends included).
"""

import argparse
import re
import subprocess
import sys

# What a linker may define in any shared object.
LINKER_SYMBOLS = {"_init", "_fini", "_edata", "_end", "__bss_start"}

KEYWORDS = {
    "__attribute__", "sizeof", "if", "while", "for", "return", "switch",
}


def strip_comments(text):
    # Strings go first so that "/*" inside one is left alone.
    pattern = re.compile(r'"(?:\\.|[^"\\])*"|/\*.*?\*/|//[^\n]*', re.S)
    return pattern.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else " ",
                       text)


def strip_preprocessor(text):
    text = re.sub(r"\\\n", " ", text)
    return "\n".join(line for line in text.split("\n")
                     if not line.lstrip().startswith("#"))


def top_level_statements(text):
    """Splits the text at depth 0 into statements; brace bodies dropped.

    A statement ends at ';' or at the '}' closing a body (a function
    definition or a struct); `extern "C" {` is no body: its contents are
    declarations at the top level."""
    text = re.sub(r'extern\s+"C"\s*\{', " ", text)
    statements, current, depth = [], [], 0
    for ch in text:
        if ch == "{":
            if depth == 0:
                current.append(" {} ")
            depth += 1
        elif ch == "}":
            if depth == 0:  # the end of an extern "C" block
                continue
            depth -= 1
        elif depth > 0:
            continue
        elif ch == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(ch)
    statements.append("".join(current))
    result = []
    for s in statements:
        # A function definition ends with its body: what follows the body
        # is the next statement.
        parts = re.split(r"\)\s*\{\}", s)
        for i, p in enumerate(parts):
            result.append(p + (") {}" if i < len(parts) - 1 else ""))
    return [" ".join(s.split()) for s in result if s.strip()]


def declared_names(path):
    with open(path, encoding="utf-8") as f:
        text = strip_preprocessor(strip_comments(f.read()))
    names = set()
    for s in top_level_statements(text):
        words = re.findall(r"[A-Za-z_]\w*", s)
        if "typedef" in words or "static" in words:
            continue
        # Strip __attribute__ ((...)) so its parentheses are not taken for
        # the parameter list.
        s = re.sub(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)", " ", s)
        m = re.search(r"([A-Za-z_]\w*)\s*\(", s)
        if m and m.group(1) not in KEYWORDS:
            if "{}" in s and not s.rstrip().endswith("{}"):
                continue
            # `int (*hook) (void)` declares a variable, not a function.
            fp = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(", s)
            names.add(fp.group(1) if fp else m.group(1))
            continue
        if "extern" in words and "{}" not in s:
            m = re.search(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*$", s)
            if m:
                names.add(m.group(1))
    return names


def exported_names(nm, lib):
    out = subprocess.run([nm, "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        name = fields[-1].split("@")[0]
        if name not in LINKER_SYMBOLS:
            names.add(name)
    return names


def symbols_file_names(path):
    """The `name@Base version` lines of a dpkg symbols file."""
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith(" ") and "@" in line:
                names.add(line.split()[0].split("@")[0])
    return names


def main():
    ap = argparse.ArgumentParser(
        description="Fail when LIB.so exports other symbols than HEADERs "
        "declare.")
    ap.add_argument("--nm", default="nm", help="nm program (default: nm)")
    ap.add_argument("--symbols-file", help="a debian/*.symbols file that "
                    "must list the same names")
    ap.add_argument("lib", metavar="LIB.so")
    ap.add_argument("headers", metavar="HEADER", nargs="+")
    args = ap.parse_args()

    declared = set()
    for h in args.headers:
        declared |= declared_names(h)
    exported = exported_names(args.nm, args.lib)

    extra = sorted(exported - declared)
    missing = sorted(declared - exported)
    for name in extra:
        print(f"exported but not declared in a header: {name}")
    for name in missing:
        print(f"declared but not exported: {name}")
    print(f"{args.lib}: {len(exported)} exported, {len(declared)} declared "
          f"in {' '.join(args.headers)}")
    bad = bool(extra or missing)
    if args.symbols_file:
        listed = symbols_file_names(args.symbols_file)
        for name in sorted(exported - listed):
            print(f"exported but not in {args.symbols_file}: {name}")
        for name in sorted(listed - exported):
            print(f"in {args.symbols_file} but not exported: {name}")
        bad = bad or listed != exported
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
