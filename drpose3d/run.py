"""A run, resolved once: preset sizes, data spec, seeds, device and output folder.

`drpose3d reproduce` resolves the command line into a :class:`Run`, writes it to ``OUT/run.json``
and hands that file to every notebook; a notebook started by hand (papermill or JupyterLab)
resolves its plain parameters through the same :func:`resolve` and writes the same file. So
the CLI and a hand run cannot disagree on seeds, sizes or where results go, and ``run.json``
records every size and hyper-parameter a result depends on.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from drpose3d import __version__
from drpose3d.engine.fileio import write_text_atomic
from drpose3d.errors import RunError
from drpose3d.markup import text
from drpose3d.presets import Preset, get_preset
from drpose3d.worlds.spec import DataSpec, parse_spec

RUN_FILE = "run.json"

#: The parameter cell of every notebook, verbatim (a test checks that each notebook holds it):
#: `drpose3d reproduce` sets only `run_file`; by hand, set `preset` (and anything else).
PARAMETER_CELL = """\
preset: str = "smoke"  # tiny | smoke (minutes) | cpu (about 20 h on 2 cores) | paper (GPU): drpose3d/presets.py
data: str = "synthetic"  # a data spec: drpose3d.worlds.spec.GRAMMAR lists them (synthetic is the default world)
seeds: int = 0  # number of seeds; 0: the preset's
device: str = "auto"  # auto (CUDA if present) | cpu | cuda
out: str = ""  # output folder for results/, cache/ and run.json; "": _out/ in the project root
run_file: str = ""  # a run.json from `drpose3d reproduce`; when set it decides all of the above"""


def parameters_of(run: Run) -> str:
    """The parameter cell as a reader's copy of an executed notebook shows it: the values the run
    had (its data by label, without this machine's paths), not the notebook's defaults."""
    values = {"preset": json.dumps(run.preset.name), "data": json.dumps(run.data.label),
              "seeds": str(len(run.seeds)), "device": json.dumps(run.device)}  # fmt: skip
    lines = []
    for line in PARAMETER_CELL.splitlines():
        name, _, rest = line.partition(":")
        annotation, _, tail = rest.partition(" = ")
        default, _, comment = tail.partition("  # ")
        lines.append(f"{name}:{annotation} = {values.get(name, default)}  # {comment}")
    return "\n".join(lines)


#: The cell after it, also verbatim in every notebook.
RESOLVE_CELL = """\
from drpose3d.run import notebook_run

run = notebook_run(preset, data, seeds, device, out, run_file)
run"""


def project_root() -> Path:
    """The source checkout holding notebooks/, book/ and the book's _config.yml."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "_toc.yml").exists() or not (root / "notebooks").is_dir():
        raise FileNotFoundError(
            f"{root}: not a drpose3d source checkout (no _toc.yml / notebooks/); install with 'pip install -e .'"
        )
    return root


#: Tracked paths whose local changes do not make a checkout "+dirty": committed results and the
#: README's ledger of them, which `tools/regenerate_runs.sh` writes while its next run computes.
NOT_SOURCE = ("runs", "README.md")


def source_commit(root: Path | None = None) -> str | None:
    """The git commit of the checkout the package runs from (`root`), "+dirty" with local changes
    to anything but :data:`NOT_SOURCE`, or None outside a git checkout."""
    root = root or Path(__file__).resolve().parents[1]
    try:
        git = ["git", "-C", str(root)]
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no", "--", ".", *(f":(exclude){p}" for p in NOT_SOURCE)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


#: What ``--device`` accepts: "auto" picks CUDA when torch sees it, else the CPU.
DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cuda' without a GPU is an error, not a fallback."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device not in DEVICES:
        raise RunError(f"device is {device!r}, expected one of {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise RunError("device 'cuda' requested but torch sees no CUDA device")
    return torch.device(device)


@dataclass(frozen=True)
class Run:
    """Everything a notebook needs to know about the run it belongs to."""

    preset: Preset
    data: DataSpec
    seeds: tuple[int, ...]
    device: str  # resolved: "cpu" or "cuda"
    out: Path
    package_version: str = __version__
    commit: str | None = None

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def to_json(self) -> dict[str, Any]:
        return {
            "preset": dataclasses.asdict(self.preset),
            "data": str(self.data),
            "seeds": list(self.seeds),
            "device": self.device,
            "out": str(self.out),
            "package_version": self.package_version,
            "commit": self.commit,
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Run:
        return cls(
            _dataclass_from(Preset, payload["preset"]),
            parse_spec(payload["data"]),
            tuple(int(s) for s in payload["seeds"]),
            payload["device"],
            Path(payload["out"]),
            payload["package_version"],
            payload.get("commit"),
        )

    def _repr_markdown_(self) -> str:
        """One readable line for the notebook page, without this machine's absolute paths."""
        try:
            out = self.out.relative_to(project_root())
        except (ValueError, FileNotFoundError):
            out = Path(self.out.name)
        seeds = ", ".join(map(str, self.seeds))
        code = "<code>{}</code>".format  # not a code span: a backtick in a file name could close one
        return (
            f"**Run:** preset {code(self.preset.name)} · data {code(text(self.data.label))} · seeds {seeds} · "
            f"device {self.device} · output {code(text(out))} · drpose3d {self.package_version}"
        )

    def save(self) -> Path:
        path = self.out / RUN_FILE
        write_text_atomic(path, json.dumps(self.to_json(), indent=1))
        return path


