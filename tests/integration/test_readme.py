#!/usr/bin/env python3
"""test_readme.py — the top-level README's walk-throughs, played as written.

Every ```sh block of README.md is taken in order and each of its commands is
run with the real `liaisond` and `liaison`, substituting only what a reader
substitutes: the invite CODE printed by the `invite` just before, the ids
the README says earlier commands print (CHANNEL, CASE, EPISODE, CIRCLE,
ATTACHMENT, N), the server URL and the build paths (this test's own liaisond
on a free port in a temporary directory; `build/server/liaisond` becomes the
built server with `--data-dir` of that directory, `build/client/liaison` the
built client). The first walk-through types its passphrase at a prompt: the
test gives the one the README tells the reader to type through
LIAISON_PASSPHRASE, since no terminal is attached.

A command fails its block when it exits non-zero, unless its comment says
`refused` (then it must fail, and every word after `refused:` must be in
its error), or when its output contradicts what the README says it shows
(CLAIMS below). The README's shape is pinned (SHAPE): if a walk-through, a
block or one of its key commands goes away, the test fails saying which, so
that no walk-through is dropped silently. Then the checks of issue 12's
"Done when" that hold on these walk-throughs, read from `case show --json`
and `cases --json`: the steps an action did are `done` (the letter posted
with `discharge --letter`, the reconciliation closed), and the
acknowledgements stay those of the four professionals the notice named
after other members join the case thread. TAP on stdout."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Client, Server, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
README = os.path.join(ROOT, "README.md")

# The sections of README.md that hold ```sh blocks, in order, with how many
# blocks each has and commands each must contain (substrings of its
# commands). A README that changes shape fails here first; update SHAPE
# with the README, never drop a walk-through from it to make it pass.
SHAPE = [
    ("Quick start", 1, ["./dev server", "./dev test"]),
    ("Walk-through", 4, ["liaisond org add", "liaisond invite", "liaison enrol",
                         "liaison login", "liaison whoami", "liaison directory search",
                         "liaison devices", "liaisond users"]),
    ("Walk-through: an encrypted care thread", 3,
     ["channel create --kind case", "channel add", "send CHANNEL --attach", "read CHANNEL",
      "get ATTACHMENT", "verify", "backup setup"]),
    ("Walk-through: coordinating a hospital discharge", 7,
     ["--profile nurse enrol", "--profile cardio enrol", "--profile coord enrol",
      "pathways heart_failure", "discharge --check", "discharge --pathway heart_failure",
      "--letter lettre-sortie.txt", "ack CASE", "case show CASE", "case step complete",
      "case step skip", "case step reschedule", "alert CASE", "cases --all", "cases --late",
      "coord report"]),
    ("Walk-through: medication reconciliation and a quality circle", 10,
     ["--profile hpharma enrol", "--profile gp2 enrol", "channel add CHANNEL \"Anne Morel\"",
      "conciliation start CASE", "conciliation import", "conciliation compare",
      "conciliation discrepancy set", "conciliation propose", "conciliation review",
      "conciliation resolve", "conciliation close CASE EPISODE", "channel create --kind circle",
      "circle k CIRCLE", "circle share", "circle review", "circle session", "coord report"]),
    ("Walk-through: in the browser", 4,
     ["--profile cardio backup setup", "--profile cardio whoami", "liaisond invite --user USER",
      "--profile doctor case show CASE", "liaison read CHANNEL", "--profile coord backup setup",
      "--profile coord whoami", "coord report --csv-fr > indicateurs.csv"]),
]
RUN_SECTIONS = [name for name, _, _ in SHAPE[1:]]
N_BLOCKS = sum(n for name, n, _ in SHAPE if name in RUN_SECTIONS)
DONE_WHEN = 7

# shape (1) + the browser's labels (1) + programs built (1) + one per block
# run + the Done-when checks + the server's clean stop (3)
PLAN = 1 + 1 + 1 + N_BLOCKS + DONE_WHEN + 3

BROWSER_SECTION = "Walk-through: in the browser"
# what the browser walk-through quotes « like this » that the reader types,
# not a label of the page
TYPED_IN_PAGE = {"Roux"}

PLACEHOLDERS = ("CODE", "CHANNEL", "CASE", "EPISODE", "CIRCLE", "ATTACHMENT", "N", "USER")
# words in capitals a command may hold that are not placeholders
CAPS_OK = {"CPTS", "CHR", "LIAISON_PASSPHRASE", "BMO"}
INVITE_EXAMPLE = "7K2M-QX9D-4T1B-ZR8W-0CFE-N5HJ"
CODE_RE = re.compile(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}$")
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
INLINE_NURSE = re.compile(r"`(build/server/liaisond invite [^`]*Julie Bernard[^`]*)`")
README_TEXT = [""]


# ---- the README, read -----------------------------------------------------------------

def sh_blocks(text):
    """[(section heading, first line number, [logical commands])] for every
    ```sh block; a command is a line with its backslash continuations joined."""
    out = []
    section = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        if line.strip() == "```sh":
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise AssertionError(f"README.md line {start}: a ```sh block is never closed")
            cmds, cur = [], ""
            for b in body:
                if b.rstrip().endswith("\\"):
                    cur += b.rstrip()[:-1].rstrip() + " "
                    continue
                cur += b.strip()
                if cur.strip():
                    cmds.append(cur.strip())
                cur = ""
            out.append((section, start, cmds))
        i += 1
    return out


