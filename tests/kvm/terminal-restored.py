#!/usr/bin/env python3
"""acrn-dm with `-l com1,stdio` on a real terminal (a pty): while the VM
runs the terminal is raw; after SIGTERM, SIGINT or Ctrl-A x it is exactly
as before, and stdin is blocking again.
Usage: terminal-restored.py ACRN_DM GUEST_ELF"""
import fcntl, os, pty, signal, subprocess, sys, termios, time

dm, guest = sys.argv[1], sys.argv[2]
failures = []

def run(how):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen([dm, "-m", "128M", "-s", "0:0,hostbridge", "-s", "1:0,lpc", "-l", "com1,stdio",
                             "-E", guest, "vm-tty"], stdin=slave, stdout=slave, stderr=subprocess.DEVNULL)
    seen, deadline = b"", time.time() + 60
    while b"spinning" not in seen and time.time() < deadline and proc.poll() is None:
        try:
            os.set_blocking(master, False)
            seen += os.read(master, 4096)
        except BlockingIOError:
            time.sleep(0.05)
    raw = termios.tcgetattr(slave)
    if how == "ctrl-a x":
        os.write(master, b"\x01x")
    else:
        proc.send_signal(how)
    try:
        rc = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "hung"
    after = termios.tcgetattr(slave)
    blocking = not (fcntl.fcntl(slave, fcntl.F_GETFL) & os.O_NONBLOCK)
    name = how if isinstance(how, str) else signal.Signals(how).name
    if b"spinning" not in seen:
        failures.append(f"{name}: the guest never ran")
    elif raw[3] & termios.ICANON or raw[3] & termios.ECHO:
        failures.append(f"{name}: the terminal was not raw while the VM ran")
    elif rc != 0:
        failures.append(f"{name}: acrn-dm exited {rc}, expected 0")
    elif after != before:
        failures.append(f"{name}: terminal settings not restored")
    elif not blocking:
        failures.append(f"{name}: stdin left non-blocking")
    os.close(master)
    os.close(slave)

for how in (signal.SIGTERM, signal.SIGINT, "ctrl-a x"):
    run(how)
for failure in failures:
    print("terminal-restored:", failure)
sys.exit(1 if failures else 0)
