package io.millrace.demo;

import io.millrace.balance.BalancePolicy;
import io.millrace.balance.StatsView;
import io.millrace.balance.UpstreamSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Collects the reverse-proxy flags while {@link DemoConfig#parse} walks the command line, checks
 * them together at the end, and makes the {@link ProxySettings}. The defaults are the library's
 * ({@code HttpProxyBuilder}, {@code UpstreamGroupBuilder}, {@code OutboundOptions}), written here
 * once more in the units of the flags.
 *
 * <p>Threading: one thread parses.
 */
final class ProxyFlags
{
    /** The flags' part of {@link DemoConfig#USAGE}. */
    static final String USAGE = """
        Reverse proxy (with --upstream or --upstream-file every request but /metrics and /stats goes
        to the upstream group, and /kv, /log, /tally, /files, /hello, /slow are not served):
          --upstream SPEC        an upstream, repeatable: HOST:PORT[,weight=N][,backup][,zone=Z][,max-fails=N]
                                 [,fail-timeout=T][,slow-start=T][,max-conns=N][,max-pending=N][,max-in-flight=N]
                                 (T like 500ms, 10s, 1m30s), e.g. 127.0.0.1:9002,weight=3 or 127.0.0.1:9003,backup
          --upstream-file PATH   more upstreams, one SPEC a line (# comments); re-read on SIGHUP: new lines
                                 join, missing ones drain (their requests in flight finish), changed ones update
          --balance NAME         round-robin (default), least-conn, least-time, random-two, ip-hash, hash,
                                 consistent-hash (both on the client address), weighted-response-time,
                                 best-available, availability-filtering, zone-avoidance
          --health-path PATH     active probes: GET PATH on each upstream, 2xx/3xx is healthy
          --probe-interval-ms N  active probes every N ms (default 2000 with --health-path; alone: TCP connects)
          --rise N               successful probes in a row that bring an upstream up (default 2)
          --fall N               failed probes in a row that take it down (default 3)
          --max-fails N          failures within --fail-timeout-ms that eject an upstream, 0 never (default 1)
          --fail-timeout-ms N    the failure window and the first ejection's length (default 10000)
          --max-ejection-ms N    repeated ejections double up to this (default 300000)
          --max-ejection-percent N  eject at most this share of upstreams at once (default 100: no cap)
          --slow-start-ms N      a re-admitted upstream's weight ramps up over N ms (default 0: none)
          --latency-decay-ms N   a latency average halves for each N ms without a sample (default 10000)
          --stats-view V         merged (all workers' counts, default) or worker (the picking worker's)
          --retries N            next-upstream tries beyond the first, on connect errors and timeouts (default 2)
          --next-upstream-timeout-ms N  no retry starts this long after the first attempt (default 10000)
          --retry-on LIST        also retry these upstream statuses: some of 502,503,504 (default: none)
          --retry-non-idempotent retry POST and PATCH even after they were sent (default: only before)
          --proxy-connect-timeout-ms N  upstream connect timeout (default 5000)
          --proxy-read-timeout-ms N     no upstream byte for this long fails the attempt, 0 none (default 60000)
          --proxy-idle-timeout-ms N     close pooled upstream connections idle this long (default 4000);
                                        keep it below the upstreams' own keep-alive timeout
          --proxy-keepalive N    idle upstream connections kept per upstream and worker, 0 none (default 32)
          --proxy-keepalive-requests N  requests per upstream connection before it is closed (default 1000)
          --proxy-max-conns N    upstream connections per upstream and worker; past it the next upstream,
                                 or 503 (default 1024)
          --proxy-via NAME       the pseudonym added to Via (default millrace)
        """;

    private final List<UpstreamSpec> upstreams = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    /** Proxy-only flags seen, to tell the user they need an upstream. */
    private final Set<String> seen = new LinkedHashSet<>();
    private Path upstreamFile;
    private String balance = BalancePolicy.ROUND_ROBIN;
    private String healthPath;
    private long probeIntervalMs;
    private int rise = 2;
    private int fall = 3;
    private boolean riseOrFall;
    private int maxFails = 1;
    private long failTimeoutMs = 10_000;
    private long maxEjectionMs = 300_000;
    private int maxEjectionPercent = 100;
    private long slowStartMs;
    private long latencyDecayMs = 10_000;
    private StatsView statsView = StatsView.MERGED;
    private int retries = 2;
    private long nextUpstreamTimeoutMs = 10_000;
    private List<Integer> retryOn = List.of();
    private boolean retryNonIdempotent;
    private long connectTimeoutMs = 5_000;
    private long readTimeoutMs = 60_000;
    private long idleTimeoutMs = 4_000;
    private int keepalive = 32;
    private int keepaliveRequests = 1000;
    private int maxConns = 1024;
    private String via = "millrace";

    /**
     * Takes {@code args[i]} if it is a proxy flag.
     *
     * @return the number of values it consumed after the flag (0 or 1), or -1 if it is not a proxy flag
     * @throws IllegalArgumentException naming the flag and what it needs
     */
    int accept(final String[] args, final int i)
    {
        final String flag = args[i];
        final int v = i + 1;
        switch (flag)
        {
            case "--upstream" ->
            {
                final String text = DemoConfig.value(args, v, flag);
                final UpstreamSpec spec;
                try
                {
                    spec = UpstreamSpec.parse(text);
                }
                catch (final IllegalArgumentException e)
                {
                    throw new IllegalArgumentException("--upstream '" + text + "': " + e.getMessage(), e);
                }
                if (!names.add(spec.name()))
                {
                    throw new IllegalArgumentException("--upstream " + spec.name() + " is given twice; give each upstream once");
                }
                upstreams.add(spec);
                return 1;
            }
            case "--upstream-file" ->
            {
                upstreamFile = Path.of(DemoConfig.value(args, v, flag));
                return 1;
            }
            case "--retry-non-idempotent" ->
            {
                seen.add(flag);
                retryNonIdempotent = true;
                return 0;
            }
            default ->
            {
                // every other proxy flag takes one value
            }
        }
        if (!takesValue(flag))
        {
            return -1;
        }
        seen.add(flag);
        switch (flag)
        {
            case "--balance" -> balance = policy(DemoConfig.value(args, v, flag));
            case "--health-path" -> healthPath = healthPath(DemoConfig.value(args, v, flag));
            case "--probe-interval-ms" -> probeIntervalMs = DemoConfig.longNumber(args, v, flag, 1, 86_400_000);
            case "--rise" -> { rise = DemoConfig.number(args, v, flag, 1, 100); riseOrFall = true; }
            case "--fall" -> { fall = DemoConfig.number(args, v, flag, 1, 100); riseOrFall = true; }
            case "--max-fails" -> maxFails = DemoConfig.number(args, v, flag, 0, UpstreamSpec.MAX_FAILS);
            case "--fail-timeout-ms" -> failTimeoutMs = DemoConfig.longNumber(args, v, flag, 1, 86_400_000);
            case "--max-ejection-ms" -> maxEjectionMs = DemoConfig.longNumber(args, v, flag, 1, 86_400_000);
            case "--max-ejection-percent" -> maxEjectionPercent = DemoConfig.number(args, v, flag, 0, 100);
            case "--slow-start-ms" -> slowStartMs = DemoConfig.longNumber(args, v, flag, 0, 86_400_000);
            case "--latency-decay-ms" -> latencyDecayMs = DemoConfig.longNumber(args, v, flag, 1, 86_400_000);
            case "--stats-view" -> statsView = statsView(DemoConfig.value(args, v, flag));
            case "--retries" -> retries = DemoConfig.number(args, v, flag, 0, 99);
            case "--next-upstream-timeout-ms" -> nextUpstreamTimeoutMs = DemoConfig.longNumber(args, v, flag, 1, 86_400_000);
            case "--retry-on" -> retryOn = statuses(DemoConfig.value(args, v, flag));
            case "--proxy-connect-timeout-ms" -> connectTimeoutMs = DemoConfig.longNumber(args, v, flag, 1, 3_600_000);
            case "--proxy-read-timeout-ms" -> readTimeoutMs = DemoConfig.longNumber(args, v, flag, 0, 86_400_000);
            case "--proxy-idle-timeout-ms" -> idleTimeoutMs = DemoConfig.longNumber(args, v, flag, 1, 86_400_000);
            case "--proxy-keepalive" -> keepalive = DemoConfig.number(args, v, flag, 0, 100_000);
            case "--proxy-keepalive-requests" -> keepaliveRequests = DemoConfig.number(args, v, flag, 1, Integer.MAX_VALUE);
            case "--proxy-max-conns" -> maxConns = DemoConfig.number(args, v, flag, 1, 1_000_000);
            case "--proxy-via" -> via = via(DemoConfig.value(args, v, flag));
            default -> throw new IllegalStateException(flag);
        }
        return 1;
    }

    private static boolean takesValue(final String flag)
    {
        return switch (flag)
        {
            case "--balance", "--health-path", "--probe-interval-ms", "--rise", "--fall", "--max-fails",
                 "--fail-timeout-ms", "--max-ejection-ms", "--max-ejection-percent", "--slow-start-ms",
                 "--latency-decay-ms", "--stats-view", "--retries", "--next-upstream-timeout-ms", "--retry-on",
                 "--proxy-connect-timeout-ms", "--proxy-read-timeout-ms", "--proxy-idle-timeout-ms",
                 "--proxy-keepalive", "--proxy-keepalive-requests", "--proxy-max-conns", "--proxy-via" -> true;
            default -> false;
        };
    }

    /**
     * @return the settings, once every flag was read
     * @throws IllegalArgumentException for a proxy flag without an upstream, or {@code --rise}/{@code --fall} without probes
     */
    ProxySettings settings()
    {
        final boolean enabled = !upstreams.isEmpty() || upstreamFile != null;
        if (!enabled && !seen.isEmpty())
        {
            throw new IllegalArgumentException(String.join(", ", seen) + (seen.size() == 1 ? " is" : " are") +
                " for the reverse proxy: add --upstream HOST:PORT (or --upstream-file PATH), or drop " +
                (seen.size() == 1 ? "it" : "them"));
        }
        long interval = probeIntervalMs;
        if (interval == 0 && healthPath != null)
        {
            interval = ProxySettings.DEFAULT_PROBE_INTERVAL_MS;
        }
        if (interval == 0 && riseOrFall)
        {
            throw new IllegalArgumentException("--rise and --fall count active probes: add --health-path PATH " +
                "(HTTP probes) or --probe-interval-ms N (TCP connects)");
        }
        return new ProxySettings(upstreams, upstreamFile, balance, healthPath, interval, rise, fall, maxFails, failTimeoutMs,
            maxEjectionMs, maxEjectionPercent, slowStartMs, latencyDecayMs, statsView, retries, nextUpstreamTimeoutMs,
            retryOn, retryNonIdempotent, connectTimeoutMs, readTimeoutMs, idleTimeoutMs, keepalive, keepaliveRequests,
            maxConns, via);
    }

    private static String policy(final String name)
    {
        try
        {
            return BalancePolicy.named(name).name();
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalArgumentException("--balance: " + e.getMessage(), e);
        }
    }

    private static String healthPath(final String path)
    {
        if (path.isEmpty() || path.charAt(0) != '/' || path.chars().anyMatch(c -> c <= ' ' || c >= 0x7F || c == '#'))
        {
            throw new IllegalArgumentException("--health-path needs a path such as /health (visible ASCII, no '#'), got '" +
                path + "'");
        }
        return path;
    }

    private static StatsView statsView(final String text)
    {
        return switch (text)
        {
            case "merged" -> StatsView.MERGED;
            case "worker" -> StatsView.WORKER;
            default -> throw new IllegalArgumentException("--stats-view is merged or worker, got '" + text + "'");
        };
    }

    private static List<Integer> statuses(final String text)
    {
        final List<Integer> out = new ArrayList<>();
        for (final String part : text.split(",", -1))
        {
            final String s = part.strip();
            if (!s.equals("502") && !s.equals("503") && !s.equals("504"))
            {
                throw new IllegalArgumentException("--retry-on takes some of 502,503,504 separated by commas, got '" + text + "'");
            }
            if (!out.contains(Integer.parseInt(s)))
            {
                out.add(Integer.parseInt(s));
            }
        }
        return out;
    }

    private static String via(final String text)
    {
        if (text.isEmpty() || !text.chars().allMatch(c -> c > ' ' && c < 0x7F && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0))
        {
            throw new IllegalArgumentException("--proxy-via needs a token such as millrace (letters, digits, -._~ and the like), got '" + text + "'");
        }
        return text;
    }
}
