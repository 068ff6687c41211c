#!/usr/bin/python3
"""Fails when a manual page misses what it documents: every key of
configs/segd.conf and of `segd --print-config` in segd.conf(5) (under its
section), and every option `segd --help` / `segd-sub --help` / `seg COMMAND --help`
prints in segd(8) / segd-sub(1) / seg(1) (and segd-proxy(1) when given).

    check-man.py MANDIR SEGD_CONF SEGD SEGD_SUB SEG [SEGD_PROXY]
"""
import os
import re
import subprocess
import sys
import tempfile

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def page_text(path):
    """The roff page as plain text: fonts and escapes removed."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"\\f[BIRP]", "", text)
    text = re.sub(r"\\f\(..", "", text)
    text = text.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")
    return text


def conf_keys(path):
    """{section: [keys]} of a segd.conf-style file (keys commented out or
    not)."""
    keys, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\[([a-z0-9-]+)\]\s*$", line)
            if m:
                section = m.group(1)
                keys.setdefault(section, [])
                continue
            m = re.match(r"^#?\s*([a-z][a-z0-9-]*)\s*=", line)
            if m and section:
                keys[section].append(m.group(1))
    return keys


def check_keys(text, keys, origin):
    # Split the KEYS section of the page at its "[section]" subheadings.
    parts = re.split(r"^\.SS \[([a-z0-9-]+)\]\s*$", text, flags=re.M)
    sections = {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    for section, names in keys.items():
        if section not in sections:
            fail("segd.conf(5) has no [%s] section (from %s)" % (section, origin))
            continue
        for k in names:
            if not re.search(r"^%s = " % re.escape(k), sections[section], re.M):
                fail("segd.conf(5) lacks [%s] %s (from %s)" % (section, k, origin))


def help_options(cmd):
    out = subprocess.run(cmd + ["--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True,
                         timeout=60).stdout
    opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out))
    opts |= set(re.findall(r"(?:^|\s)(-[a-zA-Z])[,\s]", out, re.M))
    if not opts:
        fail("%s --help printed no options:\n%s" % (cmd[0], out))
    return opts


def check_options(page, cmd, subcommands=()):
    text = page_text(page)
    opts = set()
    for sub in subcommands or [None]:
        opts |= help_options(cmd + ([sub] if sub else []))
    for o in sorted(opts):
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), text):
            fail("%s lacks option %s (from %s --help)"
                 % (os.path.basename(page), o, os.path.basename(cmd[0])))
    return len(opts)


def main():
    mandir, conf, segd, segd_sub = sys.argv[1:5]
    seg = sys.argv[5]
    proxy = sys.argv[6] if len(sys.argv) > 6 else None
    conf5 = page_text(os.path.join(mandir, "segd.conf.5"))
    keys = conf_keys(conf)
    check_keys(conf5, keys, conf)
    # The binary's own table, without /etc/segd in the way.
    with tempfile.TemporaryDirectory() as empty:
        out = subprocess.run([segd, "--config-dir", empty, "--print-config"],
                             stdout=subprocess.PIPE, universal_newlines=True,
                             timeout=60)
    if out.returncode != 0:
        fail("segd --print-config exited %d" % out.returncode)
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
            f.write(out.stdout)
            f.flush()
            printed = conf_keys(f.name)
        if sum(len(v) for v in printed.values()) < 10:
            fail("segd --print-config printed too few keys:\n" + out.stdout)
        check_keys(conf5, printed, "segd --print-config")
    n = check_options(os.path.join(mandir, "segd.8"), [segd])
    n += check_options(os.path.join(mandir, "segd-sub.1"), [segd_sub])
    n += check_options(os.path.join(mandir, "seg.1"), [seg],
                       ("info", "run", "bench"))
    for command in ("info", "run", "bench"):
        if not re.search(r"^seg %s " % command, page_text(
                os.path.join(mandir, "seg.1")), re.M):
            fail("seg.1 lacks the %s command in its synopsis" % command)
    if proxy:
        n += check_options(os.path.join(mandir, "segd-proxy.1"), [proxy])
    if failures:
        return 1
    print("man: %d keys, %d options documented"
          % (sum(len(v) for v in keys.values()), n))
    return 0


sys.exit(main())
