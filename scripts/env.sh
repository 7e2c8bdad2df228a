#!/usr/bin/env bash
# Sourced by ./run-demo and ./run-tests: finds a JDK 21+ and Maven, or stops with what to install.
# Order: $JAVA_HOME if it is 21+, then the newest JDK under /usr/lib/jvm, then `java` on the PATH.

jdk_major() { # $1 = a JDK home; prints its feature version, or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    awk -F'= ' '/java.specification.version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

find_jdk() {
  local best="" best_major=0 home major
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(jdk_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then echo "$JAVA_HOME"; return 0; fi
  fi
  for home in /usr/lib/jvm/* /opt/java/* /usr/local/lib/jvm/*; do
    [ -d "$home" ] || continue
    major=$(jdk_major "$home")
    if [ -n "$major" ] && [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then
      best="$home"; best_major="$major"
    fi
  done
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(jdk_major "$home")
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then best="$home"; fi
  fi
  [ -n "$best" ] && echo "$best"
}

JAVA_HOME=$(find_jdk) || true
if [ -z "${JAVA_HOME:-}" ]; then
  echo "Millrace needs a JDK 21 or newer and found none (checked \$JAVA_HOME, /usr/lib/jvm, the PATH)." >&2
  echo "Install one, for example: sudo apt-get install openjdk-21-jdk   (or a Temurin 21+ JDK), then run this again." >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

if ! command -v mvn >/dev/null 2>&1; then
  echo "Millrace builds with Apache Maven 3.8+ and found no 'mvn' on the PATH." >&2
  echo "Install it, for example: sudo apt-get install maven, then run this again." >&2
  exit 1
fi
# Quiet JDK 24+'s warnings about Maven's own use of sun.misc.Unsafe; they are not about Millrace.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
if [ "$(jdk_major "$JAVA_HOME")" -lt 23 ]; then
  MAVEN_OPTS="${MAVEN_OPTS/--sun-misc-unsafe-memory-access=allow/}"
fi
# Maven 3.8's console library (Jansi 2) writes a colour reset (ESC[0m) to stdout and stderr whenever
# it uninstalls its streams, batch mode and -q included; this stops it, so that our scripts' output
# carries no terminal escape codes.
MAVEN_OPTS="$MAVEN_OPTS -Djansi.noreset=true"
MVN=(mvn -B -ntp)
