"""Fixtures: small files in the exact formats users bring, written by the tests (never real data), the
tiny book the end-to-end tests read, and the browser the page tests open."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from chromium import find_binary

from drpose3d.pose.camera import h36m_rig, project, world_to_camera
from drpose3d.pose.skeleton import H36M32_TO_17
from drpose3d.worlds.generated import generate_world


def to_h36m32(positions_mm: np.ndarray) -> np.ndarray:
    """17 joints (mm) -> VideoPose3D's 32-joint layout in metres; unused slots copy the nearest used parent."""
    out = np.zeros((positions_mm.shape[0], 32, 3), dtype=np.float32)
    out[:, list(H36M32_TO_17)] = positions_mm / 1000
    used = set(H36M32_TO_17)
    for slot in range(32):
        if slot not in used:
            out[:, slot] = out[:, max(u for u in used if u < slot)]
    return out


def write_videopose3d(
    directory: Path,
    subjects=("S1", "S5", "S6", "S7", "S8", "S9", "S11"),
    actions=("Walking", "Directions"),
    frames_2d_extra: int = 2,
    duration_s: float = 1.0,
) -> Path:
    """data_3d_h36m.npz + data_2d_h36m_gt.npz for a small generated world ("<Action> 1" takes)."""
    world = generate_world(subjects=subjects, actions=("Walk", "Wave"), repetitions=1, duration_s=duration_s, fps=50)
    pos3d, pos2d = {}, {}
    for s in subjects:
        pos3d[s], pos2d[s] = {}, {}
        rig = h36m_rig(s).to("cpu", torch.float32)
        for new, old in zip(actions, ("Walk", "Wave"), strict=True):
            mask = torch.from_numpy((world.subject == s) & (world.action == old))
            p = world.positions[mask]
            p = torch.cat((p, p[-1:].expand(frames_2d_extra, -1, -1)))  # 2D files may run longer than 3D
            cam = world_to_camera(p[:, None], rig.rotation, rig.centre)
            kp = project(cam, rig).permute(1, 0, 2, 3).numpy()
            pos3d[s][f"{new} 1"] = to_h36m32(p[: len(p) - frames_2d_extra].numpy())
            pos2d[s][f"{new} 1"] = [kp[c] for c in range(4)]
    directory.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(directory / "data_3d_h36m.npz", positions_3d=pos3d)
    meta = {
        "layout_name": "h36m",
        "num_joints": 17,
        "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]],
    }
    np.savez_compressed(directory / "data_2d_h36m_gt.npz", positions_2d=pos2d, metadata=meta)
    return directory


@pytest.fixture(scope="session")
def cmu_raw() -> Path:
    """The raw CMU captures the package's embedded motion was imported from: beside the checkout
    (../shared) or inside it (shared/), as workplaces lay it out. A clone without them skips the tests
    that re-import them; CI has them, so there a missing folder fails."""
    root = Path(__file__).resolve().parents[1]
    found = next(
        (p for p in (root.parent / "shared" / "mocap" / "cmu", root / "shared" / "mocap" / "cmu") if p.is_dir()), None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no raw CMU captures at ../shared/mocap/cmu or shared/mocap/cmu in CI")
        pytest.skip("no raw CMU captures at ../shared/mocap/cmu (ASF/AMC and BVH from mocap.cs.cmu.edu)")
    return found


@pytest.fixture
def chromium_binary() -> str:
    """Debian's chromium, for the tests that open pages in a real browser: CI installs it first
    (.ci/run), so there a missing one fails the test instead of skipping it."""
    binary = find_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium on PATH in CI")
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    return binary


@pytest.fixture(scope="session")
def h36m_dir(tmp_path_factory) -> Path:
    """About as many samples as the tiny preset's generated world (1,040 against 1,008), so that a
    whole book on them costs what the tiny book's seed does."""
    return write_videopose3d(tmp_path_factory.mktemp("h36m"), duration_s=0.4)


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory) -> Path:
    """The whole tiny-preset book, 2 seeds, one process: what the end-to-end tests read (and the
    distributed run is compared with), made once."""
    out = tmp_path_factory.mktemp("run")
    args = ["reproduce", "--preset", "tiny", "--seeds", "2", "--device", "cpu", "--out", str(out)]
    proc = subprocess.run([sys.executable, "-m", "drpose3d.command.cli", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


#: The tiny book's fixture (below), whose name is also the xdist group of the tests that read it.
TINY_BOOK_GROUP = "synthetic_run"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the mark into the "@group" node-id suffix
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``pytest -n 2 --dist loadgroup`` (make test) the tests that read the tiny book run in
    one worker, so that it is made once, not once per worker (3 minutes of a 2-core CI)."""
    for item in items:
        if TINY_BOOK_GROUP in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(TINY_BOOK_GROUP))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Where xdist ignores the group (silently, with pytest 9.2: pytest-xdist issue 1386; or with
    this hook after xdist's), the tiny book would be made once per worker: its tests fail instead."""
    if session.config.getoption("loadgroup", default=False):
        lost = [i for i in session.items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
        for item in lost:
            item.add_marker(
                pytest.mark.group_ignored(f"--dist loadgroup ignored xdist_group under pytest {pytest.__version__}")
            )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test whose group xdist ignored fails before it builds anything."""
    if mark := item.get_closest_marker("group_ignored"):
        pytest.fail(mark.args[0], pytrace=False)
