package io.millrace.demo;

import io.millrace.demo.http.PrometheusText;
import io.millrace.demo.stats.StatsPage;
import io.millrace.http.HeaderBlock;
import io.millrace.http.HttpExchange;
import io.millrace.http.HttpServer;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The handlers behind the demo's endpoints, one stage each. Each answers with one of the
 * exchange's respond methods.
 */
final class Endpoints
{
    private static final HeaderBlock TEXT = HeaderBlock.TEXT_PLAIN;
    private static final HeaderBlock OCTETS = HeaderBlock.contentType("application/octet-stream");
    /** The stats page changes every second: a browser must not show a stale copy on reload. */
    private static final HeaderBlock NO_STORE_HTML = HeaderBlock.of("Content-Type", "text/html; charset=utf-8",
        "Cache-Control", "no-store");
    private static final HeaderBlock PROMETHEUS = HeaderBlock.contentType(PrometheusText.CONTENT_TYPE);
    private static final byte[] HELLO = "Hello, World!\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_SUCH_KEY = "no such key\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BAD_KEY = "a key is one path segment of 1 to 256 characters: /kv/{key}\n"
        .getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FULL = "the store is full\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_SLOW_MS = 2_000;

    private final KvStore store;
    private final Supplier<HttpServer> server;
    private final Supplier<StatsPage> statsPage;

    Endpoints(final KvStore store, final Supplier<HttpServer> server, final Supplier<StatsPage> statsPage)
    {
        this.store = store;
        this.server = server;
        this.statsPage = statsPage;
    }

    /** {@code GET /hello}: inline, allocation free. */
    Outcome hello(final HttpExchange x, final StageContext ctx)
    {
        return x.respond(200, TEXT, HELLO);
    }

    /**
     * {@code GET|PUT|DELETE /kv/{key}}: partitioned by key, so this runs on the partition's owner
     * worker and the partition's map needs no lock.
     */
    Outcome kv(final HttpExchange x, final StageContext ctx)
    {
        final int length = x.pathRemainderLength();
        if (length == 0 || length > KvStore.MAX_KEY_BYTES || hasSlash(x, length))
        {
            return x.respond(404, TEXT, BAD_KEY);
        }
        final int partition = ctx.partition();
        switch (x.method())
        {
            case "GET", "HEAD" ->
            {
                final byte[] value = store.get(partition, x);
                return value == null ? x.respond(404, TEXT, NO_SUCH_KEY) : x.respond(200, OCTETS, value);
            }
            case "PUT" ->
            {
                final int stored = store.put(partition, x, x.bodyBytes());
                return stored < 0 ? x.respond(507, TEXT, FULL) : x.respond(stored > 0 ? 201 : 204, HeaderBlock.EMPTY);
            }
            default ->
            {
                return store.delete(partition, x) ? x.respond(204, HeaderBlock.EMPTY) : x.respond(404, TEXT, NO_SUCH_KEY);
            }
        }
    }

    private static boolean hasSlash(final HttpExchange x, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            if (x.pathRemainderByte(i) == '/')
            {
                return true;
            }
        }
        return false;
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
        JvmText.render(s.pipeline().name(), out); // allocation by the pipeline's threads and the JVM
        return x.respond(200, PROMETHEUS, out.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** {@code GET /stats}: a page for a person, refreshing itself, with charts. */
    Outcome stats(final HttpExchange x, final StageContext ctx)
    {
        return x.respond(200, NO_STORE_HTML, statsPage.get().render().getBytes(StandardCharsets.UTF_8));
    }
}