def split_comment(cmd):
    """(command, comment) — the comment is what follows an unquoted # that
    starts a word, as the shell reads it."""
    quote = None
    for i, ch in enumerate(cmd):
        if quote:
            if ch == quote:
                quote = None
            elif ch == "\\" and quote == '"':
                continue
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or cmd[i - 1] in " \t"):
            return cmd[:i].rstrip(), cmd[i + 1:].strip()
    return cmd, ""


def check_browser_labels(t, text):
    """Every label the browser walk-through quotes « … » is a string of the
    page's code (web/src), so a renamed button cannot leave the README
    behind (the flows themselves are the test_web_* tests')."""
    m = re.search(r"^## " + re.escape(BROWSER_SECTION) + r"\n(.*?)(?=^## )", text, re.S | re.M)
    labels = [" ".join(x.split()) for x in re.findall(r"«\s*([^»]+?)\s*»", m.group(1))] if m else []
    code = ""
    src = os.path.join(ROOT, "web", "src")
    for base, _, files in os.walk(src):
        for name in files:
            if name.endswith(".js"):
                with open(os.path.join(base, name), encoding="utf-8") as f:
                    code += f.read()
    # the code writes a typographic apostrophe and no-break spaces as
    # escapes or as themselves
    code = code.replace("\\u00a0", " ").replace("\u00a0", " ").replace("\\u2019", "’")
    missing = [x for x in labels if x not in TYPED_IN_PAGE and x not in code]
    t.ok(m and len(labels) >= 10 and not missing,
         f"every label the browser walk-through names is in web/src ({len(labels)} labels)",
         f"not found in web/src: {missing}" if m else f"no section '## {BROWSER_SECTION}'")


def check_shape(t, blocks):
    got = {}
    order = []
    for section, _, cmds in blocks:
        if section not in got:
            order.append(section)
            got[section] = []
        got[section].append(cmds)
    problems = []
    want_order = [name for name, _, _ in SHAPE]
    if order != want_order:
        problems.append(f"sections with ```sh blocks: {order}\n  expected: {want_order}")
    for name, nblocks, needles in SHAPE:
        blks = got.get(name)
        if blks is None:
            problems.append(f"section '## {name}' has no ```sh block (a walk-through was dropped)")
            continue
        if len(blks) != nblocks:
            problems.append(f"section '## {name}': {len(blks)} ```sh blocks, expected {nblocks}")
        joined = "\n".join(c for b in blks for c in b)
        for needle in needles:
            if needle not in joined:
                problems.append(f"section '## {name}': no command contains {needle!r}")
    # the nurse invite the first walk-through gives in its text is the one the
    # discharge walk-through runs (a reader who used it skips those lines)
    text_invite = INLINE_NURSE.search(README_TEXT[0])
    run_invite = next((c for b in got.get(SHAPE[3][0], []) for c in b
                       if "liaisond invite" in c and "Julie Bernard" in c), None)
    norm = lambda s: " ".join(s.split())  # noqa: E731
    if not text_invite or not run_invite or norm(text_invite.group(1)) != norm(run_invite):
        problems.append("the nurse invite in the first walk-through's text\n  "
                        f"{text_invite.group(1) if text_invite else None!r}\n"
                        f"is not the one the discharge walk-through runs\n  {run_invite!r}")
    ok = t.ok(not problems, "README.md has the walk-throughs this test plays (SHAPE)",
              "\n".join(problems) + "\nREADME.md changed shape: update SHAPE in "
              "tests/integration/test_readme.py together with the README, "
              "never by dropping a walk-through")
    if not ok:
        raise AssertionError("README.md changed shape; see the diagnostics above")


