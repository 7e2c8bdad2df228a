package io.millrace.demo;

import io.millrace.balance.BalancePolicy;
import io.millrace.balance.StatsView;
import io.millrace.balance.UpstreamSpec;

import java.nio.file.Path;
import java.util.List;

/**
 * The demo's reverse-proxy settings, from command-line flags (see {@link DemoConfig#USAGE} and
 * {@link ProxyFlags}). The demo is a proxy when it has upstreams from {@code --upstream} or an
 * {@code --upstream-file}; otherwise {@link #enabled()} is false and every other field keeps its
 * default. Immutable. Times are in milliseconds, as the flags give them.
 *
 * @param upstreams            from {@code --upstream}, in order
 * @param upstreamFile         one spec per line, re-read on SIGHUP; null if none
 * @param balance              the balancing policy's name ({@link BalancePolicy#named})
 * @param healthPath           active probes are {@code GET healthPath}; null for TCP connects (when probing)
 * @param probeIntervalMs      time between probes of one upstream; 0 for no active probes
 * @param rise                 successful probes in a row that bring an upstream up
 * @param fall                 failed probes in a row that take it down
 * @param maxFails             failed attempts within the fail timeout that eject an upstream (0: never)
 * @param failTimeoutMs        the counting window and the first ejection's length
 * @param maxEjectionMs        the longest ejection under back-off
 * @param maxEjectionPercent   at most this share of upstreams ejected at once (100: no cap)
 * @param slowStartMs          a re-admitted upstream's weight ramps up over this (0: no ramp)
 * @param latencyDecayMs       a latency average halves for each such period without a sample
 * @param statsView            whose counts the policies compare
 * @param retries              next-upstream tries beyond the first
 * @param nextUpstreamTimeoutMs no retry starts this long after the first attempt began
 * @param retryOn              statuses retried on the next upstream (some of 502, 503, 504)
 * @param retryNonIdempotent   POST and PATCH may be retried after they were sent
 * @param connectTimeoutMs     upstream connect timeout
 * @param readTimeoutMs        no upstream byte for this long fails the attempt (0: none)
 * @param idleTimeoutMs        an idle pooled upstream connection is closed after this long
 * @param keepalive            idle upstream connections kept per upstream and worker (0: no pooling)
 * @param keepaliveRequests    requests one upstream connection serves before it is closed
 * @param maxConns             upstream connections per upstream and worker
 * @param via                  the pseudonym added to {@code Via}
 */
public record ProxySettings(
    List<UpstreamSpec> upstreams,
    Path upstreamFile,
    String balance,
    String healthPath,
    long probeIntervalMs,
    int rise,
    int fall,
    int maxFails,
    long failTimeoutMs,
    long maxEjectionMs,
    int maxEjectionPercent,
    long slowStartMs,
    long latencyDecayMs,
    StatsView statsView,
    int retries,
    long nextUpstreamTimeoutMs,
    List<Integer> retryOn,
    boolean retryNonIdempotent,
    long connectTimeoutMs,
    long readTimeoutMs,
    long idleTimeoutMs,
    int keepalive,
    int keepaliveRequests,
    int maxConns,
    String via)
{
    /** Default time between probes once probes are on ({@code --health-path} without {@code --probe-interval-ms}). */
    public static final long DEFAULT_PROBE_INTERVAL_MS = 2000;

    /** Copies the lists, so that the record stays immutable. */
    public ProxySettings
    {
        upstreams = List.copyOf(upstreams);
        retryOn = List.copyOf(retryOn);
    }

    /** @return the settings of a demo that is not a proxy: no upstreams, every default */
    public static ProxySettings none()
    {
        return new ProxyFlags().settings();
    }

    /** @return whether the demo proxies (it has {@code --upstream} or {@code --upstream-file}) */
    public boolean enabled()
    {
        return !upstreams.isEmpty() || upstreamFile != null;
    }

    /** @return whether the group runs active probes */
    public boolean probes()
    {
        return probeIntervalMs > 0;
    }
}
