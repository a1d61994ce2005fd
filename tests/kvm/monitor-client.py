#!/usr/bin/env python3
"""The KVM tier's command-monitor client: two connections at once to
acrn-dm's --cmd_monitor socket, ACRN's undelimited requests and ours, a bad
request answered, query/stats/pause/resume, then destroy.
Usage: monitor-client.py SOCKET. Prints what it checked; exit 0 if all held.
monitor-client.py --events SOCKET registers for VM events and prints each
event line until acrn-dm closes the connection (or 60 s pass)."""
import json
import socket
import sys

problems = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (": " + detail if detail and not ok else ""))
    if not ok:
        problems.append(what)


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.pending = b""

    def ask(self, request, newline=True):
        data = request if isinstance(request, bytes) else json.dumps(request).encode()
        self.sock.sendall(data + (b"\n" if newline else b""))
        while b"\n" not in self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the monitor closed the connection")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)


def main():
    path = sys.argv[1]
    first, second = Client(path), Client(path)
    reply = first.ask({"command": "query", "arguments": ""}, newline=False)  # ACRN's form
    vm = reply.get("vm", {})
    check("query", reply.get("ack") == 0 and vm.get("name") == "vm-monitor" and vm.get("state") == "running"
          and vm.get("vcpus") == 1 and vm.get("memory_mib") == 128, str(reply))
    phases = [p.get("phase") for p in vm.get("boot_phases", [])]
    times = [p.get("ms", -1) for p in vm.get("boot_phases", [])]
    check("the boot phases, in order", phases[:2] == ["acrn-dm started", "options checked"]
          and all(p in phases for p in ["VM created", "VM started", "first console output",
                                        "boot marker on the console"])
          and phases.index("VM created") < phases.index("VM started") < phases.index("first console output")
          and times == sorted(times), str(vm.get("boot_phases")))
    reply = second.ask(b"garbage")
    check("a bad request is answered", reply.get("ack") == -1 and "error" in reply, str(reply))
    reply = second.ask({"command": "stats"})
    stats = reply.get("stats", {})
    check("stats", reply.get("ack") == 0 and stats.get("vcpu_exits", {}).get("io", 0) > 0
          and any(r.get("device") == "com1" and r.get("pio", 0) > 0 for r in stats.get("requests", [])), str(reply))
    check("pause", first.ask({"command": "pause"}).get("ack") == 0)
    reply = second.ask({"command": "query"})
    check("paused", reply.get("vm", {}).get("state") == "paused", str(reply))
    reply = second.ask({"command": "pause"})
    check("pausing twice is refused", reply.get("ack") == -1, str(reply))
    check("resume", first.ask({"command": "resume"}).get("ack") == 0)
    reply = first.ask({"command": "query"})
    check("running again", reply.get("vm", {}).get("state") == "running", str(reply))
    check("destroy", second.ask({"command": "destroy"}).get("ack") == 0)
    return 1 if problems else 0


def events(path):
    client = Client(path)
    client.sock.settimeout(60)
    reply = client.ask({"command": "register_vm_event_client"})
    print("registered: " + json.dumps(reply), flush=True)
    data = client.pending
    while True:
        chunk = client.sock.recv(65536)
        if not chunk:
            break
        data += chunk
    for line in data.split(b"\n"):
        if line.strip():
            print("event: " + json.dumps(json.loads(line), sort_keys=True))
    return 0 if reply.get("ack") == 0 else 1


if __name__ == "__main__":
    try:
        if sys.argv[1] == "--events":
            sys.exit(events(sys.argv[2]))
        sys.exit(main())
    except Exception as error:  # a refused connection, a timeout, bad JSON
        print("FAIL client: %r" % error)
        sys.exit(1)
