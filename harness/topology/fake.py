"""An in-memory ContainerBackend for tests: records calls, holds container states."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.topology.backend import RESOURCE_FIELDS, ContainerInfo

# what a fresh cgroup v1 reads when nothing is limited (PAGE_COUNTER_MAX pages of 4 KiB)
UNLIMITED_BYTES = 9223372036854771712


@dataclass
class FakeContainerBackend:
    """Containers and networks kept in dicts; every call is appended to `calls`."""

    containers: dict[str, ContainerInfo] = field(default_factory=dict)
    networks: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_pause: bool = False
    ips: dict[str, str] = field(default_factory=dict)
    rules: dict[str, list[str]] = field(default_factory=dict)  # container -> iptables rules (-A form)
    reachable: dict[tuple[str, str], bool] = field(default_factory=dict)  # (container, ip) -> reachable
    ignore_iptables: bool = False  # simulate a kernel that silently ignores the rules
    mounts: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # container -> (source, target, opts)
    mntns_outputs: dict[str, tuple[int, str]] = field(default_factory=dict)  # argv[0] -> scripted (code, output)
    detached: list[tuple[str, list[str]]] = field(default_factory=list)  # (container, argv) started detached
    resource_settings: dict[str, dict[str, int]] = field(default_factory=dict)  # container -> HostConfig subset
    cgroup_files: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (container, ctrl, file) -> text
    published: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # container -> published ports

    def add(self, name: str, labels: dict[str, str], status: str = "running") -> None:
        """Register a container."""
        self.containers[name] = ContainerInfo(name, name, status, labels)

    def _set(self, name: str, status: str) -> None:
        info = self.containers[name]
        self.containers[name] = ContainerInfo(info.id, info.name, status, info.labels)

    def pause(self, name: str) -> None:
        """Mark paused (or pretend it silently did nothing when `fail_pause`)."""
        self.calls.append(("pause", name))
        if not self.fail_pause:
            self._set(name, "paused")

    def unpause(self, name: str) -> None:
        """Mark running."""
        self.calls.append(("unpause", name))
        self._set(name, "running")

    def kill(self, name: str) -> None:
        """Mark exited."""
        self.calls.append(("kill", name))
        self._set(name, "exited")

    def start(self, name: str) -> None:
        """Mark running."""
        self.calls.append(("start", name))
        self._set(name, "running")

    def status(self, name: str) -> str:
        """Status or 'missing'."""
        return self.containers[name].status if name in self.containers else "missing"

    def list_containers(self, labels: dict[str, str]) -> list[ContainerInfo]:
        """Containers with all labels (an empty value matches any)."""
        return [
            c
            for c in self.containers.values()
            if all(k in c.labels and (not v or c.labels[k] == v) for k, v in labels.items())
        ]

    def remove_container(self, container_id: str) -> None:
        """Forget a container."""
        self.calls.append(("remove", container_id))
        self.containers.pop(container_id, None)

    def list_networks(self, labels: dict[str, str]) -> list[str]:
        """Networks with all labels."""
        return [
            n for n, lab in self.networks.items() if all(k in lab and (not v or lab[k] == v) for k, v in labels.items())
        ]

    def remove_network(self, network_id: str) -> None:
        """Forget a network."""
        self.calls.append(("remove_network", network_id))
        self.networks.pop(network_id, None)

    def ip_address(self, name: str) -> str:
        """The IP registered for `name`."""
        return self.ips[name]

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """Probes from `name` fail while a DROP rule is in place there (unless iptables is 'ignored')."""
        self.calls.append(("exec", name))
        blocked = any("-j DROP" in r for r in self.rules.get(name, [])) and not self.ignore_iptables
        return (7, "connection timed out") if blocked else (0, "ok")

    def netns_exec(self, name: str, argv: list[str]) -> tuple[int, str]:
        """A tiny iptables: -I/-A add, -D delete, -S list."""
        self.calls.append(("netns_exec", name))
        rules = self.rules.setdefault(name, [])
        args = [a for a in argv if a != "-w"]
        if args[:1] != ["iptables"]:
            return 127, "only iptables is faked"
        op, rest = args[1], " ".join(args[2:])
        if op in ("-I", "-A"):
            rules.append(f"-A {rest}")
            return 0, ""
        if op == "-D":
            if f"-A {rest}" in rules:
                rules.remove(f"-A {rest}")
                return 0, ""
            return 1, "Bad rule (does a matching rule exist in that chain?)"
        if op == "-S":
            return 0, "\n".join(["-P INPUT ACCEPT", "-P OUTPUT ACCEPT", *rules])
        return 2, f"unsupported {op}"

    def stop(self, name: str, timeout_s: float = 10.0) -> None:
        """Mark exited."""
        self.calls.append(("stop", name))
        self._set(name, "exited")

    def exec_detached(self, name: str, argv: list[str]) -> None:
        """Record the process; nothing runs."""
        self.calls.append(("exec_detached", name))
        self.detached.append((name, list(argv)))

    def mntns_exec(self, name: str, argv: list[str]) -> tuple[int, str]:
        """A tiny mount table: `mount -t T -o O SRC DST`, `umount [-l] DST`, `cat /proc/mounts`; other commands
        answer from `mntns_outputs` by program name (default: success, no output)."""
        self.calls.append(("mntns_exec", name))
        table = self.mounts.setdefault(name, [])
        if argv[:1] == ["mount"] and "-o" in argv:
            table.append((argv[-2], argv[-1], argv[argv.index("-o") + 1]))
            return 0, ""
        if argv[:1] == ["umount"]:
            for i in range(len(table) - 1, -1, -1):  # the topmost mount on that path goes first
                if table[i][1] == argv[-1]:
                    del table[i]
                    return 0, ""
            return 32, f"umount: {argv[-1]}: not mounted."
        if argv == ["cat", "/proc/mounts"]:
            lines = ["overlay / overlay rw 0 0", *(f"{src} {dst} tmpfs {opts} 0 0" for src, dst, opts in table)]
            return 0, "\n".join(lines) + "\n"
        return self.mntns_outputs.get(argv[0], (0, ""))

    def resources(self, name: str) -> dict[str, int]:
        """Settings recorded for the container (0 = not set, as Docker reports an unlimited container)."""
        return {key: self.resource_settings.get(name, {}).get(key, 0) for key in RESOURCE_FIELDS}

    def update_resources(self, name: str, **fields: int) -> None:
        """Record the settings and mirror them into the cgroup files the kernel would show."""
        self.calls.append(("update_resources", name))
        self.resource_settings.setdefault(name, {}).update(fields)
        files = {
            "Memory": ("memory", "memory.limit_in_bytes"),
            "MemorySwap": ("memory", "memory.memsw.limit_in_bytes"),
            "CpuQuota": ("cpu", "cpu.cfs_quota_us"),
            "CpuPeriod": ("cpu", "cpu.cfs_period_us"),
        }
        for key, value in fields.items():
            if key in files:
                self.cgroup_files[(name, *files[key])] = f"{value}\n"
        if "NanoCpus" in fields:
            period = int(self.cgroup_files.get((name, "cpu", "cpu.cfs_period_us"), "100000"))
            self.cgroup_files[(name, "cpu", "cpu.cfs_quota_us")] = f"{fields['NanoCpus'] * period // 10**9}\n"

    def cgroup_read(self, name: str, controller: str, filename: str) -> str:
        """The scripted cgroup file (KeyError when a test did not set it)."""
        return self.cgroup_files[(name, controller, filename)]

    def ports(self, name: str) -> dict[str, list[str]]:
        """Published ports recorded for the container."""
        return self.published.get(name, {})
