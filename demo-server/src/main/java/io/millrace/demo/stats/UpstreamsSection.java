package io.millrace.demo.stats;

import io.millrace.balance.UpstreamState;
import io.millrace.balance.UpstreamStats;
import io.millrace.http.HttpProxy;

import java.util.List;
import java.util.function.Supplier;

/**
 * The reverse proxy's upstream table: per upstream its address, zone, state, weight, requests in
 * flight, requests, failures, ejections and latency; then the proxy's retries and errors. Shown
 * when the demo proxies ({@code --upstream}).
 *
 * <p>State reads {@code up}, {@code backup} (a backup server that is up: it takes requests only
 * when no primary can), {@code slow start}, {@code ejected} (passive health), {@code down}
 * (active probes), {@code draining} or {@code removed}. Latency is the library's decaying average
 * of successful attempts, the figure {@code least-time} compares, and the plain mean since start;
 * the balancer keeps no per-upstream histogram, so there is no percentile here.
 *
 * <p>Stateless apart from its sources; safe from any thread (the figures are read without locks).
 */
public final class UpstreamsSection implements StatsSection
{
    private final Supplier<List<UpstreamStats>> upstreams;
    private final HttpProxy proxy;

    /**
     * @param upstreams the group's figures, e.g. {@code group::stats}
     * @param proxy     the proxy, for its retry and error counters
     */
    public UpstreamsSection(final Supplier<List<UpstreamStats>> upstreams, final HttpProxy proxy)
    {
        this.upstreams = upstreams;
        this.proxy = proxy;
    }

    @Override
    public String title()
    {
        return "Upstreams";
    }

    @Override
    public void render(final StatsFrame frame, final StringBuilder html)
    {
        final List<UpstreamStats> all = upstreams.get();
        if (all.isEmpty())
        {
            html.append("<p>No upstreams: the group is empty (add some to the upstream file and send SIGHUP).</p>\n");
        }
        else
        {
            html.append("<table>\n");
            Html.row(html, "th", 0, "upstream", "zone", "state", "weight", "active", "requests", "failures", "ejections",
                "latency (avg)", "latency (mean)");
            for (final UpstreamStats u : all)
            {
                Html.row(html, "td", 3, Html.escape(u.name()), u.zone() == null ? "-" : Html.escape(u.zone()),
                    stateCell(u), weight(u), Units.count(u.active()), Units.count(u.requests()), Units.count(u.failures()),
                    Units.count(u.ejections()), latency(u.latencyNanos()), latency(u.meanLatencyNanos()));
            }
            html.append("</table>\n");
        }
        html.append("<p>retries ").append(Units.count(proxy.retries())).append(", proxy errors (502/503/504 or cut short) ")
            .append(Units.count(proxy.errors())).append(", slow-client pauses ").append(Units.count(proxy.clientPauses()))
            .append("</p>\n");
    }

    /** The state's word, in the warning colour when the upstream takes no requests. */
    static String stateCell(final UpstreamStats u)
    {
        final String word = state(u);
        final boolean out = u.state() != UpstreamState.UP && u.state() != UpstreamState.SLOW_START;
        return out ? "<span class=\"warn-text\">" + word + "</span>" : word;
    }

    /** @return up, backup, slow start, ejected, down, draining or removed */
    static String state(final UpstreamStats u)
    {
        return switch (u.state())
        {
            case UP -> u.backup() ? "backup" : "up";
            case SLOW_START -> "slow start";
            case EJECTED -> "ejected";
            case PROBE_DOWN -> "down";
            case DRAINING -> "draining";
            case REMOVED -> "removed";
        };
    }

    private static String weight(final UpstreamStats u)
    {
        if (u.state() == UpstreamState.SLOW_START && u.effectiveWeight() < 1000)
        {
            return u.weight() + " (" + Units.percent(u.effectiveWeight() / 1000.0) + ")";
        }
        return Integer.toString(u.weight());
    }

    private static String latency(final long nanos)
    {
        return nanos <= 0 ? "-" : Units.duration(nanos);
    }
}
