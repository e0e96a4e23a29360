#!/usr/bin/env python3
"""Every message a person sees goes through gettext (issue 14 item 3).

Fails when a fprintf(stderr|stdout, "..."), printf("...") or
fputs("...", stderr|stdout) in common/ and the three tools prints a literal
with words in it that is not wrapped in _().  A literal is fine without _()
when it has no words (only formats and punctuation, "%s: %s\n"), or when it
already carries Chinese beside the English (the bilingual texts of the
status and history views, "下发队列 downward streams:").

The deliberate English ones are in ALLOW below, each with its reason.
Usage: scripts/check-msgs.py [SOURCE_DIR]   (exit 1 and a list when not clean)
"""
import glob
import os
import re
import sys

# (file, regex on the literal's text, why it stays English)
ALLOW = [
    # "ready" and "ready URL" on stdout: machine output, read by the tests,
    # the harness and the packaged units to know the tool is listening.
    ("common/sj_node.c", r"^ready\\n$", "machine output: readiness line"),
    ("village-agent/agent_web.c", r"^ready %s\\n$", "machine output: readiness line"),
    ("township-hub/hub_http.c", r"^ready %s\\n$", "machine output: readiness line"),
    ("county-server/county_cli.c", r"^ready %s\\n$", "machine output: readiness line"),
    # The log sink itself: sj_log lines stay English (grepped, pasted into bug
    # reports); the format has no words anyway.
    ("common/sj_log.c", r".*", "daemon log lines stay English"),
    # Monitoring plugin output (Nagios/Icinga convention: OK/WARNING/... -).
    ("common/sj_health.c", r".*", "machine output: monitoring plugin status line"),
    # A tool built with more commands or options than sj_cli's tables hold:
    # a developer's mistake, stopped at start (never seen by a user).
    ("common/sj_cli.c", r"internal error", "a build mistake, for developers"),
    # SANJI_CRASH test hook (fault suite only, never in production).
    ("common/sj_crash.c", r".*", "test hook for the fault suite"),
]

FILES = ["common/*.c", "village-agent/*.c", "township-hub/*.c", "county-server/*.c"]

LIT = r'"(?:[^"\\]|\\.)*"'
# a literal sequence, possibly with PRIu64-style macros between literals
SEQ = re.compile(r'(' + LIT + r'(?:\s*(?:PRI\w+\s*)?' + LIT + r')*(?:\s*PRI\w+\s*' + LIT + r')*)')
CALL = re.compile(
    r'\b(?:fprintf\s*\(\s*std(?:err|out)\s*,|printf\s*\(|fputs\s*\((?=\s*"[^;]*?,\s*std(?:err|out)\s*\)))\s*')
# the tools' names, the prefix of their messages, are not words to translate
TOOLS = re.compile(r'\b(?:village-agent|township-hub|county-server)\b')
CJK = re.compile(r'[\u4e00-\u9fff]')
FMT = re.compile(r'%[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcsp%]|\\[nrt"\\]|%"\s*PRI\w+\s*"')


def words(text):
    t = TOOLS.sub(' ', FMT.sub(' ', text))
    return re.search(r'[A-Za-z]{2,}', t) is not None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    bad = []
    for pat in FILES:
        for path in sorted(glob.glob(os.path.join(root, pat))):
            rel = os.path.relpath(path, root)
            src = open(path, encoding='utf-8').read()
            for m in CALL.finditer(src):
                rest = src[m.end():]
                if rest.startswith('_(') or rest.startswith('sj_tr('):
                    continue
                s = SEQ.match(rest)
                if not s:
                    continue  # not a literal (a variable, a translated text)
                text = ''.join(re.findall(LIT, s.group(1)))
                text = text.replace('""', '')[1:-1] if text else ''
                if not words(text) or CJK.search(text):
                    continue
                if any(rel == f and re.search(rx, text) for f, rx, _ in ALLOW):
                    continue
                line = src.count('\n', 0, m.start()) + 1
                bad.append(f'{rel}:{line}: not wrapped in _(): "{text[:70]}"')
    for b in bad:
        print(b)
    if bad:
        print(f'{len(bad)} message(s) a person sees are not marked for translation '
              '(wrap in _() or add to ALLOW in scripts/check-msgs.py with the reason)')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
