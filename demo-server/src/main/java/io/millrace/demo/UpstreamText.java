package io.millrace.demo;

import io.millrace.balance.UpstreamState;
import io.millrace.balance.UpstreamStats;
import io.millrace.http.HttpProxy;
import io.millrace.net.OutboundStats;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The reverse proxy's figures as Prometheus text exposition 0.0.4 families, appended to
 * {@code /metrics} when the demo proxies: one sample per upstream, labelled
 * {@code upstream="HOST:PORT"} (e.g. {@code millrace_upstream_requests_total{upstream="127.0.0.1:9001"}}),
 * then the proxy's and its outbound connections' unlabelled counters. A family with no upstream
 * (an empty group) is left out, as the other renderers leave out empty families. Latencies are in
 * seconds. The stats page shows the same through {@code io.millrace.demo.stats.UpstreamsSection}.
 *
 * <p>Stateless; safe from any thread.
 */
final class UpstreamText
{
    private UpstreamText()
    {
    }

    static void render(final List<UpstreamStats> upstreams, final HttpProxy proxy, final OutboundStats outbound,
                       final StringBuilder out)
    {
        if (!upstreams.isEmpty())
        {
            out.append("# HELP millrace_upstream_info Upstreams in the group (draining ones included); always 1.\n")
                .append("# TYPE millrace_upstream_info gauge\n");
            for (final UpstreamStats u : upstreams)
            {
                out.append("millrace_upstream_info{").append(label("upstream", u.name())).append(',')
                    .append(label("zone", u.zone() == null ? "" : u.zone())).append(',')
                    .append(label("backup", u.backup() ? "true" : "false")).append("} 1\n");
            }
            out.append("# HELP millrace_upstream_state The upstream's state: 1 for the state it is in (up, slow_start, ")
                .append("ejected, probe_down, draining, removed).\n# TYPE millrace_upstream_state gauge\n");
            for (final UpstreamStats u : upstreams)
            {
                out.append("millrace_upstream_state{").append(label("upstream", u.name())).append(',')
                    .append(label("state", u.state().name().toLowerCase(Locale.ROOT))).append("} 1\n");
            }
        }
        family(out, "millrace_upstream_up", "gauge", "1 while the upstream takes new requests (up or in slow start), else 0.",
            upstreams, u -> u.state() == UpstreamState.UP || u.state() == UpstreamState.SLOW_START ? 1 : 0);
        family(out, "millrace_upstream_weight", "gauge", "Configured weight.", upstreams, UpstreamStats::weight);
        family(out, "millrace_upstream_active", "gauge", "Attempts in flight to the upstream now.", upstreams,
            UpstreamStats::active);
        family(out, "millrace_upstream_requests_total", "counter", "Attempts started (retries count once per upstream tried).",
            upstreams, UpstreamStats::requests);
        family(out, "millrace_upstream_successes_total", "counter", "Attempts that ended with a whole response.", upstreams,
            UpstreamStats::successes);
        family(out, "millrace_upstream_failures_total", "counter",
            "Attempts that failed (connect error, timeout, broken response, or a retried status); they count toward ejection.",
            upstreams, UpstreamStats::failures);
        family(out, "millrace_upstream_ejections_total", "counter", "Passive ejections (max-fails within fail-timeout).",
            upstreams, UpstreamStats::ejections);
        family(out, "millrace_upstream_latency_seconds", "gauge",
            "Decaying average response time of successful attempts (what least-time compares); 0 before any.",
            upstreams, u -> u.latencyNanos() / 1e9);
        family(out, "millrace_upstream_latency_mean_seconds", "gauge", "Mean response time of successful attempts since start.",
            upstreams, u -> u.meanLatencyNanos() / 1e9);
        single(out, "millrace_proxy_retries_total", "counter", "Attempts made after a failed one (next upstream or a fresh connection).",
            proxy.retries());
        single(out, "millrace_proxy_errors_total", "counter", "Proxied requests answered 502, 503 or 504 by the proxy, or cut short.",
            proxy.errors());
        single(out, "millrace_proxy_client_pauses_total", "counter", "Times relaying paused because a client read slowly.",
            proxy.clientPauses());
        single(out, "millrace_upstream_connections_open", "gauge", "Upstream connections open now (all workers).", outbound.open());
        single(out, "millrace_upstream_connections_idle", "gauge", "Upstream connections idle in the workers' pools.", outbound.idle());
        single(out, "millrace_upstream_connects_total", "counter", "Upstream connects started.", outbound.connects());
        single(out, "millrace_upstream_connect_failures_total", "counter", "Upstream connects that failed.", outbound.connectFailures());
        single(out, "millrace_upstream_pool_hits_total", "counter", "Leases served by a pooled connection.", outbound.poolHits());
        single(out, "millrace_upstream_stale_reuses_total", "counter",
            "Pooled connections the upstream closed as a request was sent (retried on a fresh one).", outbound.staleReuses());
    }

    private static void family(final StringBuilder out, final String name, final String type, final String help,
                               final List<UpstreamStats> upstreams, final ToDoubleFunction<UpstreamStats> value)
    {
        if (upstreams.isEmpty())
        {
            return;
        }
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
            .append("# TYPE ").append(name).append(' ').append(type).append('\n');
        for (final UpstreamStats u : upstreams)
        {
            out.append(name).append('{').append(label("upstream", u.name())).append("} ");
            number(out, value.applyAsDouble(u));
            out.append('\n');
        }
    }

    private static void single(final StringBuilder out, final String name, final String type, final String help, final long value)
    {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
            .append("# TYPE ").append(name).append(' ').append(type).append('\n')
            .append(name).append(' ').append(value).append('\n');
    }

    private static void number(final StringBuilder out, final double v)
    {
        if (v == Math.rint(v) && Math.abs(v) < 1e15)
        {
            out.append((long)v);
        }
        else
        {
            out.append(v);
        }
    }

    /** A label with its value escaped as the exposition format says: backslash, double quote, newline. */
    private static String label(final String name, final String value)
    {
        return name + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + '"';
    }
}
