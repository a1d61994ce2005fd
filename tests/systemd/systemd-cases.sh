#!/bin/bash
# The systemd cases (run by systemd-tier.sh in a test host booted with
# systemd as PID 1 on a throwaway copy-on-write root: testhost-run -S). They
# install the build as a package would (cmake --install --prefix /usr) and
# run User VMs the way a Service OS does: acrn-dm@NAME.service from
# /etc/acrn/NAME.args, acrnctl and acrnd, checked through systemctl and
# journalctl. The guest is Debian's kernel with the Linux tier's initramfs
# (tests/guests/linux), whose acpid powers off on the ACPI power button.
# Usage: systemd-cases.sh BUILD_DIR INITRD CASE...
# Prints "systemd-tier: PASS|FAIL CASE" per case; exits 0 if all passed.
# With RESULTS_DIR set, also writes RESULTS_DIR/CASE ("PASS|FAIL SECONDS
# [WHY]") as each case ends.
set -u
usage="usage: systemd-cases.sh BUILD_DIR INITRD CASE..."
BUILD=$(cd "${1:?$usage}" && pwd)
INITRD=${2:?$usage}
shift 2
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
CASES=("$@")
say() { echo "systemd-tier: $*"; }
failed=0
case_start=$SECONDS

source "$(dirname "${BASH_SOURCE[0]}")/../lib/case-verdict.sh"
result() {  # result NAME OK DETAIL [UNIT...]: the units' journals on failure
    local unit
    if ! case_verdict "$1" "$2" "$3"; then
        for unit in "${@:4}"; do
            echo "---- systemctl status $unit"
            systemctl status --no-pager --lines=0 "$unit" 2>&1 | head -n 12
            echo "---- journalctl -u $unit (last 40 lines)"
            journalctl --no-pager -u "$unit" -n 40 -o short-monotonic 2>&1
        done
    fi
}

# These cases change /usr and /etc: only ever on a root that is thrown away.
is_throwaway_systemd_root() {
    [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -e /testhost-command ] &&
        [ "$(findmnt -n -o FSTYPE /)" = overlay ]
}
if ! is_throwaway_systemd_root; then
    for c in "${CASES[@]}"; do
        case_start=$SECONDS
        result "$c" 0 "needs systemd as PID 1 on a throwaway root: run through systemd-tier.sh (testhost-run -S)"
    done
    exit 1
fi

KERNEL=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V | tail -n 1)
installed=
install_build() {
    [ -z "$installed" ] || return 0
    cmake --install "$BUILD" --prefix /usr >/tmp/systemd-cases-install.log 2>&1 || return 1
    systemctl daemon-reload || return 1
    installed=1
}

problem=
prop() { systemctl show -p "$2" --value "$1"; }   # prop UNIT PROPERTY
# The guest's console is the unit's standard output: the journal has it.
console_count() { journalctl --no-pager -q -u "$1" -o cat 2>/dev/null | grep -caF -- "$2"; }
# wait_console UNIT PATTERN COUNT SECONDS: until PATTERN is on the console COUNT times
wait_console() {
    local waited=0
    while [ "$(console_count "$1" "$2")" -lt "$3" ]; do
        [ $waited -ge $(($4 * 2)) ] && return 1
        sleep 0.5
        waited=$((waited + 1))
    done
}
# wait_prop UNIT PROPERTY VALUE SECONDS
wait_prop() {
    local waited=0
    while [ "$(prop "$1" "$2")" != "$3" ]; do
        [ $waited -ge $(($4 * 2)) ] && return 1
        sleep 0.5
        waited=$((waited + 1))
    done
}

# linux_args NAME [LINE...]: /etc/acrn/NAME.args for a Linux UOS whose
# console (COM1 on stdio) goes to the journal and that stays up (shell=1)
# until its power button is pressed. GUEST_ARGS: more for its command line.
linux_args() {
    local name=$1
    shift
    mkdir -p /etc/acrn
    {
        printf '%s\n' "$@"
        printf '%s\n' "-c 1" "-m 256M" "-s 0:0,hostbridge" "-s 1:0,lpc" "-l com1,stdio" \
            "-k $KERNEL" "-r $INITRD" "-B console=ttyS0 quiet panic=-1 shell=1${GUEST_ARGS:+ $GUEST_ARGS}"
    } >"/etc/acrn/$name.args"
}

