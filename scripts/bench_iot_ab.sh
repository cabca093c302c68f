#!/bin/bash
# Old vs new IoT benchmark side by side: the iot code of git ref OLD (default main) against this
# working tree, both measured by this tree's harness (trafficai/iot/bench.py, fuzz.py), alternating,
# with the load average beside every figure.  Usage: scripts/bench_iot_ab.sh [OLD] [PYTHON]
set -euo pipefail
old_ref=${1:-main}
py=${2:-${PYTHON:-python}}
new=$(cd "$(dirname "$0")/.." && pwd)
old=$(mktemp -d /tmp/trafficai-iot-ab-XXXX)
trap 'rm -rf "$old"' EXIT
git -C "$new" archive "$old_ref" trafficai | tar -x -C "$old"
cp "$new/trafficai/iot/bench.py" "$new/trafficai/iot/fuzz.py" "$old/trafficai/iot/"
load() { cut -d' ' -f1 /proc/loadavg; }
run() {  # run SIDE PYTHON-CODE: the code prints one line of figures
  local tree=$new; [ "$1" = old ] && tree=$old
  local l0; l0=$(load)
  local out; out=$(cd "$tree" && PYTHONPATH="$tree" "$py" -c "$2")
  echo "$1 $out loadavg=$l0..$(load)"
}
figures='print(" ".join(f"{k}={v:.2f}" for k, v in r.items() if isinstance(v, float)))'
echo "== in-process bus, 10 s each"
for _ in 1 2 3; do
  for side in old new; do
    run $side "
from pathlib import Path; import tempfile
from trafficai.iot.bench import bench_inproc
with tempfile.TemporaryDirectory() as d: r = bench_inproc(Path(d), 10.0)
$figures"
  done
done
echo "== validation: 100,000 generated payloads each"
for side in old new; do
  run $side "
from pathlib import Path; import tempfile
from trafficai.iot.bench import fuzz_validation, validation_times_ms
with tempfile.TemporaryDirectory() as d: r = fuzz_validation(Path(d), 100_000)
r['valid_p50_ms'], r['valid_p99_ms'] = validation_times_ms()
r['fuzz_misjudged'] = float(r['fuzz_misjudged'])
$figures"
done
echo "== Mosquitto path: 30 s sustained + 30 s latency at 1,000 msg/s each"
for _ in 1 2; do
  for side in old new; do
    run $side "
from pathlib import Path; import tempfile
from trafficai.iot.bench import bench_mqtt
with tempfile.TemporaryDirectory() as d: r = bench_mqtt(Path(d), 30.0, 1000.0, lambda m: None)
$figures"
  done
done
