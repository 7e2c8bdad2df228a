#!/usr/bin/env bash
# Runs the jcstress tests of concurrency-tests/ (see docs/testing.md).
#
#   scripts/jcstress.sh [quick|long|tough] [jcstress options...]
#
#   quick  (default; what CI runs) one JVM configuration per test: the normal tiered JVM, no split
#          compilation, 5 x 400 ms. About 90 s on a 2-core machine.
#   long   jcstress's default preset: every JVM configuration it detects (interpreter, C1, C2, C2 with
#          its randomizers), per-actor split compilation, 5 x 1 s per fork. Hours.
#   tough  jcstress's tough preset: as long, with 10 forks of 10 iterations. Many hours.
#
# Further options go to jcstress, e.g. -t InboxParking to select tests by regexp.
# Builds the module first if its jar is missing or older than the sources. jcstress's full output
# goes to concurrency-tests/target/jcstress-MODE/jcstress.log, its HTML report next to it; this
# prints one line per test (status and the outcomes seen, with their counts) and a total. Exits
# non-zero if any test saw a forbidden or unknown outcome, failed with an error or timeout, or did
# not run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

mode=quick
case "${1:-}" in
  quick|long|tough) mode=$1; shift ;;
  -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

# Agrona's queues need this in every forked test JVM; jcstress forks, so it is passed as a JVM option.
add_exports="--add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
case "$mode" in
  # -jvmArgs: only this configuration (no auto-detected variants); -sc false: one compilation
  # mode for both actors; -af GLOBAL: one scheduling class. So: one fork per test.
  quick) opts=(-m quick -iters 5 -time 400 -sc false -af GLOBAL -jvmArgs "$add_exports") ;;
  long)  opts=(-m default -jvmArgsPrepend "$add_exports") ;;
  tough) opts=(-m tough -jvmArgsPrepend "$add_exports") ;;
esac

jar=concurrency-tests/target/jcstress.jar
if [ ! -f "$jar" ] || [ -n "$(find pom.xml concurrency-tests/pom.xml concurrency-tests/src framework/pom.xml framework/src/main \
    -newer "$jar" -type f -print -quit)" ]; then
  echo "building $jar"
  "${MVN[@]}" -q -pl concurrency-tests -am package -DskipTests
fi
jar=$(pwd)/$jar

out=concurrency-tests/target/jcstress-$mode
rm -rf "$out"
mkdir -p "$out"
log=$out/jcstress.log

expected=$(java -jar "$jar" -l "$@" | grep -c '^io\.millrace\.' || true)
if [ "$expected" -eq 0 ]; then
  echo "jcstress: no test matches '$*'" >&2
  exit 1
fi

echo "jcstress $mode: $expected tests; log: $log"
start=$(date +%s)
set +e
if [ "$mode" = quick ]; then
  (cd "$out" && java -jar "$jar" "${opts[@]}" -v -r results "$@") >"$log" 2>&1
  rc=$?
else
  # Long runs show jcstress's progress lines as they come.
  (cd "$out" && java -jar "$jar" "${opts[@]}" -v -r results "$@") 2>&1 | tee "$log" |
    grep --line-buffered -E '^\((ETA|Results):'
  rc=${PIPESTATUS[0]}
fi
set -e
elapsed=$(( $(date +%s) - start ))

# The final "RUN RESULTS" section lists every test as "[STATUS] name", then its outcome table:
# RESULT, SAMPLES, FREQ, EXPECT, DESCRIPTION, columns separated by two or more spaces.
awk -v expected="$expected" -v rc="$rc" -v elapsed="$elapsed" -v logfile="$log" '
  function flush() {
    if (name != "") { printf "  %-8s %s%s\n", status, name, outcomes | "sort -k2"; }
    name = ""; outcomes = "";
  }
  /^RUN RESULTS:/ { inResults = 1; next }
  !inResults { if ($0 ~ /^FATAL/) fatal = fatal $0 " "; next }
  /\[(OK|FAILED|ERROR|TIMEOUT|VM ERROR|SKIPPED)\] io\.millrace\./ {
    flush();
    status = $0; sub(/^[ .]*\[/, "", status); sub(/\].*/, "", status);
    name = $0; sub(/.*\] /, "", name);
    if (seen[name]++) { name = ""; next }   # a test printed twice (Interesting, then Failed)
    total++;
    if (status == "OK") passed++; else failed++;
    next
  }
  name != "" && /^ +[^ ].*  +[0-9,]+  +[<>]?[0-9.]+%  +[A-Za-z]+/ {
    line = $0; sub(/^ +/, "", line);
    n = split(line, f, /  +/);
    samples = f[2]; gsub(/,/, "", samples);
    if (samples + 0 == 0) next;
    mark = (f[4] == "Acceptable") ? "" : (f[4] == "Interesting") ? " interesting" : " " toupper(f[4]);
    outcomes = outcomes "  [" f[1] "]" mark "=" samples;
    next
  }
  END {
    flush();
    close("sort -k2");
    if (fatal != "") { print "  " fatal; }
    missing = expected - total;
    if (missing > 0) { printf "  %d test(s) did not run; see %s\n", missing, logfile; failed += missing; }
    printf "jcstress: %d passed, %d failed (%d s)\n", passed, failed, elapsed;
    if (failed > 0 || total == 0 || rc != 0 || fatal != "") {
      printf "jcstress FAILED (exit code %d); details in %s and %s\n", rc, logfile, "its results/index.html";
      exit 1;
    }
  }
' "$log"