# ---- playing it ---------------------------------------------------------------------

class Walk:
    def __init__(self, t, srv, workdir, typed_passphrase):
        self.t = t
        self.srv = srv
        self.workdir = workdir
        self.values = {}
        base = Client(srv, "default").env()
        base.pop("LIAISON_PASSPHRASE", None)
        base["LIAISON_CA"] = os.path.abspath(base["LIAISON_CA"])  # commands run elsewhere
        self.env = base
        # the reader types this at the prompt of the first walk-through
        self.typed = typed_passphrase

    def substitute(self, cmd):
        # a word in capitals the README never says how to fill, looked for in
        # the command as written (not in the paths put in for it)
        unknown = [w for w in re.findall(r"(?<![\w-])[A-Z][A-Z_]{2,}(?![\w-])", cmd)
                   if w not in CAPS_OK and w not in PLACEHOLDERS]
        missing = []
        for name in PLACEHOLDERS:
            if name == "N":
                pat = r"(?<=--cases )N(?![\w-])"
            else:
                pat = r"(?<![\w-])" + name + r"(?![\w-])"
            if re.search(pat, cmd):
                if name not in self.values:
                    missing.append(name)
                    continue
                cmd = re.sub(pat, lambda _m, v=self.values[name]: v, cmd)
        if INVITE_EXAMPLE in cmd:
            if "CODE" not in self.values:
                missing.append("CODE (the example invite code)")
            else:
                cmd = cmd.replace(INVITE_EXAMPLE, self.values["CODE"])
        cmd = cmd.replace("wss://localhost:7443", self.srv.url)
        cmd = re.sub(r"(?<![\w/.-])build/server/liaisond(?![\w/.-])",
                     lambda _m: f"{shlex.quote(os.path.abspath(harness.LIAISOND))} --data-dir "
                                f"{shlex.quote(self.srv.data)}", cmd)
        cmd = re.sub(r"(?<![\w/.-])build/client/liaison(?![\w/.-])",
                     lambda _m: shlex.quote(os.path.abspath(harness.LIAISON)), cmd)
        return cmd, missing, unknown

    def run(self, section, line, raw):
        """Run one README command; returns (problem or None, rc, out, err)."""
        cmd, comment = split_comment(raw)
        if cmd.startswith("export "):
            words = shlex.split(cmd)
            if len(words) != 2 or "=" not in words[1]:
                return f"cannot follow {raw!r}: only `export NAME=VALUE` is understood", 0, "", ""
            name, value = words[1].split("=", 1)
            self.env[name] = value
            return None, 0, "", ""
        real, missing, unknown = self.substitute(cmd)
        if missing:
            return (f"{raw!r} uses {', '.join(missing)} before any earlier command of the "
                    "README printed it", 0, "", "")
        if unknown:
            return f"{raw!r}: placeholder(s) {unknown} the README never says how to fill", \
                0, "", ""
        env = dict(self.env)
        if "LIAISON_PASSPHRASE" not in env:
            env["LIAISON_PASSPHRASE"] = self.typed
        try:
            res = subprocess.run(["bash", "-c", real], cwd=self.workdir, env=env,
                                 capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                 timeout=120 * harness.SLOW)
            rc, out, err = res.returncode, res.stdout, res.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = -1, str(e.stdout or ""), f"timed out: {e}"
        harness.sanitizer_check(self.t, f"README line {line}: {cmd[:60]}", err)
        refused = comment.startswith("refused")
        if refused:
            if rc == 0:
                return f"{raw!r}: the README says it is refused, but it exited 0", rc, out, err
            reason = comment.partition(":")[2].strip()
            lost = [w for w in re.findall(r"[\w]+", reason) if w not in err]
            if lost:
                return (f"{raw!r}: refused, but its error does not say {lost} as the README "
                        "does"), rc, out, err
        elif rc != 0:
            return f"{raw!r} exited {rc}", rc, out, err
        self.capture(cmd, out)
        return None, rc, out, err

    def capture(self, cmd, out):
        """What the README says a command prints and later commands use."""
        v = self.values
        last = [x.strip() for x in out.splitlines() if x.strip()]
        if re.search(r"liaisond invite\b", cmd) and last:
            v["CODE"] = last[-1]
        m = re.search(r"^Channel ([0-9a-f]{32}) created \((\w+)", out, re.M)
        if m and "channel create" in cmd:
            v["CIRCLE" if m.group(2) == "circle" else "CHANNEL"] = m.group(1)
        if "discharge --pathway" in cmd:
            m = re.search(r"case (P-[0-9A-Z]{8})\b", out)
            if m:
                v["CASE"] = m.group(1)
            m = re.search(r"^Channel:\s+([0-9a-f]{32})", out, re.M)
            if m:
                v["CHANNEL"] = m.group(1)
        m = re.search(r"^User ID:\s+([0-9a-f]{32})$", out, re.M)
        if m and re.search(r"\bwhoami\b", cmd):
            v["USER"] = m.group(1)
        m = re.search(r"liaison get ([0-9a-f]{32})", out)
        if m and re.search(r"\bread\b", cmd):
            v["ATTACHMENT"] = m.group(1)
        m = re.search(r"^Episode ([0-9a-f]{32})\b", out, re.M)
        if m and "conciliation start" in cmd:
            v["EPISODE"] = m.group(1)[:8]  # "its first 8 characters are enough"
        if "circle review" in cmd and "--csv" not in cmd:
            m = re.search(r"^#(\d+)\s{2,}\S", out, re.M)
            if m:
                v["N"] = m.group(1)


