"""The generated world's twelve action families: smooth joint-angle trajectories, batched over
the repetitions of one (subject, action), each repetition with its own timing, amplitude,
facing direction and idiosyncratic wobble."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from drpose3d.worlds.body import DEG, LIMITS

#: Amplitude (deg) of the smooth idiosyncratic variation added to every angle.
_JITTER = {"pelvis": 2.0, "spine": 3.0, "chest": 3.0, "neck": 8.0, "hip": 4.0, "knee": 4.0, "sh": 6.0, "elbow": 6.0}


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
