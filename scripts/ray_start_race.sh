#!/usr/bin/env bash
# N `trafficai sweep`s of a one-run spec (tiny scenario, 60 s, 1 CPU) launched at the same moment,
# each with its own run store; prints each one's exit status and last error line. Every one must
# exit 0 (or 1 with one `error:` line) well within LIMIT seconds: before the start lock in
# trafficai/scale/cluster.py, 6-7 concurrent starts on 2 busy cores all failed with a traceback.
# usage: scripts/ray_start_race.sh [N] [LIMIT]    (from the repository root)
set -u
N=${1:-6}; LIMIT=${2:-400}
ROOT=$(pwd); PY=${PYTHON:-python}
WORK=$(mktemp -d)
cat > "$WORK/tiny.toml" <<SPEC
[sweep]
scenarios = ["$ROOT/tests/data/tiny/scenario.toml"]
controllers = ["fixed"]
seeds = [1]
end_s = 60
num_cpus = 1
SPEC
for i in $(seq 1 "$N"); do
  ( TRAFFICAI_DATA_DIR="$WORK/d$i" PYTHONPATH="$ROOT" timeout -s KILL "$LIMIT" "$PY" -m trafficai.cli \
      sweep "$WORK/tiny.toml" --json --chart "$WORK/c$i.png" > "$WORK/o$i" 2> "$WORK/e$i"
    echo "$?" > "$WORK/rc$i" ) &
done
wait
failed=0
for i in $(seq 1 "$N"); do
  rc=$(cat "$WORK/rc$i"); [ "$rc" = 0 ] || failed=1
  echo "run $i: exit $rc $(grep -v '^\s' "$WORK/e$i" | tail -n 1)"
done
rm -rf "$WORK"
exit $failed