# One VM through its whole life as a service: systemctl enable/start (READY
# when the guest runs), its log lines in the journal with the VM's name as a
# field, acrnctl list and reset, a SIGKILLed acrn-dm restarted by
# Restart=on-failure, systemctl stop through the ACPI power button within
# the unit's timeout, then acrnctl start and stop driving the same unit.
case_vm_service() {
    local case=vm_service unit=acrn-dm@uos.service problem="" t rc pid new_pid list state
    install_build || { result $case 0 "cmake --install failed: $(tail -n 3 /tmp/systemd-cases-install.log)"; return; }
    linux_args uos
    systemctl enable "$unit" >/dev/null 2>&1
    verify $case enable "$(is "$(systemctl is-enabled "$unit" 2>&1)" enabled)" "systemctl is-enabled: $(systemctl is-enabled "$unit" 2>&1)"

    t=$SECONDS
    timeout 200 systemctl start "$unit"
    rc=$?
    verify $case start "$(is $rc 0)" "systemctl start exited $rc"
    verify $case ready "$(is "$(prop $unit ActiveState)/$(prop $unit SubState)" active/running)" \
        "after systemctl start: $(prop $unit ActiveState)/$(prop $unit SubState)"
    verify $case status_text "$([[ $(prop $unit StatusText) == *"VM 'uos' running"* ]] && echo 1)" \
        "STATUS= is '$(prop $unit StatusText)'"
    verify $case guest_boots "$(wait_console $unit @@ACPID_READY 1 120 && echo 1)" "no @@ACPID_READY from the guest within 120 s of the start"
    say "  $case: started and the guest's acpid is up in $((SECONDS - t)) s"

    verify $case journal_vm_field "$([ "$(journalctl --no-pager -q ACRN_VM=uos -o cat | grep -c "VM 'uos'")" -gt 0 ] && echo 1)" \
        "journalctl ACRN_VM=uos has no line about VM 'uos'"
    verify $case journal_unit_field "$(journalctl --no-pager -q -u $unit -o export | grep -qx 'ACRN_VM=uos' && echo 1)" \
        "journalctl -u $unit has no entry with ACRN_VM=uos"
    verify $case journal_priority "$(journalctl --no-pager -q ACRN_VM=uos -p info -o cat | grep -q . && echo 1)" \
        "journalctl ACRN_VM=uos -p info shows nothing"

    list=$(acrnctl list 2>&1)
    state=$(awk '$1 == "uos" { print $2 }' <<<"$list")
    verify $case acrnctl_list "$(is "$state" running)" "acrnctl list says '${state:-nothing}' for uos: $list"

    pid=$(prop $unit MainPID)
    acrnctl reset uos >/dev/null 2>&1
    rc=$?
    verify $case acrnctl_reset "$(is $rc 0)" "acrnctl reset exited $rc"
    verify $case reset_reboots "$(wait_console $unit @@ACPID_READY 2 120 && echo 1)" "no second @@ACPID_READY within 120 s of acrnctl reset"
    verify $case reset_same_process "$(is "$(prop $unit MainPID)" "$pid")" "MainPID $pid became $(prop $unit MainPID)"

    mkdir -p "/etc/systemd/system/$unit.d"
    printf '[Service]\nRestart=on-failure\nRestartSec=1\n' >"/etc/systemd/system/$unit.d/restart.conf"
    systemctl daemon-reload
    kill -KILL "$pid"
    t=$SECONDS
    while new_pid=$(prop $unit MainPID); [ "$new_pid" = "$pid" ] || [ "$new_pid" = 0 ] ||
        [ "$(prop $unit ActiveState)" != active ]; do
        [ $((SECONDS - t)) -lt 120 ] || break
        sleep 0.5
    done
    verify $case restart_after_sigkill "$([ "$new_pid" != "$pid" ] && [ "$new_pid" != 0 ] && [ "$(prop $unit ActiveState)" = active ] && echo 1)" \
        "after SIGKILL: MainPID $new_pid, $(prop $unit ActiveState)"
    verify $case restart_counted "$(is "$(prop $unit NRestarts)" 1)" "NRestarts is $(prop $unit NRestarts)"
    verify $case restarted_guest_boots "$(wait_console $unit @@ACPID_READY 3 120 && echo 1)" "no @@ACPID_READY within 120 s of the restart"

    t=$SECONDS
    timeout 120 systemctl stop $unit
    rc=$?
    local took=$((SECONDS - t)) timeout_s
    timeout_s=$(systemd-analyze timespan "$(prop $unit TimeoutStopUSec)" | awk 'NR == 2 { print int($2 / 1000000) }')
    verify $case stop "$(is $rc 0)" "systemctl stop exited $rc"
    verify $case stop_inactive "$(is "$(prop $unit ActiveState)/$(prop $unit Result)" inactive/success)" \
        "after systemctl stop: $(prop $unit ActiveState), result $(prop $unit Result)"
    verify $case stop_through_power_button "$(journalctl --no-pager -q -u $unit -o cat | grep -q 'guest entered ACPI S5' && echo 1)" \
        "the journal does not say the guest entered S5 (a hard stop?)"
    verify $case stop_within_timeout "$([ "$took" -lt "$timeout_s" ] && echo 1)" "systemctl stop took $took s (TimeoutStopSec $timeout_s s)"
    say "  $case: systemctl stop took $took s"

    acrnctl start uos >/dev/null 2>&1
    rc=$?
    verify $case acrnctl_start "$(is "$rc/$(prop $unit ActiveState)" 0/active)" "acrnctl start exited $rc; the unit is $(prop $unit ActiveState)"
    verify $case acrnctl_start_boots "$(wait_console $unit @@ACPID_READY 4 120 && echo 1)" "no @@ACPID_READY within 120 s of acrnctl start"
    acrnctl stop uos >/dev/null 2>&1
    rc=$?
    wait_prop $unit ActiveState inactive 30
    verify $case acrnctl_stop "$(is "$rc/$(prop $unit ActiveState)/$(prop $unit Result)" 0/inactive/success)" \
        "acrnctl stop exited $rc; the unit is $(prop $unit ActiveState), result $(prop $unit Result)"
    verify $case acrnctl_stop_through_power_button \
        "$(is "$(journalctl --no-pager -q -u $unit -o cat | grep -c 'guest entered ACPI S5')" 2)" \
        "the journal does not say the guest entered S5 a second time"
    result $case "$([ -z "$problem" ] && echo 1)" "$problem" $unit
}

