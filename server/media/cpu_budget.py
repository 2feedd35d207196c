"""How much of a core this process may use: one core at most (its event loop runs on one),
less when a CPU quota caps it (a container's CPU limit, a cgroup of its own).

A media node reports its CPU as a share of this budget, so a node limited to half a core is
full at 75 % of that half, and placement moves on before its quota throttles it.
"""

from __future__ import annotations

from pathlib import Path


def cpu_budget(
    proc_cgroup: Path = Path("/proc/self/cgroup"), cgroup_root: Path = Path("/sys/fs/cgroup")
) -> float:
    """Cores available to this process's event loop, in (0, 1]: the tightest quota of its
    cgroup and the cgroups above it (cgroup v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``)."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return 1.0
    budget = 1.0
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            budget = min(budget, _tightest(cgroup_root, path, _v2_quota))
        elif "cpu" in controllers.split(","):
            mount = cgroup_root / controllers
            if not mount.is_dir():
                mount = cgroup_root / "cpu"
            budget = min(budget, _tightest(mount, path, _v1_quota))
    return budget


def _tightest(root: Path, path: str, quota: object) -> float:
    assert callable(quota)
    tightest = 1.0
    directory = root / path.strip("/")
    while True:
        cores = quota(directory)
        if cores is not None:
            tightest = min(tightest, cores)
        if directory == root or root not in directory.parents:
            return tightest
        directory = directory.parent


def _v2_quota(directory: Path) -> float | None:
    try:
        limit, period = (directory / "cpu.max").read_text().split()
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        return None


def _v1_quota(directory: Path) -> float | None:
    try:
        limit = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if limit <= 0 or period <= 0 else limit / period
