package io.millrace.demo;

import io.millrace.demo.http.PrometheusText;
import io.millrace.demo.stats.StatsPage;
import io.millrace.http.HeaderBlock;
import io.millrace.http.HttpExchange;
import io.millrace.http.HttpServer;
import io.millrace.log.GroupCommit;
import io.millrace.log.LogDirectory;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The handlers behind the demo's stateless endpoints, one stage each ({@code /kv} is
 * {@link DurableKv}, {@code /log} is {@link LogEndpoints}). Each answers with one of the exchange's
 * respond methods.
 */
final class Endpoints
{
    private static final HeaderBlock TEXT = HeaderBlock.TEXT_PLAIN;
    /** The stats page changes every second: a browser must not show a stale copy on reload. */
    private static final HeaderBlock NO_STORE_HTML = HeaderBlock.of("Content-Type", "text/html; charset=utf-8",
        "Cache-Control", "no-store");
    private static final HeaderBlock PROMETHEUS = HeaderBlock.contentType(PrometheusText.CONTENT_TYPE);
    private static final byte[] HELLO = "Hello, World!\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_SLOW_MS = 2_000;

    private final Supplier<HttpServer> server;
    private final GroupCommit commit;
    private final LogDirectory directory;
    private final Supplier<StatsPage> statsPage;
    /** The reverse proxy, or null; a proxy has no logs ({@code commit} and {@code directory} are null). */
    private final ProxyMode proxy;

    Endpoints(final Supplier<HttpServer> server, final GroupCommit commit, final LogDirectory directory,
              final Supplier<StatsPage> statsPage, final ProxyMode proxy)
    {
        this.proxy = proxy;
        this.server = server;
        this.commit = commit;
        this.directory = directory;
        this.statsPage = statsPage;
    }

    /** {@code GET /hello}: inline, allocation free. */
    Outcome hello(final HttpExchange x, final StageContext ctx)
    {
        return x.respond(200, TEXT, HELLO);
    }

    /** {@code GET /slow?ms=N}: stands for a blocking legacy call; runs on the blocking(2) pool. */
    Outcome slow(final HttpExchange x, final StageContext ctx) throws InterruptedException
    {
        int ms = 100;
        final String query = x.query();
        if (query != null && query.startsWith("ms="))
        {
            final String digits = query.substring(3);
            if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit))
            {
                return x.respondText(400, "ms must be a number\n");
            }
            // Clamped, not parsed whole: a number past a long's range is just a long wait, capped.
            ms = digits.length() > 9 ? MAX_SLOW_MS : Math.min(MAX_SLOW_MS, Integer.parseInt(digits));
        }
        // Sleep in slices, so that a request whose client went away stops early.
        final long end = System.nanoTime() + ms * 1_000_000L;
        long left;
        while ((left = end - System.nanoTime()) > 0 && !ctx.cancelled())
        {
            Thread.sleep(Math.max(1, Math.min(50, left / 1_000_000L)));
        }
        return x.respondText(200, "slept " + ms + " ms\n");
    }

    /** {@code GET /metrics}: the pipeline's snapshot in the Prometheus text format. */
    Outcome metrics(final HttpExchange x, final StageContext ctx)
    {
        final HttpServer s = server.get();
        final MetricsSnapshot snapshot = s.metrics();
        final StringBuilder out = new StringBuilder(16 * 1024);
        PrometheusText.render(snapshot, Map.of(), out); // each worker's pools come with its metrics
        TransportText.render(s.transportStats(), out);
        HttpText.render(s.stats(), out);
        if (commit != null)
        {
            LogText.render(commit.stats(), directory.topicCount(), out);
        }
        if (proxy != null)
        {
            UpstreamText.render(proxy.group().stats(), proxy.proxy(), s.outboundStats(), out);
        }
        JvmText.render(s.pipeline().name(), out); // allocation by the pipeline's threads and the JVM
        return x.respond(200, PROMETHEUS, out.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** {@code GET /stats}: a page for a person, refreshing itself, with charts. */
    Outcome stats(final HttpExchange x, final StageContext ctx)
    {
        return x.respond(200, NO_STORE_HTML, statsPage.get().render().getBytes(StandardCharsets.UTF_8));
    }
}