# acrnd at boot: a VM marked "#acrnd: autostart restart" is started through
# its unit and gets Restart=on-failure; an unmarked one is left alone. Then
# ACRN's timer list with a stock Linux guest: it sets its RTC alarm 8 s
# ahead and powers off (acrn.wake_off=8, as rtcwake -m off does); the unit
# ends cleanly (not restarted), acrn-dm leaves the alarm in
# /var/lib/acrn/wake, and acrnd starts the unit again at that time, where
# the guest (its args file no longer asking for wake_off) boots.
case_acrnd_autostart() {
    local case=acrnd_autostart problem="" unit=acrn-dm@auto.service alarm started
    install_build || { result $case 0 "cmake --install failed: $(tail -n 3 /tmp/systemd-cases-install.log)"; return; }
    GUEST_ARGS=acrn.wake_off=8 linux_args auto "#acrnd: autostart restart"
    linux_args manual
    rm -f /var/lib/acrn/wake/auto
    systemctl enable acrnd.service >/dev/null 2>&1
    timeout 60 systemctl start acrnd.service
    verify $case acrnd_runs "$(is "$(prop acrnd.service ActiveState)/$(prop acrnd.service Result)" active/success)" \
        "acrnd.service: $(prop acrnd.service ActiveState), $(prop acrnd.service Result)"
    verify $case autostarted "$(wait_prop $unit ActiveState active 200 && echo 1)" "$unit is $(prop $unit ActiveState)"
    verify $case restart_configured "$(is "$(prop $unit Restart)" on-failure)" "Restart is $(prop $unit Restart)"
    verify $case manual_left_alone "$(is "$(prop acrn-dm@manual.service ActiveState)" inactive)" \
        "acrn-dm@manual is $(prop acrn-dm@manual.service ActiveState)"
    verify $case autostarted_guest_boots "$(wait_console $unit @@ACPID_READY 1 120 && echo 1)" "no @@ACPID_READY within 120 s"

    verify $case guest_sets_alarm "$(wait_console $unit @@WAKE_ALARM 1 60 && echo 1)" "no @@WAKE_ALARM from the guest within 60 s"
    verify $case off_with_alarm "$(wait_prop $unit ActiveState inactive 60 && [ -r /var/lib/acrn/wake/auto ] && echo 1)" \
        "$unit is $(prop $unit ActiveState), /var/lib/acrn/wake: $(ls /var/lib/acrn/wake 2>&1 | tr '\n' ' ')"
    alarm=$(head -n 1 /var/lib/acrn/wake/auto 2>/dev/null)
    verify $case alarm_is_the_guests "$(is "$alarm" "$(journalctl --no-pager -q -u $unit -o cat | sed -n 's/.*@@WAKE_ALARM \([0-9]*\).*/\1/p' | tail -n 1)")" \
        "the alarm kept is '$alarm', the guest's wakealarm said otherwise"
    verify $case listed_off "$(acrnctl list 2>&1 | grep -q '^auto  *off  *(until its RTC alarm' && echo 1)" "acrnctl list: $(acrnctl list 2>&1 | tr '\n' ' ')"
    linux_args auto "#acrnd: autostart restart"  # the next boot stays up
    verify $case started_at_alarm "$(wait_prop $unit ActiveState active 60 && echo 1)" "$unit is $(prop $unit ActiveState) 60 s after the power-off"
    started=$(date +%s)
    verify $case not_before_alarm "$([ -n "$alarm" ] && [ "$started" -ge "$alarm" ] && echo 1)" "started at $started, the alarm was at '$alarm'"
    verify $case acrnd_says_why "$(journalctl --no-pager -q -u acrnd.service -o cat | grep -q 'auto: its RTC alarm at .* is due: starting it' && echo 1)" \
        "acrnd's journal does not say it started auto at its alarm"
    verify $case alarm_gone "$([ ! -e /var/lib/acrn/wake/auto ] && echo 1)" "/var/lib/acrn/wake/auto is still there"
    verify $case woken_guest_boots "$(wait_console $unit @@ACPID_READY 2 120 && echo 1)" "no second @@ACPID_READY within 120 s"
    timeout 120 systemctl stop $unit
    verify $case stop "$(is "$(prop $unit ActiveState)" inactive)" "after systemctl stop: $(prop $unit ActiveState)"
    result $case "$([ -z "$problem" ] && echo 1)" "$problem" acrnd.service $unit
}

