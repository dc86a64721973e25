#!/usr/bin/env bash
# Regenerate one preset's two committed runs, runs/P (generated world) and runs/P-cmu (CMU motion), in
# the order their claims chapters need: each claims chapter plots its run beside the *committed* run
# of the other world, so the generated run's claims chapter is re-run once runs/P-cmu is committed.
#
#     tools/regenerate_runs.sh PRESET OUT_ROOT     # e.g. tools/regenerate_runs.sh cpu /tmp
#
# Every step resumes from its run's cache, so after an interruption the same command goes on where it
# stopped (a finished step costs the re-execution of its notebooks from the cache). On a new machine,
# without the cache, each step first carries over the chapters its committed run already holds and the
# current source would compute unchanged (drpose3d/command/carry.py), so what was committed is not trained again.
# It leaves the working tree changed under runs/ and README.md; committing them is the caller's decision.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: tools/regenerate_runs.sh PRESET OUT_ROOT" >&2; exit 2; }
preset=$1
root=$2
cd "$(dirname "$0")/.."
bin=.venv/bin
# glibc keeps what rendering frees: about 3 % off a stage-1 epoch, the same numbers (bench/malloc.md)
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296}
step() { echo "== $(date -u +%FT%TZ) $*"; }
# --carry from the committed run, once there is one (a preset's first regeneration has none)
carry() { if [ -d "runs/$1/notebooks" ]; then echo "--carry runs/$1"; fi; }

step "generated world: $root/$preset"
$bin/drpose3d reproduce --preset "$preset" --out "$root/$preset" $(carry "$preset")
$bin/python tools/commit_run.py "$root/$preset" "runs/$preset"

step "CMU motion: $root/$preset-cmu"
$bin/drpose3d reproduce --preset "$preset" --data cmu --out "$root/$preset-cmu" $(carry "$preset-cmu")
$bin/python tools/commit_run.py "$root/$preset-cmu" "runs/$preset-cmu"

step "generated world's claims chapter beside the new runs/$preset-cmu"
$bin/drpose3d reproduce --preset "$preset" --out "$root/$preset" --only claims
$bin/python tools/commit_run.py "$root/$preset" "runs/$preset"

$bin/python tools/readme_ledger.py
step "done: git add runs/$preset runs/$preset-cmu README.md"
