"""The ledger's rule: one verdict per claim from its per-seed relative effects, the same rule for
every claim, and for an inconclusive one about how many seeds would decide it
(:mod:`drpose3d.book.ledger` applies it to a run and draws the result).

Every claim compares two things per seed: an effect (say DPNet's error with the predicted ranking
minus the same cascade's without it) and its control, named beside the claim and fixed before any
run (the cascade's error). Its relative effect is ``100 × effect / control``, so a world whose
errors are twice Human3.6M's is compared with the paper on the same scale. The rule, the same for
every claim, on the 95 % Student-t interval of the per-seed relative effects:

* ``reproduced``: the interval excludes zero on the paper's side, and the mean reaches at least
  half the paper's relative effect (claims whose paper gives no size need only the first);
* ``reproduced in direction only``: the interval excludes zero on the paper's side, the size falls
  short;
* ``inconclusive``: the interval covers zero and the paper's effect alike (or there is one seed,
  and no interval): more seeds could decide it, and the ledger says about how many would, at the
  seed-to-seed spread measured;
* ``not reproduced``: the interval lies on the other side of zero, or it covers zero but excludes
  the paper's effect;
* ``not run``: a result it needs is absent.

A claim that something is *at least as good* (C4) is a non-inferiority claim, judged against a
margin stated in `drpose3d/paper.py`: reproduced when the whole interval lies above minus the
margin, not reproduced when it lies below, inconclusive otherwise.

For example C1, where the paper's ground-truth ranking cuts the error by a third: a run whose
per-seed changes are -20.1, -22.4 and -18.2 % has the interval [-25.4, -15.0] %, below zero, and a
mean of -20.2 %, more than half of the paper's: reproduced. Had the mean been -15 %, it would be
reproduced in direction only; had the interval been [-40, +5] %, covering both zero and -33 %,
inconclusive.
"""

from __future__ import annotations

import math

from scipy import stats

from drpose3d.pose.metrics import mean_ci95

REPRODUCED, DIRECTION, INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN = (
    "reproduced",
    "reproduced in direction only",
    "inconclusive",
    "not reproduced",
    "not run",
)
VERDICTS = (REPRODUCED, DIRECTION, INCONCLUSIVE, NOT_REPRODUCED, NOT_RUN)
#: Each verdict's colour in the book's tables (green, amber, grey, red, light grey: apart in grey scale too).
VERDICT_COLOURS = dict(zip(VERDICTS, ("#1b7837", "#b35806", "#555555", "#b2182b", "#999999"), strict=True))
#: The share of the paper's relative effect a run must reach to reproduce it (beyond its sign).
SIZE_SHARE = 0.5
#: The most seeds the ledger proposes; beyond it the spread is too wide for seeds to decide.
MOST_SEEDS = 1000


def verdict(
    rel_values: list[float], sign: int, paper_rel: float | None, margin: float | None = None
) -> tuple[str, float | None, tuple[float, float] | None]:
    """The rule of the module docstring on per-seed relative effects: (verdict, mean, interval).
    `margin` (in %) makes it a non-inferiority test: the interval against ``-sign * margin``."""
    if not rel_values:
        return NOT_RUN, None, None
    mean, ci = mean_ci95(rel_values)
    if ci is None:
        return INCONCLUSIVE, mean, None
    lo, hi = (ci[0], ci[1]) if sign > 0 else (-ci[1], -ci[0])  # sign-aligned: the paper's side is up
    if margin is not None:
        return (REPRODUCED if lo > -margin else NOT_REPRODUCED if hi < -margin else INCONCLUSIVE), mean, ci
    if lo > 0:
        return (REPRODUCED if paper_rel is None or sign * mean >= SIZE_SHARE * abs(paper_rel) else DIRECTION), mean, ci
    if hi < 0 or (paper_rel is not None and not lo <= abs(paper_rel) <= hi):
        return NOT_REPRODUCED, mean, ci
    return INCONCLUSIVE, mean, ci


def seeds_needed(
    rel_values: list[float], sign: int, paper_rel: float | None, margin: float | None = None
) -> int | None:
    """About how many seeds would decide an inconclusive claim at the measured seed-to-seed spread:
    the fewest whose 95 % interval is too narrow to cover both hypotheses (zero and the paper's
    effect; zero and the measured mean where the paper gives no size; the margin and the mean for
    non-inferiority). None: one seed (no spread), no distance to resolve, or more than
    :data:`MOST_SEEDS`."""
    if len(rel_values) < 2:
        return None
    mean = sum(rel_values) / len(rel_values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in rel_values) / (len(rel_values) - 1))
    if margin is not None:
        distance = abs(mean + sign * margin)
    elif paper_rel is not None:
        distance = abs(paper_rel) / 2
    else:
        distance = abs(mean)
    if distance == 0:
        return None
    if sd == 0:
        return 2
    for n in range(2, MOST_SEEDS + 1):
        if float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n) < distance:
            return n
    return None
