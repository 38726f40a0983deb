#!/usr/bin/env bash
# Carry study 2's unfinished runs to the next machine: copy each run folder of the pinned worktree that has a
# checkpoint but no metrics.json (about 2.6 MB: recipe, weights, logs, last and best checkpoints) to
# docs/study2/in-progress/<run>/ (commit it). scripts/run_study2.sh puts them back before it resumes, and drops
# the copy of every run that the archive holds. Run it while the study is stopped (or between its checkpoints).
set -euo pipefail
root=$(pwd)
tree=${STUDY2_TREE:-$root/.study2-worktree}
stash=$root/docs/study2/in-progress
for run in "$tree"/runs/study2/*/; do
  run=${run%/}
  name=$(basename "$run")
  [ -f "$run/metrics.json" ] && continue
  [ -f "$run/checkpoints/last.ckpt" ] || continue
  rm -rf "$stash/.$name.tmp"
  mkdir -p "$stash/.$name.tmp"
  (cd "$run" && tar --exclude=.lock -cf - .) | (cd "$stash/.$name.tmp" && tar -xf -)
  rm -rf "${stash:?}/$name"
  mv "$stash/.$name.tmp" "$stash/$name"
  echo "stashed $name"
done
