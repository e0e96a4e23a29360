#!/usr/bin/env bash
# Updates po/zh_CN.po from the marked messages (_() and N_()) of the three
# tools and common/: xgettext, then msgmerge. New messages come in
# untranslated (msgstr ""), changed ones fuzzy: translate them, then build
# (msgfmt --check-format runs in the build).
#   scripts/po-update.sh
# xgettext does not expand macros, so a help text that pastes one in (the
# county's S_FILTERS_HELP) is read from a copy with the macro's text put in.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import os, re, sys, glob
out = sys.argv[1]
lit = r'(?:"(?:[^"\\]|\\.)*"\s*)+'
for path in sorted(glob.glob('common/*.c') + glob.glob('village-agent/*.c')
                   + glob.glob('township-hub/*.c') + glob.glob('county-server/*.c')):
    s = open(path, encoding='utf-8').read()
    for m in re.finditer(r'#define (S_\w+_HELP)\s*\\\n((?:\s*"(?:[^"\\]|\\.)*"\s*\\?\n)+)', s):
        text = ' '.join(re.findall(r'"(?:[^"\\]|\\.)*"', m.group(2)))
        s = re.sub(r'\b' + m.group(1) + r'\b(?!\s*\\)', lambda _m: text, s[:m.start()] + '/*' + '*/' + s[m.end():])
    dst = os.path.join(out, path)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    open(dst, 'w', encoding='utf-8').write(s)
PY
(cd "$tmp" && xgettext --from-code=UTF-8 --language=C -k_ -kN_ -ksj_tr -ksj_pt --add-comments=TRANSLATORS: \
    --package-name=sanji --sort-by-file -o messages.pot \
    common/*.c village-agent/*.c township-hub/*.c county-server/*.c)
msgmerge --quiet --update --backup=none --no-fuzzy-matching po/zh_CN.po "$tmp/messages.pot"
msgattrib --no-obsolete -o po/zh_CN.po po/zh_CN.po
msgfmt --check-format --statistics -o /dev/null po/zh_CN.po
