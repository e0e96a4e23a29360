#!/usr/bin/env bash
# Do the three Debian packages hold the right files with the right modes, mark
# their configs as conffiles, document every option and config key, carry
# systemd units that systemd-analyze accepts, and pass lintian without errors?
#
# usage: test_packages.sh BUILD_DIR SOURCE_DIR CPACK HAVE_MAN(ON|OFF) SANITIZE(0|1)
#                         [HARDENED(0|1) BUILD_TYPE]
# With HARDENED=1 (SANJI_HARDEN, the default), any lintian hardening-* tag
# fails (hardening-no-fortify-functions is allowed in a Debug build only:
# _FORTIFY_SOURCE needs optimisation).
# Run by ctest (test_packages, label integration). Exit 0 pass, 1 fail,
# 77 skipped (a tool is missing, or a sanitizer build).
set -euo pipefail

build=$1 src=$2 cpack=$3 have_man=$4 sanitize=${5:-0} hardened=${6:-0} build_type=${7:-}
roles=(village-agent township-hub county-server)
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
skip() {
    echo "SKIP: $*"
    exit 77
}

if [[ $sanitize == 1 ]]; then
    skip "packages are made from a normal build, not a sanitizer build"
fi
for tool in dpkg-deb dpkg-shlibdeps lintian; do
    command -v "$tool" >/dev/null \
        || skip "$tool not found (scripts/deps.sh installs dpkg-dev and lintian)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- build the packages --------------------------------------------------
echo "== cpack -G DEB"
if ! "$cpack" -G DEB -B "$tmp/out" --config "$build/CPackConfig.cmake" >"$tmp/cpack.log" 2>&1; then
    cat "$tmp/cpack.log" >&2
    echo "FAIL: cpack -G DEB failed" >&2
    exit 1
fi
grep 'package:' "$tmp/cpack.log" || true

# Does systemd-analyze verify work here at all (it needs no running systemd)?
sd_verify=0
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$tmp/probe"
    printf '[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n' >"$tmp/probe/probe.service"
    if probe=$(cd "$tmp/probe" && systemd-analyze --man=no verify ./probe.service 2>&1) \
        && [[ -z $probe ]]; then
        sd_verify=1
    else
        echo "NOTE: systemd-analyze verify does not work here, units not verified: $probe"
    fi
else
    echo "NOTE: systemd-analyze not found (package systemd), units not verified"
fi
if [[ $have_man != ON ]]; then
    echo "NOTE: scdoc was not found at configure time, so there are no manual pages to check"
fi

# mode_is PATH MODE: PATH exists with this octal mode.
mode_is() {
    if [[ ! -e $1 ]]; then
        fail "missing: ${1#"$tmp"/}"
    elif [[ $(stat -c %a "$1") != "$2" ]]; then
        fail "${1#"$tmp"/}: mode $(stat -c %a "$1"), expected $2"
    fi
}

