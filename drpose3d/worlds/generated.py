"""The generated world: subjects' bodies, action families, smooth joint-angle trajectories.

A kinematic body with the H36M-17 skeleton is driven by named joint angles. Limbs use a
swing (rotation vector in the plane normal to the rest bone) plus a twist about the bone,
so there is no gimbal lock; elbows and knees are hinges. Every angle passes a smooth
clamp to its anatomical range, bones are rigid by construction (forward kinematics), and
the body is lowered until its lower ankle sits at ankle height, so standing feet touch
the floor. All sequences of one (subject, action) are generated as one batch.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import torch

from drpose3d.pose.camera import capture_centre, h36m_rig, h36m_subjects
from drpose3d.pose.skeleton import ANKLE_HEIGHT_MM, NUM_JOINTS, PARENTS
from drpose3d.worlds.mocap import Mocap

DEG = math.pi / 180.0
SUBJECTS: tuple[str, ...] = ("S1", "S5", "S6", "S7", "S8", "S9", "S11")

# Rest pose in the body frame (x forward, y left, z up): unit bone directions and the
# mean adult bone lengths (mm) of the Human3.6M subjects.
_REST_DIRECTION = torch.tensor(
    [
        [0, 0, 0],
        [0, -1, 0],
        [0, 0, -1],
        [0, 0, -1],
        [0, 1, 0],
        [0, 0, -1],
        [0, 0, -1],
        [0, 0, 1],
        [0, 0, 1],
        [0.35, 0, 0.937],
        [-0.35, 0, 0.937],
        [0, 0.995, -0.1],
        [0, 0, -1],
        [0, 0, -1],
        [0, -0.995, -0.1],
        [0, 0, -1],
        [0, 0, -1],
    ],
    dtype=torch.float64,
)
_MEAN_LENGTH = torch.tensor(
    [0, 132, 442, 454, 132, 442, 454, 233, 257, 121, 115, 151, 278, 252, 151, 278, 252], dtype=torch.float64
)

#: Anatomical ranges in degrees. Limb swings: flex forward+, abd outward+; twist: external+.
LIMITS: dict[str, tuple[float, float]] = {
    "pelvis_pitch": (-15, 75),
    "pelvis_roll": (-12, 12),
    "spine_flex": (-25, 60),
    "spine_side": (-30, 30),
    "spine_twist": (-35, 35),
    "chest_flex": (-20, 35),
    "chest_side": (-20, 20),
    "chest_twist": (-30, 30),
    "neck_flex": (-40, 50),
    "neck_twist": (-70, 70),
    **{f"{s}_hip_flex": (-30, 125) for s in "rl"},
    **{f"{s}_hip_abd": (-25, 50) for s in "rl"},
    **{f"{s}_hip_twist": (-40, 40) for s in "rl"},
    **{f"{s}_knee": (0, 150) for s in "rl"},
    **{f"{s}_sh_flex": (-60, 175) for s in "rl"},
    **{f"{s}_sh_abd": (-20, 170) for s in "rl"},
    **{f"{s}_sh_twist": (-80, 80) for s in "rl"},
    **{f"{s}_elbow": (0, 150) for s in "rl"},
}
#: Amplitude (deg) of the smooth idiosyncratic variation added to every angle.
_JITTER = {"pelvis": 2.0, "spine": 3.0, "chest": 3.0, "neck": 8.0, "hip": 4.0, "knee": 4.0, "sh": 6.0, "elbow": 6.0}


@dataclass(frozen=True)
class Body:
    """One subject's skeleton: bone offsets in the rest pose (mm)."""

    name: str
    offsets: torch.Tensor  # (17, 3)

    @property
    def height_mm(self) -> float:
        lengths = self.offsets.norm(dim=-1)
        return float(lengths[[3, 2, 7, 8, 9, 10]].sum() + ANKLE_HEIGHT_MM)


