#!/usr/bin/python3
"""Writes segd.conf(5)'s scdoc source: TEMPLATE with its @KEYS@ line
replaced by every section and key of CONF (configs/segd.conf, which
tests/daemon keeps complete against segd's key table), so the page cannot
drift from the daemon.

    conf-keys.py TEMPLATE CONF > segd.conf.5.scd
"""
import re
import sys

KEY = re.compile(r"^#\s*([a-z][a-z0-9-]*)\s*=\s?(.*)$")
SECTION = re.compile(r"^\[([a-z][a-z0-9-]*)\]\s*$")


def esc(text):
    """Escapes scdoc's inline markup."""
    return re.sub(r"([\\*_])", r"\\\1", text)


def parse(path):
    """[(section, [(key, default, description)])] in file order."""
    sections, comment, started = [], [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = SECTION.match(line)
            if m:
                sections.append((m.group(1), []))
                comment, started = [], True
                continue
            if not started:
                continue
            m = KEY.match(line)
            if m and sections:
                sections[-1][1].append((m.group(1), m.group(2).strip(),
                                        " ".join(comment)))
                comment = []
            elif line.startswith("#"):
                comment.append(line[1:].strip())
            elif not line.strip():
                comment = []
    return sections


def render(sections):
    out = []
    for name, keys in sections:
        out.append("## [%s]" % name)
        out.append("")
        for key, default, desc in keys:
            shown = "_%s_" % esc(default) if default else "(empty)"
            out.append("*%s* = %s" % (key, shown))
            out.append("\t%s" % (esc(desc) or "(no description)"))
            out.append("")
    return "\n".join(out).rstrip("\n")


def main():
    template, conf = sys.argv[1:3]
    sections = parse(conf)
    if not sections or not all(keys for _, keys in sections):
        sys.exit("conf-keys: no keys found in %s" % conf)
    with open(template, encoding="utf-8") as f:
        text = f.read()
    if "@KEYS@" not in text:
        sys.exit("conf-keys: no @KEYS@ line in %s" % template)
    sys.stdout.write(text.replace("@KEYS@", render(sections)))


main()
