"""The server's load as the instructor sees it: CPU load, memory and this process's size.

Read from the operating system with the standard library only (``os.getloadavg``,
``/proc/meminfo``, ``/proc/self/status``); where something cannot be read it is None, never an
error. No Streamlit here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServerLoad:
    """One reading of the machine the class runs on."""

    cores: int
    load_1m: float | None  # run-queue length averaged over a minute (os.getloadavg)
    memory_total_mb: float | None
    memory_available_mb: float | None
    process_rss_mb: float | None  # this server process's resident memory

    @property
    def cpu_percent(self) -> float | None:
        """Load over the cores, as a percentage (above 100 means work is waiting for a core)."""
        if self.load_1m is None:
            return None
        return 100.0 * self.load_1m / max(self.cores, 1)

    @property
    def memory_used_percent(self) -> float | None:
        if not self.memory_total_mb or self.memory_available_mb is None:
            return None
        return 100.0 * (1.0 - self.memory_available_mb / self.memory_total_mb)


def _kib_fields(path: Path, names: tuple[str, ...]) -> dict[str, float]:
    """``Name:  1234 kB`` lines of a /proc file, in MB."""
    found: dict[str, float] = {}
    try:
        for line in path.read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in names and rest.split():
                found[name] = float(rest.split()[0]) / 1024.0
    except (OSError, ValueError):
        pass
    return found


def read_load(proc: Path = Path("/proc")) -> ServerLoad:
    """What the machine is doing now."""
    try:
        load_1m: float | None = os.getloadavg()[0]
    except (OSError, AttributeError):
        load_1m = None
    mem = _kib_fields(proc / "meminfo", ("MemTotal", "MemAvailable"))
    me = _kib_fields(proc / "self" / "status", ("VmRSS",))
    return ServerLoad(
        cores=os.cpu_count() or 1,
        load_1m=load_1m,
        memory_total_mb=mem.get("MemTotal"),
        memory_available_mb=mem.get("MemAvailable"),
        process_rss_mb=me.get("VmRSS"),
    )


def describe(load: ServerLoad) -> list[tuple[str, str]]:
    """(label, value) pairs for the console's metrics; "unknown" where the system did not say."""
    cpu = "unknown" if load.cpu_percent is None else f"{load.cpu_percent:.0f}% of {load.cores} cores"
    if load.memory_total_mb is None or load.memory_available_mb is None:
        memory = "unknown"
    else:
        used_gb = (load.memory_total_mb - load.memory_available_mb) / 1024
        memory = f"{used_gb:.1f} of {load.memory_total_mb / 1024:.1f} GB used"
    rss = "unknown" if load.process_rss_mb is None else f"{load.process_rss_mb:.0f} MB"
    return [("Server CPU (1 min load)", cpu), ("Memory", memory), ("This server process", rss)]
