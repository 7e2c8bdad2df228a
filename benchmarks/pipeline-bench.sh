#!/usr/bin/env bash
# The realistic pipeline, three ways, in one JMH run (PipelineBenchmark): Millrace, a thread pool per
# stage, a virtual thread per request. Runs it with the gc, context-switch and latency profilers,
# writes the JMH JSON and text under docs/results/, and prints a table with the ratios the goals name.
#
#   benchmarks/pipeline-bench.sh                 3 forks x 5 x 1 s after 3 x 1 s warm-up (~2 min)
#   benchmarks/pipeline-bench.sh -f 1 -i 2       any extra arguments go to JMH
#   OUT=/tmp benchmarks/pipeline-bench.sh        write the results elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
[ -f benchmarks/target/benchmarks.jar ] || "${MVN[@]}" -q -DskipTests -pl benchmarks -am package
out=${OUT:-docs/results}
mkdir -p "$out"
name="$out/pipeline-$(date -u +%Y-%m-%d)"
java -jar benchmarks/target/benchmarks.jar 'PipelineBenchmark' -foe true -f 3 \
  -prof gc -prof io.millrace.bench.ContextSwitchProfiler -prof io.millrace.bench.LatencyProfiler -prof io.millrace.bench.CpuTimeProfiler \
  -rf json -rff "$name.json" "$@" > "$name.txt"
echo "JMH output: $name.txt, JSON: $name.json"
python3 benchmarks/pipeline-table.py "$name.json"
