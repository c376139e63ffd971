#!/usr/bin/env python3
"""test_install.py — `meson install` puts everything where it belongs.

    test_install.py BUILD_DIR SOURCE_DIR PREFIX BINDIR SBINDIR SYSCONFDIR MANDIR UNITDIR

Runs `meson install --destdir TMP --no-rebuild` on the build tree, then checks
that: every file landed (the two programs, the sample config, the systemd
unit, the sysusers.d entry, the man pages) and the programs run; the sample
config is the one of the source tree; the unit carries the sandboxing
directives docs/OPERATIONS.md promises, runs the installed liaisond with the
installed config, and passes `systemd-analyze verify` and an offline
`systemd-analyze security` exposure of at most 2.0; the man pages render
without a warning (groff -ww) and document every command and option that
`liaisond --help` and `liaison --help` list. Speaks TAP.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import TAP, clip  # noqa: E402

# What the unit must say (docs/OPERATIONS.md, "Running as a systemd service").
REQUIRED = {
    "User": "liaison",
    "Group": "liaison",
    "StateDirectory": "liaison",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes",
    "MemoryDenyWriteExecute": "yes",
    "LockPersonality": "yes",
    "SystemCallArchitectures": "native",
    "KillSignal": "SIGTERM",
}


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace", stdin=subprocess.DEVNULL, **kw)


def unit_directives(text):
    """{key: [values]} of the [Service] section."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def help_commands(text, section_start, section_end):
    """First words of the command lines of a --help text between two headings."""
    words, on = [], False
    for line in text.splitlines():
        if line.startswith(section_start):
            on = True
            continue
        if on and section_end and line.startswith(section_end):
            break
        m = re.match(r"^  (?:\(none\) \| )?([a-z][a-z-]*)\b", line)
        if on and m:
            words.append(m.group(1))
    return sorted(set(words))


def roff_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "") \
            .replace("\\fI", "").replace("\\fP", "")


def check_man(t, path, name):
    groff = shutil.which("groff")
    if not t.ok(groff, f"{name}: groff is installed (package groff-base, in ./dev)"):
        return
    p = run([groff, "-man", "-ww", "-z", path])
    t.ok(p.returncode == 0 and not p.stderr.strip(), f"{name} renders with groff -ww, no warning",
         clip(p.stderr))
    # man-db is one of ./dev's packages: without it the check fails, never
    # passes by being skipped
    man = shutil.which("man")
    if not t.ok(man, f"{name}: man is installed (package man-db, in ./dev)"):
        return
    p = run([man, "--warnings", "-l", path], env=dict(os.environ, MANWIDTH="80",
                                                      MAN_DISABLE_SECCOMP="1"))
    t.ok(p.returncode == 0 and not p.stderr.strip() and "SYNOPSIS" in p.stdout,
         f"{name} renders with man --warnings -l, no warning", clip(p.stderr))


def check_web(t, source, webdir):
    """The browser client's built files (web/dist, which ./dev builds before
    `meson setup`) are installed whole into datadir/liaison/web, the
    default web_root of the installed liaisond, byte for byte."""
    dist = os.path.join(source, "web", "dist")
    if not t.ok(os.path.isfile(os.path.join(dist, "index.html")),
                "web/dist is built (./dev builds it before meson setup)"):
        return

    def files(top):
        return {os.path.relpath(os.path.join(r, f), top): os.path.join(r, f)
                for r, _, fs in os.walk(top) for f in fs}
    want, got = files(dist), files(webdir) if os.path.isdir(webdir) else {}
    differ = [rel for rel in want if rel not in got or open(want[rel], "rb").read()
              != open(got[rel], "rb").read()]
    t.ok(want and not differ and set(got) == set(want),
         f"the browser client's {len(want)} files are installed in share/liaison/web, "
         "identical to web/dist",
         f"missing or different: {differ}; extra: {sorted(set(got) - set(want))}")


