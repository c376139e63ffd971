#!/usr/bin/env python3
"""banned.py — no banned C library call in the project's C files, in TAP.

    python3 tests/lint/banned.py                  # the whole tree; exit 1 on a finding
    python3 tests/lint/banned.py FILE.c...        # only these files

Reads every .c and .h file under server/, client/, shared/, schema/, bench/
and tests/ (build trees and hidden folders are skipped), ignores what is in
comments, strings and character constants, and looks for a call of a
banned function (its name followed by an opening parenthesis). The model is curl's
checksrc (its BANNEDFUNC rule). One TAP line per family of banned functions,
each finding as `# file:line: NAME() is banned: why; use what instead`, and
one line for the allow comments; the plan comes first.

strncpy is banned with strcpy: it does not terminate the destination when
the source fills it, pads the rest with zeros, and truncates without saying
so. snprintf (whose return value tells a truncation) or memcpy of a length
checked beforehand say what they do.

A justified exception is allowed by a comment on the same line or on the
line just above, naming the function and saying why:

    /* banned-ok(strtok): the argument is a private copy, and the program
       has a single thread */

An allow comment without a reason, or one that allows nothing (the call was
removed), is itself a finding, so exceptions do not outlive their reason.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FOLDERS = ["server", "client", "shared", "schema", "bench", "tests"]

# (family, why, what instead, names)
FAMILIES = [
    ("unbounded string writes",
     "writes without a bound, or truncates without saying so",
     "snprintf (check its return value) or memcpy of a checked length",
     ["gets", "sprintf", "vsprintf", "strcpy", "stpcpy", "strcat", "strncat",
      "strncpy", "stpncpy", "wcscpy", "wcscat"]),
    ("unchecked number conversions",
     "cannot report an error, and out-of-range input is undefined behaviour",
     "strtol/strtoll/strtoull/strtod with an end pointer and errno, or the wire getters",
     ["atoi", "atol", "atoll", "atof", "scanf", "fscanf", "sscanf", "vscanf",
      "vfscanf", "vsscanf"]),
    ("hidden static state",
     "returns or keeps a static buffer shared by every thread",
     "strtok_r or a hand-written split; gmtime_r/localtime_r with strftime",
     ["strtok", "gmtime", "localtime", "ctime", "asctime", "ctime_r", "asctime_r"]),
    ("predictable random numbers",
     "is predictable (not a cryptographic generator)",
     "randombytes_buf or randombytes_uniform (libsodium)",
     ["rand", "srand", "rand_r", "random", "srandom", "drand48", "erand48",
      "lrand48", "nrand48", "mrand48", "jrand48", "srand48"]),
    ("temporary file races",
     "names a file another process can create first",
     "mkstemp or mkdtemp",
     ["tmpnam", "tmpnam_r", "tempnam", "mktemp"]),
    ("unbounded stack allocation",
     "grows the stack by an unchecked size",
     "a fixed-size array or malloc with a checked size",
     ["alloca"]),
    ("shell commands",
     "runs /bin/sh on a command line",
     "fork and execv with an argument vector",
     ["system", "popen"]),
]
BANNED = {name: (why, instead) for _, why, instead, names in FAMILIES for name in names}
# The scanf family is allowed where every conversion has a width that fits its
# type (a "%4d-%2d-%2d" date): the widest number each integer conversion may
# read, by length modifier.
SCANF = {"scanf", "fscanf", "sscanf", "vscanf", "vfscanf", "vsscanf"}
SCANF_CONV_RE = re.compile(r"%(\*?)(\d*)(hh|h|ll|l|j|z|t|L)?([diouxXaAeEfFgGsScpn%\[])")
_DEC = {"hh": 2, "h": 4, "": 9, "l": 18, "ll": 18, "j": 18, "z": 18, "t": 18}
_HEX = {"hh": 1, "h": 3, "": 7, "l": 15, "ll": 15, "j": 15, "z": 15, "t": 15}
_OCT = {"hh": 2, "h": 5, "": 10, "l": 21, "ll": 21, "j": 21, "z": 21, "t": 21}
# %i also reads "0x..." (two characters more for 4 bits each): one less for long
_ANY = _DEC | {"l": 17, "ll": 17, "j": 17, "z": 17, "t": 17}
INT_WIDTH_MAX = {"d": _DEC, "i": _ANY, "u": _DEC, "x": _HEX, "X": _HEX, "o": _OCT}

# a call: the name, not a member (a.rand, a->rand) nor part of a longer name,
# then "(" (a function-like macro wrapping one is a call too)
USE_RE = re.compile(r"(?<![\w.$])(?<!->)(" + "|".join(sorted(BANNED, key=len, reverse=True)) + r")\s*\(")
ALLOW_RE = re.compile(r"banned-ok\(\s*(\w+)\s*\)\s*:?\s*(.*)", re.DOTALL)
MIN_REASON_WORDS = 3


def source_files():
    out = []
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, folder)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "build")))
            for name in sorted(filenames):
                if name.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    return out


def strip(text):
    """(code, comments): the text with comments, strings and character
    constants blanked (newlines kept, so line numbers hold), and the list of
    (first line, last line, text) of its comments."""
    code, comments = [], []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if text.startswith("/*", i) or text.startswith("//", i):
            block = text[i + 1] == "*"
            end = text.find("*/", i + 2) if block else text.find("\n", i)
            end = n if end < 0 else (end + 2 if block else end)
            body = text[i:end]
            comments.append((line, line + body.count("\n"), body))
            code.append(re.sub(r"[^\n]", " ", body))
            line += body.count("\n")
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if j < n and text[j] == c:
                code.append(c + re.sub(r"[^\n]", " ", text[i + 1:j]) + c)
                i = j + 1
            else:  # unterminated (an apostrophe in an #error line): up to the newline
                code.append(c + " " * (j - i - 1))
                i = j
        else:
            code.append(c)
            line += c == "\n"
            i += 1
    return "".join(code), comments


def scanf_bounded(text, code, paren):
    """True when the scanf-family call whose "(" is at paren has a literal
    format in which every conversion is bounded: a width small enough for its
    type on each number and string, so no input can overflow (an unbounded
    number conversion is undefined behaviour on out-of-range input)."""
    depth, end = 0, paren
    while end < len(code):
        depth += {"(": 1, ")": -1}.get(code[end], 0)
        if depth == 0:
            break
        end += 1
    literals = re.findall(r'"((?:[^"\\\n]|\\.)*)"', text[paren:end])
    if not literals:
        return False  # the format is not a literal: cannot be checked
    fmt = "".join(literals)
    for m in SCANF_CONV_RE.finditer(fmt):
        star, width, size, conv = m.groups()
        if conv in "n%" or star or (conv == "c" and not width):
            continue
        if not width:
            return False
        limits = INT_WIDTH_MAX.get(conv)
        if limits is not None and int(width) > limits.get(size or "", 0):
            return False
    return True


def check_file(path, findings, allow_problems):
    with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
        text = f.read()
    code, comments = strip(text)
    # allow comments: (function, line it covers) -> [comment line, used?]
    allows = {}
    for first, last, body in comments:
        m = ALLOW_RE.search(body)
        if not m:
            continue
        name = m.group(1)
        reason = re.sub(r"\*/\s*$", "", m.group(2)).replace("*", " ").split()
        if name not in BANNED:
            allow_problems.append(f"{path}:{first}: banned-ok({name}): {name} is not a banned function")
            continue
        if len(reason) < MIN_REASON_WORDS:
            allow_problems.append(f"{path}:{first}: banned-ok({name}) without a reason: say why the exception is safe")
            continue
        # covers its own lines and the line after it
        entry = [first, False]
        for covered in range(first, last + 2):
            allows[(name, covered)] = entry
    for m in USE_RE.finditer(code):
        name = m.group(1)
        lineno = code.count("\n", 0, m.start()) + 1
        if name in SCANF and scanf_bounded(text, code, m.end() - 1):
            continue
        entry = allows.get((name, lineno))
        if entry is not None:
            entry[1] = True
            continue
        why, instead = BANNED[name]
        if name in SCANF:
            why += " (here a conversion has no width, too wide a one, or the format is not a literal)"
        findings.setdefault(name, []).append((path, lineno,
            f"{path}:{lineno}: {name}() is banned: it {why}; use {instead} "
            f"(or justify an exception: /* banned-ok({name}): why */)"))
    for (name, _), (first, used) in sorted(allows.items(), key=lambda kv: kv[1][0]):
        msg = f"{path}:{first}: banned-ok({name}) allows nothing: remove it"
        if not used and msg not in allow_problems:
            allow_problems.append(msg)


def main(argv):
    files = [os.path.relpath(os.path.abspath(p), ROOT) for p in argv] or source_files()
    findings, allow_problems = {}, []
    for path in files:
        check_file(path, findings, allow_problems)
    print(f"1..{len(FAMILIES) + 1}")
    failed = 0
    for i, (family, _, _, names) in enumerate(FAMILIES, 1):
        found = [f for name in names for f in findings.get(name, [])]
        if found:
            failed += 1
            print(f"not ok {i} - {family}: {len(found)} call(s) of {', '.join(names)}")
            for _, _, text in sorted(found):
                print(f"# {text}")
        else:
            print(f"ok {i} - {family}: none of {', '.join(names)} in {len(files)} files")
    i = len(FAMILIES) + 1
    if allow_problems:
        failed += 1
        print(f"not ok {i} - allow comments: {len(allow_problems)} problem(s)")
        for p in allow_problems:
            print(f"# {p}")
    else:
        print(f"ok {i} - allow comments: each names a banned function, says why and is used")
    total = sum(len(v) for v in findings.values()) + len(allow_problems)
    print(f"# {total} finding(s) in {len(files)} files")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