# ---- what the README says each command shows (CLAIMS) --------------------------------------

def has(*needles):
    def check(out, err, w):
        lost = [n for n in needles if n not in out]
        return f"stdout lacks {lost}" if lost else None
    return check


def lacks(*needles):
    def check(out, err, w):
        there = [n for n in needles if n in out]
        return f"stdout shows {there}" if there else None
    return check


def matches(pattern):
    def check(out, err, w):
        return None if re.search(pattern, out, re.M) else f"stdout does not match {pattern!r}"
    return check


def shows_case(out, err, w):
    ref = w.values.get("CASE")
    return None if ref and ref in out else f"the case {ref} is not listed"


def both(*checks):
    def check(out, err, w):
        bad = [b for b in (c(out, err, w) for c in checks) if b]
        return "; ".join(bad) if bad else None
    return check


def invite_code(out, err, w):
    last = [x.strip() for x in out.splitlines() if x.strip()]
    if not last or not CODE_RE.match(last[-1]):
        return "the last line printed is not a one-time invite code"
    return None


def letter_fetched(out, err, w):
    try:
        with open(os.path.join(w.workdir, "lettre.txt"), "rb") as a, \
                open(os.path.join(w.workdir, "lettre-recue.txt"), "rb") as b:
            return None if a.read() == b.read() else "lettre-recue.txt differs from lettre.txt"
    except OSError as e:
        return f"cannot compare the letters: {e}"


def cercle_csv(out, err, w):
    try:
        with open(os.path.join(w.workdir, "cercle.csv"), encoding="utf-8") as f:
            head = f.readline().strip()
    except OSError as e:
        return f"no cercle.csv: {e}"
    return None if head == "dimension,key,count,share" else f"cercle.csv starts {head!r}"