def main(t):
    if len(sys.argv) != 9:
        t.ok(False, "arguments", __doc__)
        return
    build, source, prefix, bindir, sbindir, sysconfdir, mandir, unitdir = sys.argv[1:9]
    meson = shutil.which("meson")
    if not t.ok(meson, "meson is on PATH"):
        return
    dest = tempfile.mkdtemp(prefix="lsn-install-")
    keep = False
    try:
        p = run([meson, "install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"])
        if not t.ok(p.returncode == 0, "meson install --destdir succeeds",
                    clip(p.stdout + p.stderr)):
            keep = True
            return

        def d(*parts):
            return os.path.join(dest + os.path.join(prefix, parts[0]) if not os.path.isabs(parts[0])
                                else dest + parts[0], *parts[1:])

        liaisond = d(sbindir, "liaisond")
        liaison = d(bindir, "liaison")
        sample = d(sysconfdir, "liaison", "liaisond.conf.sample")
        with_unit = unitdir != "no"   # -Dsystemd_unit_dir=no installs no unit
        unit = dest + os.path.join(unitdir, "liaisond.service")
        sysusers = dest + os.path.join(prefix, "lib", "sysusers.d", "liaison.conf")
        man8 = d(mandir, "man8", "liaisond.8")
        man1 = d(mandir, "man1", "liaison.1")
        for path in (liaisond, liaison, sample, man8, man1) + ((unit, sysusers) if with_unit else ()):
            t.ok(os.path.isfile(path), f"installed {os.path.relpath(path, dest)}")
        listing = sorted(os.path.relpath(os.path.join(r, f), dest)
                         for r, _, fs in os.walk(dest) for f in fs)
        t.diag("installed: " + ", ".join(listing))

        # the programs run from where they were installed
        for prog, name in ((liaisond, "liaisond"), (liaison, "liaison")):
            ok = os.access(prog, os.X_OK)
            p = run([prog, "--version"]) if ok else None
            t.ok(ok and p.returncode == 0 and re.search(r"\d+\.\d+\.\d+", p.stdout + p.stderr),
                 f"installed {name} --version runs", p and clip(p.stdout + p.stderr))

        # the French catalogue, read by the installed liaison (LIAISON_LOCALEDIR
        # stands for the prefix: the files are under DESTDIR)
        localedir = d("share", "locale")
        mo = os.path.join(localedir, "fr", "LC_MESSAGES", "liaison.mo")
        t.ok(os.path.isfile(mo), f"installed {os.path.relpath(mo, dest)}")
        env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LANGUAGE")}
        p = run([liaison, "--help"], env=dict(env, LANG="fr_FR.UTF-8", LIAISON_LOCALEDIR=localedir))
        t.ok(p.returncode == 0 and "Messagerie sécurisée" in p.stdout,
             "the installed liaison speaks French with LANG=fr_FR.UTF-8 (needs that locale)",
             clip(p.stdout[:300] + p.stderr))

        with open(sample, "rb") as a, open(os.path.join(source, "server", "liaisond.conf.sample"),
                                           "rb") as b:
            t.ok(a.read() == b.read(), "the installed sample config is server/liaisond.conf.sample")

        check_web(t, source, d("share", "liaison", "web"))

        if with_unit:
            check_unit(t, dest, unit, sysusers, liaisond, prefix, sbindir, sysconfdir)
        else:
            t.diag("-Dsystemd_unit_dir=no: no unit installed, none checked")
        check_pages(t, liaisond, liaison, man8, man1)
    finally:
        if keep:
            t.diag(f"install tree kept in {dest}")
        else:
            shutil.rmtree(dest, ignore_errors=True)