def _dataclass_from(cls: type, payload: dict[str, Any]) -> Any:
    """Rebuild a (nested, frozen) dataclass such as Preset from its asdict() form."""
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in payload.items():
        if name not in hints:
            raise RunError(f"{cls.__name__} has no field {name!r}; the run.json is from another version")
        nested = _NESTED.get((cls.__name__, name))
        kwargs[name] = _dataclass_from(nested, value) if nested else tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def _nested_types() -> dict[tuple[str, str], type]:
    """Preset fields that are dataclasses themselves (from their annotations, without eval)."""
    import drpose3d.presets as presets

    found = {}
    for field in dataclasses.fields(Preset):
        cls = getattr(presets, str(field.type), None)
        if dataclasses.is_dataclass(cls):
            found[("Preset", field.name)] = cls
    return found


_NESTED = _nested_types()


def resolve(
    preset: str = "smoke", data: str = "synthetic", seeds: int = 0, device: str = "auto", out: str | Path = ""
) -> Run:
    """The one place plain parameters become a run: the data spec parsed (its paths made absolute
    against the working folder), seeds 0 means the preset's count, out "" means ``_out/`` in the
    project root (wherever papermill or JupyterLab was started)."""
    p = get_preset(preset)
    if seeds < 0:
        raise RunError(f"seeds is {seeds}, expected a count >= 1 (or 0 for the preset's {p.seeds})")
    folder = Path(out).expanduser() if out else project_root() / "_out"
    return Run(
        p,
        parse_spec(data),
        tuple(range(seeds or p.seeds)),
        resolve_device(device).type,
        folder.resolve(),
        __version__,
        source_commit(),
    )


def load_run(path: str | Path) -> Run:
    """A run.json written by :meth:`Run.save`, with a one-line error for a missing or broken file."""
    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path}: no such run file; `drpose3d reproduce` writes OUT/{RUN_FILE}")
    try:
        payload = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunError(f"{path}: not a run file ({type(err).__name__}: {err})") from None
    _check_run_json(path, payload)
    try:
        return Run.from_json(payload)
    except (KeyError, TypeError, ValueError) as err:
        raise RunError(f"{path}: not a run file ({type(err).__name__}: {err})") from None


def _check_run_json(path: Path, payload: object) -> None:
    """A hand-edited run.json is checked key by key, with one line naming the key at fault."""
    if not isinstance(payload, dict):
        raise RunError(f"{path}: not a run file (expected a JSON object)")
    checks = {
        "preset": (lambda v: isinstance(v, dict), "an object of preset fields"),
        "data": (lambda v: isinstance(v, str), "a data spec string"),
        "seeds": (
            lambda v: isinstance(v, list) and v and all(isinstance(s, int) and 0 <= s < 2**31 for s in v),
            "a non-empty list of seeds (integers >= 0)",
        ),
        "device": (lambda v: v in ("cpu", "cuda"), "'cpu' or 'cuda'"),
        "out": (lambda v: isinstance(v, str) and v, "a folder path"),
        "package_version": (lambda v: isinstance(v, str), "a version string"),
    }
    for key, (ok, expected) in checks.items():
        if key not in payload:
            raise RunError(f"{path}: key {key!r} is missing, expected {expected}")
        if not ok(payload[key]):
            raise RunError(f"{path}: key {key!r} is {payload[key]!r}, expected {expected}")


def notebook_run(preset: str, data: str, seeds: int, device: str, out: str, run_file: str) -> Run:
    """What a notebook's second cell calls: the run.json it was handed, or its parameters
    resolved and written to ``OUT/run.json`` (so a hand run leaves the same record as the CLI)."""
    if run_file:
        return load_run(run_file)
    run = resolve(preset, data, seeds, device, out)
    run.save()
    return run
