"""`drpose3d data import` on damaged captures: every mutation of a valid BVH or ASF/AMC file (a line
cut, dropped or doubled, a number or a word replaced) is imported or refused in one line naming
the file, never a traceback and never a half-written output. Mutating the CMU files this way found a
traceback (a doubled CHANNELS line), a bare ':' message (an ASF axis order) and three refusals that
only the mocap loader made, after the import, naming a hidden staging file."""

from __future__ import annotations

import random
import re
from pathlib import Path

from test_importers import write_bvh

from drpose3d.command.cli import main

NUMBER = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?")
#: What a number is replaced by: not numbers, non-finite, out of range, and numbers that break a count.
JUNK = ("nan", "inf", "-inf", "1e999", "abc", "", "-", "0", "-1", "1e-320", "9" * 40, "é", "}")
WORDS = ("XYZ", "", "ROOT", "JOINT", "{", "}", "End", ":root", "CHANNELS", "begin", "end", "dof")


def mutate(text: str, rng: random.Random) -> str:
    """`text` with one random change of one of the kinds the module docstring names."""
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    kind = rng.choice(("cut", "drop", "double", "number", "number", "word"))
    if kind == "cut":
        return text[: rng.randrange(len(text))]
    if kind == "drop":
        return "\n".join(lines[:i] + lines[i + 1 :])
    if kind == "double":
        return "\n".join(lines[: i + 1] + lines[i:])
    if kind == "number":
        numbered = [k for k, line in enumerate(lines) if NUMBER.search(line)]
        i = rng.choice(numbered)
        m = rng.choice(list(NUMBER.finditer(lines[i])))
        lines[i] = lines[i][: m.start()] + rng.choice(JUNK) + lines[i][m.end() :]
        return "\n".join(lines)
    words = lines[i].split() or [""]
    words[rng.randrange(len(words))] = rng.choice(WORDS)
    lines[i] = " ".join(words)
    return "\n".join(lines)


def _imports_or_refuses_in_one_line(path: Path, out: Path, capsys) -> None:
    code = main(["data", "import", str(path), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), err
    if code == 2:
        line = err.split("\r")[-1].strip()  # after the progress bar's carriage returns
        assert "\n" not in err and line.startswith("drpose3d: error: ") and str(path.parent) in line, err
        assert not out.exists() and not list(out.parent.glob(f".{out.name}.*"))


def test_a_mutated_bvh_is_imported_or_refused_in_one_line(tmp_path, capsys):
    good = write_bvh(tmp_path / "base" / "clip.bvh", frames=60).read_text()
    rng = random.Random(0)
    for k in range(60):
        path = tmp_path / f"case{k}" / "walker" / "clip.bvh"
        path.parent.mkdir(parents=True)
        path.write_text(mutate(good, rng))
        _imports_or_refuses_in_one_line(path, tmp_path / f"case{k}" / "out.npz", capsys)


def test_a_mutated_cmu_asf_or_amc_is_imported_or_refused_in_one_line(tmp_path, capsys, cmu_raw):
    asf = (cmu_raw / "asfamc" / "03" / "03.asf").read_text()
    amc = (cmu_raw / "asfamc" / "03" / "03_01.amc").read_text().splitlines()
    amc = "\n".join(amc[: amc.index("201")])  # the header and 200 frames: 1.7 s at 120 fps
    rng = random.Random(1)
    for k in range(40):
        folder = tmp_path / f"case{k}"
        folder.mkdir()
        skeleton, motion = (mutate(asf, rng), amc) if k % 2 else (asf, mutate(amc, rng))
        (folder / "03.asf").write_text(skeleton)
        (folder / "03_01.amc").write_text(motion)
        _imports_or_refuses_in_one_line(folder / "03_01.amc", folder / "out.npz", capsys)