def check_unit(t, dest, unit, sysusers, liaisond, prefix, sbindir, sysconfdir):
    with open(unit, encoding="utf-8") as f:
        text = f.read()
    t.ok("@" not in re.sub(r"(?m)^\s*#.*$", "", text).replace("@system-service", "")
         .replace("@privileged", "").replace("@resources", ""),
         "the unit has no unsubstituted @VAR@")
    dirs = unit_directives(text)
    missing = [f"{k}={v}" for k, v in REQUIRED.items() if v not in dirs.get(k, [])]
    t.ok(not missing, f"the unit has the {len(REQUIRED)} sandboxing directives",
         "missing or different: " + ", ".join(missing))
    t.ok("@system-service" in dirs.get("SystemCallFilter", []),
         "the unit filters system calls to @system-service")
    conf = os.path.join(prefix, sysconfdir, "liaison", "liaisond.conf")
    exe = os.path.join(prefix, sbindir, "liaisond")
    t.eq(dirs.get("ExecStart"), [f"{exe} --config {conf} serve"],
         "ExecStart runs the installed liaisond with the installed config")
    t.ok(not any(k in dirs for k in ("StandardOutput", "StandardError")),
         "the unit leaves stderr to the journal")

    analyze = shutil.which("systemd-analyze")
    if t.ok(analyze, "systemd-analyze is installed (package systemd)"):
        # verify wants ExecStart's binary to exist: point it at the installed one
        vdir = os.path.join(dest, "verify")
        os.mkdir(vdir)
        vunit = os.path.join(vdir, "liaisond.service")
        with open(vunit, "w", encoding="utf-8") as f:
            f.write(text.replace(f"ExecStart={exe} ", f"ExecStart={liaisond} "))
        p = run([analyze, "verify", "--man=no", vunit])
        t.ok(p.returncode == 0 and not p.stderr.strip(),
             "systemd-analyze verify: no error, no warning", clip(p.stdout + p.stderr))
        p = run([analyze, "security", "--offline=yes", "--no-pager", vunit])
        m = re.search(r"Overall exposure level for liaisond\.service: (\d+\.\d+)", p.stdout)
        t.ok(m and float(m.group(1)) <= 2.0,
             f"systemd-analyze security: exposure {m.group(1) if m else '?'} (at most 2.0)",
             clip(p.stdout + p.stderr))

    with open(sysusers, encoding="utf-8") as f:
        t.ok(re.search(r"(?m)^u\s+liaison\s", f.read()),
             "sysusers.d creates the user liaison")



def check_pages(t, liaisond, liaison, man8, man1):
    check_man(t, man8, "liaisond(8)")
    check_man(t, man1, "liaison(1)")
    p = run([liaisond, "--help"])
    cmds = help_commands(p.stdout, "Commands:", "Options")
    opts = sorted(set(re.findall(r"^  (--[a-z][a-z-]*)", p.stdout, re.M)))
    page = roff_text(man8)
    t.ok(len(cmds) >= 5, f"liaisond --help lists commands ({', '.join(cmds)})",
         clip(p.stdout))
    missing = [c for c in cmds if not re.search(rf"(?m)^\.(B|TP|BR)?\s*\[?{c}\b|^\.B \[?{c}",
                                                 page) and f".B {c}" not in page
               and f"\n{c}" not in page]
    t.ok(not missing, "liaisond(8) documents every command of liaisond --help",
         "missing: " + ", ".join(missing))
    missing = [o for o in opts if o not in page]
    t.ok(opts and not missing, f"liaisond(8) documents every option of liaisond --help "
         f"({len(opts)})", "missing: " + ", ".join(missing))
    p = run([liaison, "--help"])
    cmds = help_commands(p.stdout, "Commands:", "Global options")
    page = roff_text(man1)
    t.ok(len(cmds) >= 10, f"liaison --help lists commands ({len(cmds)})", clip(p.stdout))
    missing = [c for c in cmds if f".B {c}" not in page and f".BR {c}" not in page]
    t.ok(not missing, "liaison(1) documents every command of liaison --help",
         "missing: " + ", ".join(missing))
    opts = sorted(set(re.findall(r"^  (--[a-z][a-z-]*)", p.stdout.split("Global options")[-1],
                                 re.M)))
    missing = [o for o in opts if o not in page]
    t.ok(opts and not missing, f"liaison(1) documents every global option ({len(opts)})",
         "missing: " + ", ".join(missing))


# The TAP plan, printed first: the checks of every build, and those of the
# systemd unit when one is installed (-Dsystemd_unit_dir is not "no").
PLAN_BASE = 28
PLAN_UNIT = 11

if __name__ == "__main__":
    t = TAP(PLAN_BASE + (PLAN_UNIT if len(sys.argv) == 9 and sys.argv[8] != "no" else 0))
    try:
        main(t)
    except Exception:  # noqa: BLE001 - every failure must show up in TAP
        import traceback
        t.ok(False, "test script ran to the end", traceback.format_exc())
    sys.exit(t.done())
