#!/usr/bin/env bash
# Checks README.md's "Use it in your project" the way a new user would follow it:
#
#   1. installs the framework (parent POM, jar, sources and javadoc jars) with `mvn install`, into a
#      temporary local repository seeded from ~/.m2 (so nothing lands in ~/.m2/repository/io/millrace);
#   2. makes a throwaway project whose pom.xml is a bare <project> header (model version and its own
#      coordinates) around exactly the README's fragment, taken from between its consumer-pom markers,
#      with the sources of scripts/consumer-project/;
#   3. builds it (its JUnit test runs a pipeline in surefire's forked JVM: needs the fragment's argLine),
#      then runs its jar with plain `java -jar` (needs the manifest's Add-Exports).
#
#   scripts/consumer-check.sh [-v]
#
# Prints one line. Everything else goes to a log, which is kept with the work directory and named on
# failure (without the repository copy); -v prints the log as it goes. Run by ./run-tests; takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

verbose=0
[ "${1:-}" = "-v" ] && verbose=1

readme=README.md
m2=${HOME}/.m2/repository
# The framework's coordinates, from the root pom (the parent's version is the framework's).
version=$(sed -n '/<artifactId>millrace-parent<\/artifactId>/{n;s:.*<version>\(.*\)</version>.*:\1:p;q}' pom.xml)
[ -n "$version" ] || { echo "consumer check: cannot read the project version from pom.xml" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/millrace-consumer.XXXXXX")
log=$work/consumer-check.log
repo=$work/repository
app=$work/app
had_millrace_in_m2=0
[ -e "$m2/io/millrace" ] && had_millrace_in_m2=1
ok=0
finish() {
  if [ "$ok" = 1 ]; then
    rm -rf "$work"
  else
    rm -rf "$repo"      # a copy of ~/.m2: large, and of no use for the diagnosis
    [ -f "$log" ] && tail -n 40 "$log"
    echo "consumer check FAILED; log and project kept in $work"
  fi
}
trap finish EXIT

say() { echo "== $*" >> "$log"; }
run() { # logs a command and its output; -v shows them too
  say "$*"
  if [ "$verbose" = 1 ]; then "$@" 2>&1 | tee -a "$log"; return "${PIPESTATUS[0]}"; fi
  "$@" >> "$log" 2>&1
}
fail() { say "FAILED: $*"; echo "consumer check: $*" >&2; exit 1; }

# The fragment: the lines between the markers, without the markdown fence around them.
fragment=$(awk '/<!-- consumer-pom:begin/ { on = 1; next } /<!-- consumer-pom:end/ { on = 0 } on && !/^```/' "$readme")
[ -n "$fragment" ] || fail "no consumer-pom markers (or nothing between them) in $readme"
grep -q "<version>$version</version>" <<< "$fragment" ||
  fail "the README's fragment does not name version $version (the version in pom.xml); update README.md"

# 1. A local repository of its own, seeded offline from ~/.m2 (a copy, so nothing written there reaches ~/.m2).
say "seeding $repo from $m2"
if [ -d "$m2" ]; then cp -r "$m2" "$repo"; else mkdir -p "$repo"; fi
rm -rf "$repo/io/millrace"
run "${MVN[@]}" -Dmaven.repo.local="$repo" -DskipTests -pl framework -am install ||
  fail "mvn install of the framework failed"
installed=$repo/io/millrace/millrace-framework/$version
for f in "millrace-framework-$version.jar" "millrace-framework-$version-sources.jar" "millrace-framework-$version-javadoc.jar"; do
  [ -s "$installed/$f" ] || fail "mvn install did not install $f"
done

# 2. The throwaway project: its own coordinates, then the README's fragment, nothing else.
mkdir -p "$app"
cp -r scripts/consumer-project/src "$app/"
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo '<project xmlns="http://maven.apache.org/POM/4.0.0">'
  echo '  <modelVersion>4.0.0</modelVersion>'
  echo '  <groupId>com.example</groupId>'
  echo '  <artifactId>consumer</artifactId>'
  echo '  <version>1.0</version>'
  echo
  echo "$fragment"
  echo '</project>'
} > "$app/pom.xml"
say "pom.xml of the throwaway project:"
cat "$app/pom.xml" >> "$log"

# 3. Build (compiles, runs its JUnit test), then run its jar as a user would.
run "${MVN[@]}" -f "$app/pom.xml" -Dmaven.repo.local="$repo" package || fail "the throwaway project did not build"
report=$(ls "$app"/target/surefire-reports/TEST-*.xml 2>/dev/null | head -n 1)
[ -n "$report" ] || fail "the throwaway project's test did not run"
head=$(grep -m1 -o '<testsuite [^>]*>' "$report")
tests=$(grep -o ' tests="[0-9]*"' <<< "$head" | grep -o '[0-9]*')
bad=$(( $(grep -o ' failures="[0-9]*"' <<< "$head" | grep -o '[0-9]*') + $(grep -o ' errors="[0-9]*"' <<< "$head" | grep -o '[0-9]*') ))
[ "$tests" -ge 1 ] && [ "$bad" = 0 ] || fail "the throwaway project's tests: $tests run, $bad failed"
jar=$app/target/consumer-1.0.jar
[ -s "$jar" ] || fail "no $jar"
say "java -jar $jar"
out=$(java -jar "$jar" 2>> "$log") || { echo "$out" >> "$log"; fail "java -jar of the throwaway project failed"; }
echo "$out" >> "$log"
grep -q '^consumer: .* (right)$' <<< "$out" || fail "the throwaway project's jar printed no right answer"

if [ "$had_millrace_in_m2" = 0 ] && [ -e "$m2/io/millrace" ]; then
  fail "$m2/io/millrace appeared during the check; delete it (the check must not install there)"
fi
ok=1
echo "consumer check: a throwaway project built from the README's pom fragment compiled, passed its test ($tests) and ran with java -jar against an installed millrace-framework $version (with sources and javadoc jars)"