def _stable_seed(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def make_body(name: str, seed: int = 0) -> Body:
    """A subject with its own proportions: a global scale (~1.55-1.90 m) and per-bone jitter.

    Left and right sides share lengths, as in Human3.6M's skeletons.
    """
    g = torch.Generator().manual_seed(_stable_seed("body", name, seed))
    scale = 0.92 + 0.16 * torch.rand((), generator=g, dtype=torch.float64)
    jitter = 1 + 0.05 * (2 * torch.rand(NUM_JOINTS, generator=g, dtype=torch.float64) - 1)
    mirror = [0, 1, 2, 3, 1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 11, 12, 13]
    lengths = _MEAN_LENGTH * scale * jitter[mirror]
    return Body(name, _REST_DIRECTION / _REST_DIRECTION.norm(dim=-1, keepdim=True).clamp_min(1e-9) * lengths[:, None])


# ----------------------------------------------------------------------------- rotations
def _rotvec(w: torch.Tensor) -> torch.Tensor:
    """Rotation vectors (..., 3) -> matrices (..., 3, 3) (exponential map)."""
    zero = torch.zeros_like(w[..., 0])
    x, y, z = w.unbind(-1)
    skew = torch.stack((zero, -z, y, z, zero, -x, -y, x, zero), -1).reshape(*w.shape[:-1], 3, 3)
    return torch.linalg.matrix_exp(skew)


def _axis(angle: torch.Tensor, axis: int) -> torch.Tensor:
    w = torch.zeros(*angle.shape, 3, dtype=angle.dtype)
    w[..., axis] = angle
    return _rotvec(w)


def _swing_twist(forward: torch.Tensor, side: torch.Tensor, twist: torch.Tensor) -> torch.Tensor:
    """Swing of a downward bone (rotation vector (side, -forward, 0)) after a twist about it."""
    return _rotvec(torch.stack((side, -forward, torch.zeros_like(side)), -1)) @ _axis(twist, 2)


def soft_clamp(x: torch.Tensor, lo: float, hi: float, sharpness: float = 0.25) -> torch.Tensor:
    """Smooth clamp to [lo, hi] (degrees): the identity inside, C-infinity at the limits."""
    sp = torch.nn.functional.softplus
    return lo + sp((x - lo) / sharpness) * sharpness - sp((x - hi) / sharpness) * sharpness


def forward_kinematics(body: Body, angles: dict[str, torch.Tensor]) -> torch.Tensor:
    """Joint angles (degrees, each (...,)) -> root-centred positions (..., 17, 3) mm.

    Leg flexions are given relative to the vertical; the pelvis pitch is subtracted here so
    that bending at the hips does not swing the legs.
    """
    a = {k: soft_clamp(v, *LIMITS[k]) * DEG for k, v in angles.items() if k in LIMITS}
    pitch = a["pelvis_pitch"]
    bone: dict[int, torch.Tensor] = {
        2: _swing_twist(a["r_hip_flex"] + pitch, -a["r_hip_abd"], -a["r_hip_twist"]),
        3: _axis(a["r_knee"], 1),
        5: _swing_twist(a["l_hip_flex"] + pitch, a["l_hip_abd"], a["l_hip_twist"]),
        6: _axis(a["l_knee"], 1),
        7: _rotvec(torch.stack((-a["spine_side"], a["spine_flex"], torch.zeros_like(pitch)), -1))
        @ _axis(a["spine_twist"], 2),
        8: _rotvec(torch.stack((-a["chest_side"], a["chest_flex"], torch.zeros_like(pitch)), -1))
        @ _axis(a["chest_twist"], 2),
        9: _axis(a["neck_flex"], 1) @ _axis(a["neck_twist"], 2),
        12: _swing_twist(a["l_sh_flex"], a["l_sh_abd"], a["l_sh_twist"]),
        13: _axis(-a["l_elbow"], 1),
        15: _swing_twist(a["r_sh_flex"], -a["r_sh_abd"], -a["r_sh_twist"]),
        16: _axis(-a["r_elbow"], 1),
    }
    root = _axis(angles["yaw"], 2) @ _axis(pitch, 1) @ _axis(-a["pelvis_roll"], 0)
    frames = [root]
    positions = [torch.zeros(*pitch.shape, 3, dtype=pitch.dtype)]
    for child in range(1, NUM_JOINTS):
        parent = PARENTS[child]
        frame = frames[parent] @ bone[child] if child in bone else frames[parent]
        frames.append(frame)
        positions.append(positions[parent] + frame @ body.offsets[child])
    return torch.stack(positions, dim=-2)


# ----------------------------------------------------------------------------- actions
class _Draw:
    """Per-sequence random parameters, shaped (n, 1) to broadcast against time (1, T)."""

    def __init__(self, n: int, g: torch.Generator):
        self.n, self.g = n, g

    def u(self, lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(self.n, 1, generator=self.g, dtype=torch.float64)

    def sign(self) -> torch.Tensor:
        return torch.where(torch.rand(self.n, 1, generator=self.g) < 0.5, -1.0, 1.0).double()

    def smooth(self, t: torch.Tensor, amplitude: float, fmax: float = 0.6) -> torch.Tensor:
        """Band-limited wobble: three random sinusoids, unit-ish variance times amplitude."""
        f = self.u(0.08, fmax).unsqueeze(-1) * torch.tensor([1.0, 1.7, 2.9], dtype=torch.float64)
        ph = self.u(0, 2 * math.pi).unsqueeze(-1) * torch.tensor([1.0, 2.3, 3.7], dtype=torch.float64)
        return amplitude * 0.8 * torch.sin(2 * math.pi * f * t.reshape(1, -1, 1) + ph).sum(-1)


def _cycle(t: torch.Tensor, period: torch.Tensor, phase: torch.Tensor, hold: float = 0.3) -> torch.Tensor:
    """0 -> 1 -> 0 smooth cycle that dwells at both ends for a `hold` fraction of the period."""
    raw = (1 - torch.cos(2 * math.pi * t / period + phase)) / 2
    s = ((raw - hold / 2) / (1 - hold)).clamp(0, 1)
    return s * s * (3 - 2 * s)


def _keyframes(t: torch.Tensor, targets: torch.Tensor, segment: torch.Tensor) -> torch.Tensor:
    """Ease between successive `targets` (n, K), one every `segment` (n, 1) seconds."""
    pos = t / segment
    k = pos.floor().clamp(max=targets.shape[1] - 2)
    frac = (pos - k).clamp(0, 1)
    ease = frac * frac * (3 - 2 * frac)
    k = k.long()
    a, b = targets.gather(1, k), targets.gather(1, k + 1)
    return a + (b - a) * ease


def _gait(t: torch.Tensor, d: _Draw, stride_deg: float, cadence: tuple[float, float]) -> dict[str, torch.Tensor]:
    ph = 2 * math.pi * d.u(*cadence) * t + d.u(0, 2 * math.pi)
    amp = stride_deg * d.u(0.8, 1.2)
    out = {}
    for side, shift in (("r", 0.0), ("l", math.pi)):
        out[f"{side}_hip_flex"] = 4 + amp * torch.sin(ph + shift)
        out[f"{side}_knee"] = 6 + 2.2 * amp * torch.relu(torch.sin(ph + shift + 1.9)) ** 1.5
        out[f"{side}_sh_flex"] = -0.8 * amp * torch.sin(ph + shift)
        out[f"{side}_elbow"] = 18 + 0.6 * amp * (1 + torch.sin(ph + shift + math.pi)) / 2
        out[f"{side}_sh_abd"] = 8 + 0 * t
    out["chest_twist"] = 0.3 * amp * torch.sin(ph)
    out["spine_flex"] = 4 + 0 * t
    return out


def walk(t, d):
    """Back and forth along a line of 2.4-3.4 m, turning round where the walker stops."""
    half, speed, yaw0 = d.u(1200, 1700), d.u(900, 1400), d.u(0, 2 * math.pi)
    phase = speed / half * t + d.u(0, 2 * math.pi)
    along = half * torch.sin(phase)
    yaw = yaw0 + math.pi * torch.sigmoid(-torch.cos(phase) / 0.12)
    x0, y0 = d.u(-300, 300), d.u(-300, 300)
    return {
        **_gait(t, d, 22, (0.85, 1.0)),
        "yaw": yaw,
        "x": x0 + along * torch.cos(yaw0),
        "y": y0 + along * torch.sin(yaw0),
    }


def walk_circle(t, d):
    speed, radius, turn = d.u(800, 1200), d.u(1000, 1600), d.sign()
    yaw = d.u(0, 2 * math.pi) + turn * speed / radius * t
    theta = yaw - turn * math.pi / 2
    return {
        **_gait(t, d, 20, (0.8, 0.95)),
        "yaw": yaw,
        "x": radius * torch.cos(theta),
        "y": radius * torch.sin(theta),
        "spine_side": 4 * turn + 0 * t,
    }


def sit_stand(t, d):
    s = _cycle(t, d.u(3.5, 5.0), d.u(0, 2 * math.pi))
    out = {"pelvis_pitch": 8 * s + 28 * torch.sin(math.pi * s) ** 2, "spine_flex": 8 * s, "chest_flex": 6 * s}
    for side in "rl":
        out |= {
            f"{side}_hip_flex": 88 * s * d.u(0.9, 1.05),
            f"{side}_knee": 92 * s * d.u(0.9, 1.1),
            f"{side}_hip_abd": 10 * s,
            f"{side}_sh_flex": 10 + 30 * s,
            f"{side}_elbow": 15 + 55 * s * d.u(0.6, 1.2),
            f"{side}_sh_abd": 8 + 0 * t,
        }
    return out


def pick_up(t, d):
    s = _cycle(t, d.u(3.0, 4.5), d.u(0, 2 * math.pi))
    knee = d.u(10, 80)
    trunk = {"pelvis_pitch": d.u(40, 70) * s, "spine_flex": d.u(15, 35) * s, "chest_flex": 10 * s}
    lean = sum(trunk.values())
    reach = d.sign()
    out = dict(trunk)
    for side, extra in (("r", reach), ("l", -reach)):
        out |= {
            f"{side}_knee": knee * s,
            f"{side}_hip_flex": 0.45 * knee * s,
            f"{side}_sh_flex": (0.9 * lean + 12 * s * extra),
            f"{side}_elbow": 15 + 10 * s,
            f"{side}_sh_abd": 8 + 0 * t,
        }
    return out


def reach_point(t, d):
    n_keys = int(t.max() // 1.2) + 3
    seg = d.u(1.2, 2.0)

    def keys(lo, hi):
        return lo + (hi - lo) * torch.rand(d.n, n_keys, generator=d.g, dtype=torch.float64)

    side = "r" if bool(torch.rand((), generator=d.g) < 0.5) else "l"
    turn = (1 if side == "l" else -1) * _keyframes(t, keys(-20, 20), seg)
    return {
        f"{side}_sh_flex": _keyframes(t, keys(40, 150), seg),
        f"{side}_sh_abd": _keyframes(t, keys(0, 80), seg),
        f"{side}_sh_twist": _keyframes(t, keys(-30, 30), seg),
        f"{side}_elbow": _keyframes(t, keys(0, 35), seg),
        "chest_twist": turn,
        "neck_twist": 1.5 * turn,
        "spine_flex": _keyframes(t, keys(-5, 20), seg),
    }


def wave(t, d):
    side = "r" if bool(torch.rand((), generator=d.g) < 0.5) else "l"
    f = d.u(1.5, 2.5)
    return {
        f"{side}_sh_abd": d.u(60, 140) + 0 * t,
        f"{side}_sh_flex": d.u(0, 50) + 0 * t,
        f"{side}_sh_twist": d.u(40, 75) + 0 * t,
        f"{side}_elbow": 65 + 35 * torch.sin(2 * math.pi * f * t),
        "neck_twist": d.u(-30, 30) + 0 * t,
        "chest_side": d.u(-8, 8) + 0 * t,
    }


def phone(t, d):
    side, other = ("r", "l") if bool(torch.rand((), generator=d.g) < 0.5) else ("l", "r")
    hip = d.sign() > 0
    yaw_rate = d.u(-0.35, 0.35)
    return {
        f"{side}_sh_flex": d.u(20, 45) + 0 * t,
        f"{side}_sh_abd": d.u(10, 35) + 0 * t,
        f"{side}_sh_twist": d.u(-50, -20) + 0 * t,
        f"{side}_elbow": d.u(125, 145) + 0 * t,
        f"{other}_sh_abd": torch.where(hip, 35.0, 8.0) + 0 * t,
        f"{other}_elbow": torch.where(hip, 95.0, 15.0) + 0 * t,
        f"{other}_sh_twist": torch.where(hip, -40.0, 0.0) + 0 * t,
        "neck_flex": d.u(-5, 20) + 0 * t,
        "pelvis_roll": 5 * torch.sin(2 * math.pi * d.u(0.2, 0.4) * t),
        "yaw_rate": yaw_rate + 0 * t,
    }


def squat(t, d):
    s = _cycle(t, d.u(2.5, 4.0), d.u(0, 2 * math.pi))
    depth = d.u(0.6, 1.0)
    out = {"pelvis_pitch": 35 * s * depth, "spine_flex": 8 * s}
    for side in "rl":
        out |= {
            f"{side}_hip_flex": 95 * s * depth,
            f"{side}_knee": 125 * s * depth,
            f"{side}_hip_abd": 15 * s,
            f"{side}_sh_flex": 80 * s * d.u(0.8, 1.1) + 5,
            f"{side}_elbow": 10 + 0 * t,
            f"{side}_sh_abd": 8 + 0 * t,
        }
    return out


def turn_in_place(t, d):
    total = d.sign() * d.u(120, 360) * DEG
    dur = t.max().clamp_min(1e-6)
    s = (t / dur).clamp(0, 1)
    return {
        **_gait(t, d, 8, (0.8, 1.1)),
        "yaw": d.u(0, 2 * math.pi) + total * s * s * (3 - 2 * s),
        "neck_twist": 15 * torch.sign(total) + 0 * t,
    }


def stretch(t, d):
    s = _cycle(t, d.u(3.0, 5.0), d.u(0, 2 * math.pi), hold=0.4)
    f = d.u(0.25, 0.5)
    out = {
        "spine_side": 22 * s * torch.sin(2 * math.pi * f * t),
        "chest_twist": 18 * s * torch.sin(2 * math.pi * f * t + 1.0),
        "neck_flex": -15 * s,
    }
    for side in "rl":
        out |= {
            f"{side}_sh_flex": 10 + 150 * s * d.u(0.9, 1.05),
            f"{side}_sh_abd": 8 + 25 * s,
            f"{side}_elbow": 10 + 10 * s,
        }
    return out


def box(t, d):
    f = d.u(0.6, 1.0)
    ph = d.u(0, 2 * math.pi)
    punch = {
        "r": torch.relu(torch.sin(2 * math.pi * f * t + ph)) ** 3,
        "l": torch.relu(-torch.sin(2 * math.pi * f * t + ph)) ** 3,
    }
    out = {"chest_twist": 25 * (punch["r"] - punch["l"]), "spine_flex": 10 + 0 * t}
    for side in "rl":
        out |= {
            f"{side}_sh_flex": 45 + 45 * punch[side],
            f"{side}_elbow": 115 - 105 * punch[side],
            f"{side}_sh_abd": 15 + 0 * t,
            f"{side}_sh_twist": -20 + 0 * t,
            f"{side}_knee": 20 + 0 * t,
            f"{side}_hip_flex": 12 + 0 * t,
            f"{side}_hip_abd": 10 + 0 * t,
        }
    return out


def kick(t, d):
    s = _cycle(t, d.u(2.0, 3.2), d.u(0, 2 * math.pi), hold=0.2)
    side = "r" if bool(torch.rand((), generator=d.g) < 0.5) else "l"
    return {
        f"{side}_hip_flex": 80 * s * d.u(0.8, 1.1),
        f"{side}_knee": 10 + 85 * torch.sin(math.pi * s),
        "pelvis_pitch": -8 * s,
        "r_sh_abd": 30 + 15 * s,
        "l_sh_abd": 30 + 15 * s,
        "r_elbow": 40 + 0 * t,
        "l_elbow": 40 + 0 * t,
    }


ACTIONS: dict[str, Callable[[torch.Tensor, _Draw], dict[str, torch.Tensor]]] = {
    "Walk": walk,
    "WalkCircle": walk_circle,
    "SitStand": sit_stand,
    "PickUp": pick_up,
    "ReachPoint": reach_point,
    "Wave": wave,
    "Phone": phone,
    "Squat": squat,
    "Turn": turn_in_place,
    "Stretch": stretch,
    "Box": box,
    "Kick": kick,
}

_RELAXED = {"r_sh_abd": 8.0, "l_sh_abd": 8.0, "r_elbow": 12.0, "l_elbow": 12.0, "r_knee": 3.0, "l_knee": 3.0}


def action_angles(action: str, n: int, t: torch.Tensor, g: torch.Generator) -> dict[str, torch.Tensor]:
    """All angles (n, T) of `n` repetitions of `action`: the family's motion + relaxed
    defaults + each repetition's own smooth variation + a random facing direction."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    d = _Draw(n, g)
    t = t.reshape(1, -1).double()
    motion = ACTIONS[action](t, d)
    out = {name: torch.full((n, t.shape[1]), _RELAXED.get(name, 0.0), dtype=torch.float64) for name in LIMITS}
    for name, value in motion.items():
        if name in out:
            out[name] = value.expand(n, t.shape[1]).clone()
    for name in LIMITS:
        group = name.split("_")[1] if name[:2] in ("r_", "l_") else name.split("_")[0]
        out[name] = out[name] + d.smooth(t, _JITTER[group])
    yaw = motion.get("yaw", d.u(0, 2 * math.pi) + motion.get("yaw_rate", 0 * t) * t)
    out["yaw"] = yaw.expand(n, t.shape[1]).clone() if "yaw" in motion else yaw + d.smooth(t, 6 * DEG, 0.3)
    for key in ("x", "y"):
        out[key] = motion[key].expand(n, t.shape[1]).clone() if key in motion else d.u(-700, 700) + d.smooth(t, 40, 0.3)
    return out


def pose_sequences(body: Body, angles: dict[str, torch.Tensor], centre_xy: torch.Tensor) -> torch.Tensor:
    """World positions (n, T, 17, 3): kinematics, feet onto the floor, placed around `centre_xy`."""
    local = forward_kinematics(body, angles)
    lowest_ankle = local[..., [3, 6], 2].min(-1).values
    offset = torch.stack((angles["x"] + centre_xy[0], angles["y"] + centre_xy[1], ANKLE_HEIGHT_MM - lowest_ankle), -1)
    return local + offset.unsqueeze(-2)


def generate_world(
    subjects: tuple[str, ...] = SUBJECTS,
    actions: tuple[str, ...] = tuple(ACTIONS),
    repetitions: int = 2,
    duration_s: float = 4.0,
    fps: float = 50.0,
    seed: int = 0,
) -> Mocap:
    """Every subject performs every action `repetitions` times; returns generic mocap.

    Each subject moves around the capture centre (Eq. 7) of its Human3.6M camera rig.
    """
    t = torch.arange(int(round(duration_s * fps)), dtype=torch.float64) / fps
    chunks, subj, act, seq = [], [], [], []
    next_seq = 0
    for s in subjects:
        body = make_body(s, seed)
        rig = h36m_rig(s if s in h36m_subjects() else "S1")
        centre = capture_centre(rig.centre, rig.optical_axis)[:2]
        for a in actions:
            g = torch.Generator().manual_seed(_stable_seed("motion", s, a, seed))
            poses = pose_sequences(body, action_angles(a, repetitions, t, g), centre)
            chunks.append(poses.reshape(-1, NUM_JOINTS, 3))
            frames = poses.shape[0] * poses.shape[1]
            subj += [s] * frames
            act += [a] * frames
            seq.append(torch.arange(next_seq, next_seq + repetitions).repeat_interleave(len(t)))
            next_seq += repetitions
    return Mocap(positions=torch.cat(chunks).float(), subject=subj, action=act, sequence=torch.cat(seq), fps=fps)