for role in "${roles[@]}"; do
    pkg=sanji-$role
    echo "== $pkg"
    debs=("$tmp/out/${pkg}_"*.deb)
    if [[ ${#debs[@]} != 1 || ! -f ${debs[0]} ]]; then
        fail "$pkg: expected one .deb in the cpack output"
        continue
    fi
    deb=${debs[0]}
    stage=$tmp/stage/$role
    ctl=$tmp/control/$role
    dpkg-deb --info "$deb"
    mkdir -p "$stage" "$(dirname "$ctl")"
    dpkg-deb -x "$deb" "$stage"
    dpkg-deb -e "$deb" "$ctl"

    # -- control fields
    [[ $(dpkg-deb -f "$deb" Package) == "$pkg" ]] || fail "$pkg: Package field"
    depends=$(dpkg-deb -f "$deb" Depends)
    want=(adduser libc6 libzmq5 libsqlite3-0 libsodium23 libprotobuf-c1)
    if [[ $role != village-agent ]]; then
        want+=(procps) # /bin/kill for ExecReload
    fi
    for dep in "${want[@]}"; do
        [[ $depends == *"$dep"* ]] || fail "$pkg: Depends lacks $dep: $depends"
    done

    # -- layout and modes (everything owned by root in the archive)
    mode_is "$stage/usr/bin/$role" 755
    mode_is "$stage/etc/sanji/$role.conf" 644
    mode_is "$stage/lib/systemd/system/$pkg.service" 644
    mode_is "$stage/usr/share/doc/$pkg/copyright" 644
    mode_is "$stage/usr/share/doc/$pkg/changelog.gz" 644
    if [[ $have_man == ON ]]; then
        mode_is "$stage/usr/share/man/man1/$role.1.gz" 644
    fi
    not_root=$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')
    [[ -z $not_root ]] || fail "$pkg: files not owned by root: $not_root"
    for f in "$stage/usr/share/doc/$pkg/changelog.gz" "$stage/usr/share/man/man1/$role.1.gz"; do
        [[ ! -e $f ]] || gzip -t "$f" || fail "$pkg: ${f#"$stage"} is not valid gzip"
    done
    "$stage/usr/bin/$role" --help >/dev/null || fail "$pkg: the packaged binary does not run"
    # -- its Chinese catalogue (one per tool: the packages never share a file)
    mode_is "$stage/usr/share/locale/zh_CN/LC_MESSAGES/$role.mo" 644
    # (read the whole help first: grep -q would stop reading at its match and
    # the tool's next write, under pipefail, would fail the pipeline)
    zh_help=$(env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=zh_CN.UTF-8 \
        SANJI_LOCALEDIR="$stage/usr/share/locale" "$stage/usr/bin/$role" --help || true)
    grep -q '命令：' <<<"$zh_help" \
        || fail "$pkg: the packaged binary does not speak Chinese with its catalogue"

    # -- conffiles: every file under /etc, and nothing else
    etc_files=$(cd "$stage" && find etc -type f -printf '/%p\n' | sort)
    conffiles=$(sort "$ctl/conffiles" 2>/dev/null || true)
    [[ $etc_files == "$conffiles" ]] \
        || fail "$pkg: conffiles ($conffiles) differ from the files in /etc ($etc_files)"

    # -- maintainer scripts
    for s in postinst prerm postrm; do
        mode_is "$ctl/$s" 755
        [[ -f $ctl/$s ]] && { sh -n "$ctl/$s" || fail "$pkg: $s: syntax error"; }
    done
    grep -q "adduser --system" "$ctl/postinst" || fail "$pkg: postinst does not create the user"
    grep -q "keygen" "$ctl/postinst" || fail "$pkg: postinst does not make the key pair"

    # -- options and commands: every one in --help is in the manual page
    help=$("$stage/usr/bin/$role" --help)
    commands=$(sed -n '/^commands:/,/^$/p' <<<"$help" | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u)
    options=$(
        {
            echo "$help"
            for c in $commands; do "$stage/usr/bin/$role" "$c" --help 2>/dev/null || true; done
        } | grep -o -- '--[a-z][a-z-]*' | sort -u
    )
    scd=$src/packaging/man/$role.1.scd
    for c in $commands; do
        grep -q -- "^\*$c\*" "$scd" || fail "$pkg: command '$c' is not described in ${scd#"$src"/}"
    done
    for o in $options; do
        grep -q -- "\*$o\*" "$scd" || fail "$pkg: option $o is not described in ${scd#"$src"/}"
    done

    # -- config keys: which long options does the tool accept in a config file?
    # A bogus key gives the "unknown key" answer; any other answer means the
    # option is a key, which the shipped config, the manual page and
    # packaging/CONFIG.md must document.
    probe_key() { # KEY -> the tool's answer, with KEY replaced by @
        printf '[%s]\n%s = x\n' "$role" "$1" >"$tmp/key.conf"
        "$stage/usr/bin/$role" --config "$tmp/key.conf" sanji-no-such-command 2>&1 \
            | sed "s/'$1'/'@'/g" || true
    }
    unknown=$(probe_key sanji-bogus-key)
    [[ $unknown == *"'@'"* ]] || fail "$pkg: a bogus config key was not refused: $unknown"
    conf=$stage/etc/sanji/$role.conf
    keys=()
    for o in $options; do
        k=${o#--}
        [[ $(probe_key "$k") == "$unknown" ]] && continue
        keys+=("$k")
        grep -Eq "^#?$k = " "$conf" || fail "$pkg: config key '$k' is not in /etc/sanji/$role.conf"
        grep -q -- "^\*$k\* = " "$scd" || fail "$pkg: config key '$k' is not in ${scd#"$src"/}"
        grep -qF -- "| \`$k\` | \`--$k\` |" "$src/packaging/CONFIG.md" \
            || fail "$pkg: config key '$k' is not in packaging/CONFIG.md"
    done
    echo "config keys: ${keys[*]}"

    # The shipped config with every example uncommented is accepted.
    sed -E -e 's/^#([a-z-]+ = )/\1/' -e "s|^data = .*|data = $tmp/data-$role|" "$conf" \
        >"$tmp/all.conf"
    out=$("$stage/usr/bin/$role" --config "$tmp/all.conf" sanji-no-such-command 2>&1 || true)
    [[ $out != *"all.conf"* ]] || fail "$pkg: the example config, uncommented, is refused: $out"
    [[ $out == *"sanji-no-such-command"* ]] || fail "$pkg: unexpected answer to the example config: $out"

    # -- systemd units: the role's own, and any other the package ships
    unit=$stage/lib/systemd/system/$pkg.service
    grep -qx -- "ExecStart=/usr/bin/$role run --config /etc/sanji/$role.conf" "$unit" \
        || fail "$pkg: $pkg.service does not run '$role run --config /etc/sanji/$role.conf'"
    if [[ $role != village-agent ]]; then
        # shellcheck disable=SC2016 # $MAINPID is systemd's, not the shell's
        grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit" \
            || fail "$pkg: $pkg.service lacks ExecReload (SIGHUP re-reads the allowlist)"
    fi
    for u in "$stage"/lib/systemd/system/*.service; do
        name=$(basename "$u")
        for line in "User=sanji" "Restart=on-failure" \
            "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
            "PrivateDevices=yes" "ProtectKernelTunables=yes" "ProtectKernelModules=yes" \
            "ProtectControlGroups=yes" "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK" \
            "LockPersonality=yes" "MemoryDenyWriteExecute=yes"; do
            grep -qx -- "$line" "$u" || fail "$pkg: $name lacks '$line'"
        done
        # Issue 18: a usage error does not loop, enough descriptors, the group
        # reads but never writes.
        for line in "RestartPreventExitStatus=2" "LimitNOFILE=65536" "UMask=0027"; do
            grep -qx -- "$line" "$u" || fail "$pkg: $name lacks '$line'"
        done
        if [[ $name == *dashboard* ]]; then
            # read-only state, and never the secret key
            for line in "ReadOnlyPaths=/var/lib/sanji/$role" \
                "InaccessiblePaths=-/var/lib/sanji/$role/curve.key"; do
                grep -qx -- "$line" "$u" || fail "$pkg: $name lacks '$line'"
            done
            ! grep -q '^StateDirectory' "$u" || fail "$pkg: $name makes the state directory writable"
        else
            for line in "StateDirectory=sanji/$role" "StateDirectoryMode=2750"; do
                grep -qx -- "$line" "$u" || fail "$pkg: $name lacks '$line'"
            done
        fi
        grep -q -- "--config /etc/sanji/$role.conf\$" "$u" \
            || fail "$pkg: $name does not read /etc/sanji/$role.conf"
        grep -q -- "$name" "$ctl/postinst" || fail "$pkg: postinst does not handle $name"
        if ((sd_verify)); then
            # Verified as installed, except that the binary is the staged one;
            # all of the package's units side by side (a dashboard Requires=
            # its daemon's unit).
            mkdir -p "$tmp/units/$role"
            for v in "$stage"/lib/systemd/system/*.service; do
                sed "s|/usr/bin/$role|$stage/usr/bin/$role|" "$v" >"$tmp/units/$role/$(basename "$v")"
            done
            man_opt=(--man=no)
            if [[ $have_man == ON ]]; then
                man_opt=(--man=yes)
            fi
            if ! out=$(cd "$tmp/units/$role" \
                && MANPATH=$stage/usr/share/man systemd-analyze "${man_opt[@]}" verify "./$name" 2>&1) \
                || [[ -n $out ]]; then
                fail "$pkg: systemd-analyze verify $name: $out"
            else
                echo "systemd-analyze verify $name: ok"
            fi
        fi
    done

    # -- manual page renders
    page=$stage/usr/share/man/man1/$role.1.gz
    if [[ $have_man == ON && -f $page ]] && command -v man >/dev/null; then
        rendered=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>"$tmp/man.err") \
            || fail "$pkg: man -l $role.1.gz failed"
        [[ $rendered == *"EXIT STATUS"* ]] || fail "$pkg: man -l $role.1.gz rendered nothing useful"
        if [[ -s $tmp/man.err ]]; then
            fail "$pkg: man warnings: $(cat "$tmp/man.err")"
        fi
    fi

    # -- lintian: errors fail, warnings are listed; in a hardened build any
    # hardening-* tag (shown at every level, -I) fails too
    lintian --tag-display-limit 0 -I "$deb" >"$tmp/lintian.txt" 2>&1 || true
    grep -v 'running with root privileges' "$tmp/lintian.txt" || true
    if grep -q '^E:' "$tmp/lintian.txt"; then
        fail "$pkg: lintian errors: $(grep '^E:' "$tmp/lintian.txt" | tr '\n' ' ')"
    fi
    hardening=$(grep -E '^[EWIPX]: [^ ]+: hardening-' "$tmp/lintian.txt" || true)
    if [[ $build_type == Debug ]]; then
        hardening=$(grep -v 'hardening-no-fortify-functions' <<<"$hardening" || true)
    fi
    if [[ $hardened != 1 ]]; then
        echo "NOTE: not a hardened build (SANJI_HARDEN=OFF): hardening tags not checked"
    elif [[ -n $hardening ]]; then
        fail "$pkg: lintian hardening tags: $(tr '\n' ' ' <<<"$hardening")"
    else
        echo "lintian $pkg: no hardening tag ($build_type build)"
    fi
    echo "lintian $pkg: $(grep -c '^E:' "$tmp/lintian.txt" || true) errors," \
        "$(grep -c '^W:' "$tmp/lintian.txt" || true) warnings"
done

if ((failures)); then
    echo "test_packages: $failures failures" >&2
    exit 1
fi
echo "test_packages: all checks passed"
