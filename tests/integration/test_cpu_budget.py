"""What share of a core a media node may use, read from its cgroup's CPU quota."""

from __future__ import annotations

from pathlib import Path

from server.media.cluster import LoadMeter
from server.media.cpu_budget import cpu_budget
from server.media.engine import MediaEngine


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota_of_the_process_or_a_parent(tmp_path: Path) -> None:
    proc, root = tmp_path / "cgroup", tmp_path / "sys"
    write(proc, "0::/pods/media-1\n")
    write(root / "pods" / "media-1" / "cpu.max", "max 100000\n")
    write(root / "pods" / "cpu.max", "150000 100000\n")
    assert cpu_budget(proc, root) == 1.0, "one core at most: the event loop runs on one"
    write(root / "pods" / "cpu.max", "40000 100000\n")
    assert cpu_budget(proc, root) == 0.4, "a parent's quota caps its children"
    write(root / "pods" / "media-1" / "cpu.max", "25000 100000\n")
    assert cpu_budget(proc, root) == 0.25


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    proc, root = tmp_path / "cgroup", tmp_path / "sys"
    write(proc, "4:memory:/x\n3:cpu,cpuacct:/media-a\n0::/\n")
    write(root / "cpu,cpuacct" / "media-a" / "cpu.cfs_quota_us", "50000\n")
    write(root / "cpu,cpuacct" / "media-a" / "cpu.cfs_period_us", "100000\n")
    write(root / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n")
    write(root / "cpu,cpuacct" / "cpu.cfs_period_us", "100000\n")
    assert cpu_budget(proc, root) == 0.5


def test_no_cgroup_or_no_quota_is_a_whole_core(tmp_path: Path) -> None:
    assert cpu_budget(tmp_path / "missing", tmp_path) == 1.0
    write(tmp_path / "cgroup", "0::/\n")
    assert cpu_budget(tmp_path / "cgroup", tmp_path / "sys") == 1.0


def test_a_node_reports_cpu_as_a_share_of_its_budget() -> None:
    now = [0.0]
    halves, wholes = LoadMeter(lambda: now[0], budget=0.5), LoadMeter(lambda: now[0], budget=1.0)
    engine = MediaEngine()
    sum(range(3_000_000))  # some CPU for both meters to see
    now[0] = 1.0
    half, whole = halves.read(engine), wholes.read(engine)
    assert whole.cpu_percent > 0
    assert abs(half.cpu_percent - 2 * whole.cpu_percent) <= 0.2 + 0.05 * whole.cpu_percent