def compare_table(out, err, w):
    # the README: 13 furosémide dose doubled, 14 its frequency, 15
    # spironolactone replaced, 16 and 17 left out, 18 without a frequency,
    # 19 added, 20 with it
    want = [("13", "dose_change"), ("14", "frequency_change"), ("15", "substitution"),
            ("16", "omission"), ("17", "omission"), ("18", "incomplete"), ("19", "addition"),
            ("20", "duplication")]
    lost = [f"{n} {k}" for n, k in want if not re.search(rf"^{n}\s+{k}\b", out, re.M)]
    return f"compare does not list {lost}" if lost else None


# (section, substring of the command as written, predicate, what the README says)
CLAIMS = [
    ("Walk-through", "liaisond invite", invite_code, "the last line is the invite code"),
    ("Walk-through", "liaison login", has("Dr Claire Martin"), "says as whom"),
    ("Walk-through", "liaison whoami",
     has("Dr Claire Martin", "10101010105", "CPTS Val de Loire", "member", "This device"),
     "name, RPPS, organisation, roles, device"),
    ("Walk-through", "directory search martin", has("Claire Martin"), "finds her"),
    ("Walk-through", "liaison devices", has("this device"), "this user's devices"),
    ("Walk-through", "liaisond users", has("Dr Claire Martin"), "lists users"),
    ("Walk-through: an encrypted care thread", "liaisond invite", invite_code, "invite code"),
    ("Walk-through: an encrypted care thread", "liaison read CHANNEL",
     has("Sortie ce jour, furosémide 40 mg le matin, kaliémie à J7", "lettre.txt",
         "liaison get "), "the GP reads the message and sees the letter's id"),
    ("Walk-through: an encrypted care thread", "get ATTACHMENT", letter_fetched,
     "the letter is fetched"),
    ("Walk-through: an encrypted care thread", "--profile doctor read CHANNEL",
     has("Bien reçu, je le vois jeudi", "read by"), "everyone sees who has read what"),
    ("Walk-through: an encrypted care thread", "verify \"Hélène Roux\"",
     matches(r"\d{5} \d{5} \d{5}"), "a safety number"),
    ("Walk-through: an encrypted care thread", "backup setup",
     matches(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){5}"), "a recovery code"),
    ("Walk-through: coordinating a hospital discharge", "liaisond invite", invite_code, "code"),
    ("Walk-through: coordinating a hospital discharge", "pathways heart_failure",
     has("gp_consultation", "nurse_followup", "cardiology_consultation"), "step by step"),
    ("Walk-through: coordinating a hospital discharge", "discharge --check",
     has("the notice is complete"), "the notice is checked"),
    ("Walk-through: coordinating a hospital discharge", "discharge --pathway",
     has("Must acknowledge", "Dr Claire Martin", "Marc Pharma", "Julie Bernard",
         "Dr Louis Petit"), "prints the case reference and who must acknowledge"),
    ("Walk-through: coordinating a hospital discharge", "liaison cases",
     both(shows_case, has("LEMAIRE")), "the GP's cases, the patient's name decrypted"),
    ("Walk-through: coordinating a hospital discharge", "liaison ack CASE",
     has("DISCHARGE NOTICE", "Acknowledged by", "Not yet"),
     "shows the notice, then who has and has not acknowledged"),
    ("Walk-through: coordinating a hospital discharge", "--profile doctor case show CASE",
     has("Acknowledged by", "Dr Claire Martin", "gp_consultation", "cardiology_consultation"),
     "acknowledgements with their times, every step"),
    ("Walk-through: coordinating a hospital discharge", "case step skip",
     has("skipped", "rescheduled"), "skipped with its reason code"),
    ("Walk-through: coordinating a hospital discharge", "case step reschedule",
     has("nurse_followup#2"), "moved, with its reason"),
    ("Walk-through: coordinating a hospital discharge", "alert CASE", has("Alert sent"), "sent"),
    ("Walk-through: coordinating a hospital discharge", "liaison read CHANNEL",
     has("ALERT", "Prise de poids de 2,5 kg en 3 jours"), "the GP sees the alert prominently"),
    ("Walk-through: coordinating a hospital discharge", "coord cases --all",
     both(shows_case, lacks("LEMAIRE", "Odette")),
     "the cases of her CPTS, but not the patient's name"),
    ("Walk-through: coordinating a hospital discharge", "coord cases --late",
     lambda out, err, w: None if ("No late step." in out or "DAYS LATE" in out)
     else "neither the late-step table nor \"No late step.\"", "the late steps"),
    ("Walk-through: coordinating a hospital discharge", "coord report",
     has("Indicators", "semester", "1a", "2 ", "not yet due"), "the indicators"),
    ("Walk-through: medication reconciliation and a quality circle", "liaisond invite",
     invite_code, "code"),
    ("Walk-through: medication reconciliation and a quality circle",
     "conciliation start", matches(r"^Episode [0-9a-f]{32}"), "prints the episode's id"),
    ("Walk-through: medication reconciliation and a quality circle",
     "conciliation compare CASE EPISODE\n", compare_table, "the discrepancies 13 to 20"),
    ("Walk-through: medication reconciliation and a quality circle",
     "conciliation show CASE", has("furosémide", "#13", "!"),
     "the BMO beside the prescription, discrepancies marked"),
    ("Walk-through: medication reconciliation and a quality circle", "counts CASE EPISODE",
     lacks("furosémide", "LEMAIRE", "Claire"), "numbers and fixed codes, no drug, no name"),
    ("Walk-through: medication reconciliation and a quality circle", "conciliation close",
     has("closed"), "the reconciliation is closed"),
    ("Walk-through: medication reconciliation and a quality circle",
     "share CIRCLE CASE EPISODE --dry-run",
     has("nothing was sent"), "what the circle would receive"),
    ("Walk-through: medication reconciliation and a quality circle",
     "--profile pharma circle review",
     has("heart_failure", "Share resolved"), "the shared case with aggregates"),
    ("Walk-through: medication reconciliation and a quality circle", "--csv > cercle.csv",
     cercle_csv, "a spreadsheet"),
    ("Walk-through: medication reconciliation and a quality circle", "gp2 circle review CIRCLE\n",
     has("Consensus", "Fiche réflexe diurétiques"), "the session recorded"),
    ("Walk-through: medication reconciliation and a quality circle", "coord report",
     has("6a", "6b", "6c", "6d"), "indicator 6"),
]


CLAIMS_USED = set()


def claims_for(section, cmd):
    """The claims about one command; "\n" at the end of a needle anchors it at
    the end of the command."""
    found = []
    for i, (sec, needle, check, what) in enumerate(CLAIMS):
        if sec == section and ((needle.endswith("\n") and cmd.endswith(needle[:-1]))
                               or (not needle.endswith("\n") and needle in cmd)):
            CLAIMS_USED.add(i)
            found.append((check, what))
    return found


# ---- the Done-when checks -------------------------------------------------------------------

def user_id(client):
    """The profile's user id, from `whoami --json` (docs/PROTOCOL.md: user.id)."""
    rc, obj, err = client.json("whoami")
    user = (obj or {}).get("user")
    return user.get("id") if isinstance(user, dict) else None


def case_json(client, ref):
    rc, obj, err = client.json("case", "show", ref)
    return (obj or {}), f"rc={rc}\n{harness.clip(err, 1500)}"


def steps_of(case, code):
    return [s for s in case.get("steps", []) if s.get("step") == code]


class DoneWhen:
    """Issue 12's "Done when" on the README's own case, hooked after the
    README commands they follow."""

    def __init__(self, t, srv, w):
        self.t = t
        self.srv = srv
        self.w = w
        self.c = {p: Client(srv, p) for p in ("default", "doctor", "pharma", "nurse", "cardio",
                                              "coord", "hpharma")}
        self.ids = {}
        self.close_window = None
        self.acks_checked = False

    def ids_of(self, *profiles):
        for p in profiles:
            if p not in self.ids:
                self.ids[p] = user_id(self.c[p])
                if not (isinstance(self.ids[p], str) and HEX_ID.match(self.ids[p])):
                    raise AssertionError(f"whoami --json of profile {p} gives no user id")
        return [self.ids[p] for p in profiles]

    def named_acks(self, when):
        """The four named professionals: three acknowledged, the cardiologist
        missing, whoever else is in the thread."""
        ref = self.w.values["CASE"]
        gp, ph, nu, ca = self.ids_of("default", "pharma", "nurse", "cardio")
        case, diag = case_json(self.c["doctor"], ref)
        notice = case.get("notice") or {}
        acked = sorted(a.get("user") for a in notice.get("acks", []))
        missing = notice.get("missing_users") or []
        missing_ids = sorted(m.get("user") if isinstance(m, dict) else m for m in missing)
        self.t.ok(acked == sorted([gp, ph, nu]) and notice.get("missing") == 1
                  and missing_ids == [ca],
                  f"{when}: acknowledgements 3/4 of the named recipients (GP, pharmacist, "
                  "nurse acked; the cardiologist missing, nobody else)",
                  f"acks {acked}\nmissing {notice.get('missing')!r} {missing_ids}\n"
                  f"want acks {sorted([gp, ph, nu])}, missing 1 [{ca}]\n{diag}")

    def after(self, section, cmd):
        t = self.t
        if "discharge --pathway" in cmd:
            ref = self.w.values.get("CASE")
            case, diag = case_json(self.c["doctor"], ref)
            (doctor,) = self.ids_of("doctor")
            letter = steps_of(case, "discharge_letter")
            notice = steps_of(case, "discharge_notice")
            done = [s for s in letter + notice if s.get("status") == "done"
                    and s.get("done_by") == doctor and s.get("done_at")]
            t.ok(len(letter) == 1 and len(done) == len(letter) + len(notice),
                 "discharge --letter: discharge_letter (and discharge_notice where the pathway "
                 "has it) done by the discharging doctor, with the time",
                 f"discharge_letter: {letter}\ndischarge_notice: {notice}\n{diag}")
            full = (case.get("case") or {}).get("case")
            t.ok(isinstance(full, str) and HEX_ID.match(full) is not None
                 and (case.get("case") or {}).get("patient_ref") == ref,
                 "case show --json gives the case's full id beside its reference", diag)
        elif "--profile doctor case show CASE" in cmd and not self.acks_checked:
            self.acks_checked = True
            self.named_acks("after the acknowledgements of the README")
        elif "channel add CHANNEL \"Anne Morel\"" in cmd:
            self.named_acks("after the hospital pharmacist joins the case thread")
        elif "conciliation close" in cmd:
            self.close_window = (self.close_window[0], time.time() * 1000)

    def before(self, section, cmd):
        if "conciliation close" in cmd:
            self.close_window = (time.time() * 1000, None)

    def at_end(self):
        t = self.t
        ref = self.w.values.get("CASE")
        gp, hp = self.ids_of("default", "hpharma")
        case, diag = case_json(self.c["doctor"], ref)
        rec = steps_of(case, "discharge_reconciliation")
        lo, hi = self.close_window or (None, None)
        done_at = rec[0].get("done_at") if len(rec) == 1 else None
        t.ok(len(rec) == 1 and rec[0].get("status") == "done" and rec[0].get("done_by") == gp
             and isinstance(done_at, int) and lo is not None and hi is not None
             and lo - 1000 <= done_at <= hi + 1000,
             "conciliation close: discharge_reconciliation done, by the GP who closed it, "
             "at that time", f"{rec}\nclose between {lo} and {hi}\n{diag}")
        # acknowledgers still the four named after the pharmacist, the
        # reconciliation and the circle
        self.named_acks("at the end of the walk-throughs")
        # the GP's list: every step an action or a person did is done;
        # by hand: discharge_letter (the letter), gp_consultation (the GP),
        # discharge_reconciliation (the close), discharge_notice if the
        # pathway has it (heart_failure v1 does not)
        want_done = {"discharge_letter", "gp_consultation", "discharge_reconciliation"}
        if steps_of(case, "discharge_notice"):
            want_done.add("discharge_notice")
        got_done = {s.get("step") for s in case.get("steps", []) if s.get("status") == "done"}
        rc, obj, err = self.c["default"].json("cases")
        row = next((r for r in (obj or {}).get("cases", []) if r.get("patient_ref") == ref), {})
        t.ok(got_done == want_done and row.get("done") == len(want_done)
             and row.get("ack_missing") == 1,
             "cases --json and case show --json agree: the done steps are those done by an "
             "action or a person, 1 named recipient missing",
             f"done in case show: {sorted(got_done)}\nwant {sorted(want_done)}\n"
             f"cases row: {row}\nrc={rc} {harness.clip(err, 800)}")


# ---- the test ------------------------------------------------------------------------------

def play(t, server_args=(), observer=None):
    """Plays the README's walk-throughs (everything main() does): the shape,
    the browser's labels, every ```sh block of RUN_SECTIONS in order and the
    Done-when checks, with a liaisond started with server_args. observer, if
    given, is told what happens: observer.command(section, cmd, out, err, w)
    after each command that ran as written (before the block's own check),
    observer.block(section, index, w, srv) after each block that passed
    (index: the block's number within its section, from 0) — test_web_readme
    drives the browser there."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    README_TEXT[0] = text
    blocks = sh_blocks(text)
    check_shape(t, blocks)
    check_browser_labels(t, text)
    if not harness.require_programs(t):
        raise AssertionError("programs not built")
    m = re.search(r"^export LIAISON_PASSPHRASE='([^']+)'$", text, re.M)
    typed = m.group(1) if m else None
    if typed is None or f"`{typed}`" not in text.split("## Walk-through: an encrypted")[0]:
        raise AssertionError("the first walk-through must tell the reader which passphrase to "
                             "type (the one the later walk-throughs export)")

    # the reader's directory: the clone (docs/examples/...), where the
    # walk-throughs also write their files (lettre.txt, cercle.csv)
    work = tempfile.mkdtemp(prefix="lsn-readme-")
    os.symlink(os.path.join(ROOT, "docs"), os.path.join(work, "docs"))
    try:
        with Server(t, extra_args=list(server_args)) as srv:
            w = Walk(t, srv, work, typed)
            dw = DoneWhen(t, srv, w)
            index = {}
            ended = False
            for section, line, cmds in blocks:
                if section not in RUN_SECTIONS:
                    continue
                if section == BROWSER_SECTION and not ended:
                    # the Done-when checks hold on the terminal's walk-throughs:
                    # in the browser one, Dr Louis Petit acknowledges too
                    ended = True
                    dw.at_end()
                problems = []
                for raw in cmds:
                    if problems:
                        break  # a reader stops at the first command that trips
                    cmd, _ = split_comment(raw)
                    dw.before(section, cmd)
                    problem, rc, out, err = w.run(section, line, raw)
                    if problem:
                        problems.append(f"{problem}\n--- stdout\n{harness.clip(out, 1500)}\n"
                                        f"--- stderr\n{harness.clip(err, 1500)}")
                        continue
                    refused = split_comment(raw)[1].startswith("refused")
                    for check, what in ([] if refused else claims_for(section, cmd)):
                        bad = check(out, err, w)
                        if bad:
                            problems.append(f"{raw!r}: the README says it shows {what}, "
                                            f"but {bad}\n--- stdout\n{harness.clip(out, 1500)}")
                    if observer is not None:
                        observer.command(section, cmd, out, err, w)
                    if not cmd.startswith("export "):
                        dw.after(section, cmd)
                t.ok(not problems, f"README line {line} ({section}): {len(cmds)} command(s) "
                     "run as written", "\n".join(problems))
                if problems:
                    raise AssertionError(f"the walk-through stopped at README line {line}")
                n = index.get(section, 0)
                index[section] = n + 1
                if observer is not None:
                    observer.block(section, n, w, srv)
            if not ended:
                dw.at_end()
            missed = [(c[0], c[1]) for i, c in enumerate(CLAIMS) if i not in CLAIMS_USED]
            if missed:
                raise AssertionError("CLAIMS about commands the README no longer has: "
                                     f"{missed}")
    finally:
        if t.failed or os.environ.get("LSN_KEEP"):
            t.diag(f"kept {work} (the walk-throughs' working directory)")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(t):
    play(t)


if __name__ == "__main__":
    run(main, PLAN)