# The Debian package (ACRN_TEST_DEB, built by scripts/package --check) on
# this root, which has every dependency already: apt installs it offline;
# the programs, man pages and units are where they belong, acrnd is
# enabled, and the example VM it ships boots through acrn-dm@demo (Debian's
# kernel and initramfs, /vmlinuz and /initrd.img: with no root= that
# initramfs stops at its own shell, where the VM is stopped with -f, as it
# has no acpid to answer the power button). man-db's trigger is skipped:
# indexing every man page takes minutes under TCG.
case_deb_package() {
    local case=deb_package problem="" unit=acrn-dm@demo.service deb=${ACRN_TEST_DEB:-} version rc
    if [ -z "$deb" ] || [ ! -r "$deb" ]; then
        result $case 0 "no package to check (ACRN_TEST_DEB='$deb'): scripts/package --check builds one and runs this case"
        return
    fi
    rm -f /var/lib/man-db/auto-update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >/tmp/deb-install.log 2>&1
    rc=$?
    verify $case apt_install "$(is $rc 0)" "apt-get install exited $rc: $(tail -n 2 /tmp/deb-install.log | tr '\n' ' ')"
    version=$(dpkg-query -W -f='${Version}' acrn-dm 2>/dev/null)
    verify $case installed "$([ -n "$version" ] && echo 1)" "dpkg does not know acrn-dm"
    verify $case dm_version "$([ -n "$version" ] && [[ $(/usr/bin/acrn-dm --version 2>&1) == *"$version"* ]] && echo 1)" \
        "acrn-dm --version says '$(/usr/bin/acrn-dm --version 2>&1 | head -n 1)', the package is $version"
    verify $case man_acrn_dm "$(MANPAGER=cat man acrn-dm 2>/dev/null | grep -q -- '--cmd_monitor' && echo 1)" "man acrn-dm shows no page with --cmd_monitor"
    verify $case man_acrnctl "$(MANPAGER=cat man 8 acrnctl 2>/dev/null | grep -q 'blkrescan' && echo 1)" "man 8 acrnctl shows no page with blkrescan"
    verify $case acrnd_enabled "$(is "$(systemctl is-enabled acrnd.service 2>&1)" enabled)" "acrnd.service is $(systemctl is-enabled acrnd.service 2>&1)"
    verify $case units_verify "$(systemd-analyze verify /usr/lib/systemd/system/acrn-dm@.service /usr/lib/systemd/system/acrnd.service >/tmp/deb-verify.log 2>&1 && echo 1)" \
        "systemd-analyze verify: $(head -n 2 /tmp/deb-verify.log | tr '\n' ' ')"
    mkdir -p /etc/acrn
    cp /usr/share/doc/acrn-dm/examples/demo.args /etc/acrn/demo.args
    timeout 200 systemctl start $unit
    rc=$?
    verify $case demo_start "$(is "$rc/$(prop $unit ActiveState)" 0/active)" "systemctl start exited $rc; the unit is $(prop $unit ActiveState)"
    verify $case demo_guest_runs "$(wait_console $unit 'No root device specified' 1 120 && echo 1)" \
        "the demo guest's initramfs did not say 'No root device specified' within 120 s"
    acrnctl stop -f demo >/dev/null 2>&1
    verify $case demo_stop "$(wait_prop $unit ActiveState inactive 30 && echo 1)" "after acrnctl stop -f: $(prop $unit ActiveState)"
    result $case "$([ -z "$problem" ] && echo 1)" "$problem" $unit
}

