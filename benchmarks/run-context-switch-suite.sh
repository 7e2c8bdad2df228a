#!/usr/bin/env bash
# Full run of the context-switch suite with both profilers; writes the JMH JSON and the plot
# under docs/results/. Takes about 5 minutes on 2 cores. Finds a JDK 21+ like the README commands.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
[ -f benchmarks/target/benchmarks.jar ] || "${MVN[@]}" -q -DskipTests package
out=docs/results
mkdir -p "$out"
stamp=$(date -u +%Y-%m-%d)
java -jar benchmarks/target/benchmarks.jar ContextSwitchBenchmark -foe true \
  -prof gc -prof io.millrace.bench.ContextSwitchProfiler \
  -rf json -rff "$out/context-switch-$stamp.json" "$@" | tee "$out/context-switch-$stamp.txt"
python3 benchmarks/plot.py "$out/context-switch-$stamp.json" "$out/context-switch-$stamp.svg"
echo "wrote $out/context-switch-$stamp.{json,txt,svg}"