# A guest that suspends itself (S3) as a service: STATUS= and acrnctl list
# say so, acrnctl resume wakes it, and when it suspends again (woken, its
# init script does not suspend twice: a second boot, by acrnctl reset,
# does) systemctl stop ends it at once, though it sees no power button.
case_suspended_service() {
    local case=suspended_service problem="" unit=acrn-dm@sleeper.service t took
    install_build || { result $case 0 "cmake --install failed: $(tail -n 3 /tmp/systemd-cases-install.log)"; return; }
    GUEST_ARGS=acrn.suspend=1 linux_args sleeper
    timeout 200 systemctl start $unit
    verify $case suspends "$(wait_prop $unit StatusText "VM 'sleeper' suspended (S3)" 120 && echo 1)" \
        "STATUS= is '$(prop $unit StatusText)'"
    verify $case acrnctl_list "$(is "$(acrnctl list 2>&1 | awk '$1 == "sleeper" { print $2 }')" suspended)" \
        "acrnctl list: $(acrnctl list 2>&1 | grep sleeper)"
    acrnctl resume sleeper >/dev/null 2>&1
    verify $case acrnctl_resume "$(wait_console $unit '@@RESUMED 0' 1 60 && echo 1)" "no @@RESUMED 0 within 60 s of acrnctl resume"
    verify $case running_again "$(wait_prop $unit StatusText "VM 'sleeper' running" 10 && echo 1)" \
        "STATUS= is '$(prop $unit StatusText)'"
    acrnctl reset sleeper >/dev/null 2>&1
    verify $case suspends_again "$(wait_prop $unit StatusText "VM 'sleeper' suspended (S3)" 120 && echo 1)" \
        "after acrnctl reset, STATUS= is '$(prop $unit StatusText)'"
    t=$SECONDS
    timeout 120 systemctl stop $unit
    took=$((SECONDS - t))
    verify $case stop "$(is "$(prop $unit ActiveState)/$(prop $unit Result)" inactive/success)" \
        "after systemctl stop: $(prop $unit ActiveState), result $(prop $unit Result)"
    verify $case stopped_at_once "$([ "$took" -lt 30 ] && journalctl --no-pager -q -u $unit -o cat | grep -q 'the guest is suspended (S3): stopping the VM' && echo 1)" \
        "systemctl stop took $took s, or the journal does not say the suspended VM was stopped"
    result $case "$([ -z "$problem" ] && echo 1)" "$problem" $unit
}

[ -c /dev/kvm ] || { say "FAIL ${CASES[*]}: no /dev/kvm in the test host"; exit 1; }
for c in "${CASES[@]}"; do
    case_start=$SECONDS
    if declare -F "case_$c" >/dev/null; then
        "case_$c"
    else
        result "$c" 0 "no such case"
    fi
done
[ "$failed" -eq 0 ]
