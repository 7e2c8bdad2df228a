package io.millrace.demo;

import io.millrace.http.HttpDate;
import io.millrace.demo.http.PrometheusText;
import io.millrace.http.StaticFiles;
import io.millrace.demo.http.StatsPage;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The handlers behind the demo's endpoints, one stage each. They fill the response fields of the
 * exchange and return the outcome that continues at respond.
 */
final class Endpoints
{
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final byte[] HELLO = "Hello, World!\n".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_SLOW_MS = 2_000;

    private final HttpService service;
    private final KvStore store;
    private final StaticFiles staticFiles;

    Endpoints(final HttpService service, final KvStore store, final Path root)
    {
        this.service = service;
        this.store = store;
        this.staticFiles = new StaticFiles(root);
    }

    /** {@code GET /hello}: inline, allocation free. */
    Outcome hello(final HttpExchange x, final Outcome respond)
    {
        x.respond(200, TEXT, HELLO);
        return respond;
    }

    /**
     * {@code GET /files/**}: resolves inside the root (traversal refused by {@link StaticFiles}),
     * honours {@code If-Modified-Since}, and leaves an open channel for respond to send with
     * sendfile.
     */
    Outcome files(final HttpExchange x, final Outcome respond)
    {
        final StaticFiles.Resolution r = staticFiles.resolve(x.path.substring("/files/".length()));
        if (r.status() != 200)
        {
            x.respond(r.status(), TEXT, HttpStages.text(r.status() == 404 ? "not found\n" : "refused\n"));
            return respond;
        }
        final Path file = r.file();
        try
        {
            final long modified = Files.getLastModifiedTime(file).toMillis();
            final long modifiedSeconds = TimeUnit.MILLISECONDS.toSeconds(modified);
            final String lastModified = HttpDate.format(modified);
            final String ims = x.parser.header("If-Modified-Since");
            if (ims != null)
            {
                final long since = HttpDate.parse(ims);
                if (since >= 0 && modifiedSeconds <= TimeUnit.MILLISECONDS.toSeconds(since))
                {
                    x.status = 304;
                    x.extraHeaders = "Last-Modified: " + lastModified + "\r\n";
                    x.headOnly = true;
                    return respond;
                }
            }
            final FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
            final long size;
            try
            {
                size = channel.size();
            }
            catch (final IOException ex)
            {
                closeQuietly(channel);
                throw ex;
            }
            x.status = 200;
            x.contentType = StaticFiles.contentType(file);
            x.file = channel;
            x.fileLength = size;
            x.extraHeaders = "Last-Modified: " + lastModified + "\r\n";
        }
        catch (final IOException ex)
        {
            x.respond(404, TEXT, HttpStages.text("not found\n"));
        }
        return respond;
    }

    /**
     * {@code GET|PUT|DELETE /kv/{key}}: partitioned by key, so this runs on the partition's owner
     * worker and the partition's map needs no lock. Guarded: it runs off the connection's worker,
     * where a thrown exception could not be answered, so every failure (Errors too) becomes a 500 here.
     */
    Outcome kv(final HttpExchange x, final StageContext ctx, final Outcome respond)
    {
        try
        {
            final int partition = ctx.partition();
            switch (x.method)
            {
                case "GET", "HEAD" ->
                {
                    final byte[] value = store.get(partition, x.kvKey);
                    if (value == null)
                    {
                        x.respond(404, TEXT, HttpStages.text("no such key\n"));
                    }
                    else
                    {
                        x.respond(200, "application/octet-stream", value);
                    }
                }
                case "PUT" ->
                {
                    final byte[] value = java.util.Arrays.copyOf(x.parser.body(), x.parser.bodyLength());
                    final boolean existed = store.get(partition, x.kvKey) != null;
                    if (store.put(partition, x.kvKey, value))
                    {
                        x.respond(existed ? 204 : 201, null, null);
                    }
                    else
                    {
                        x.respond(507, TEXT, HttpStages.text("the store is full\n"));
                    }
                }
                default ->
                {
                    final boolean removed = store.delete(partition, x.kvKey);
                    x.respond(removed ? 204 : 404, removed ? null : TEXT, removed ? null : HttpStages.text("no such key\n"));
                }
            }
        }
        catch (final Throwable ex)
        {
            x.respond(500, TEXT, HttpStages.text("internal error\n"));
        }
        return respond;
    }

    /** {@code GET /slow?ms=N}: stands for a blocking legacy call; runs on the blocking(2) pool. */
    Outcome slow(final HttpExchange x, final Outcome respond) throws InterruptedException
    {
        int ms = 100;
        if (x.query != null && x.query.startsWith("ms="))
        {
            try
            {
                ms = Math.max(0, Math.min(MAX_SLOW_MS, Integer.parseInt(x.query.substring(3))));
            }
            catch (final NumberFormatException ex)
            {
                x.respond(400, TEXT, HttpStages.text("ms must be a number\n"));
                return respond;
            }
        }
        Thread.sleep(ms);
        x.respond(200, TEXT, HttpStages.text("slept " + ms + " ms\n"));
        return respond;
    }

    /** {@code GET /metrics}: the pipeline's snapshot in the Prometheus text format. */
    Outcome metrics(final HttpExchange x, final Outcome respond)
    {
        final MetricsSnapshot snapshot = service.pipeline().metrics();
        final StringBuilder out = new StringBuilder(16 * 1024);
        PrometheusText.render(snapshot, Map.of(), out); // each worker's pools come with its metrics
        TransportText.render(service.transportStats(), out);
        JvmText.render(service.pipeline().name(), out); // allocation by the pipeline's threads and the JVM
        x.respond(200, PrometheusText.CONTENT_TYPE, out.toString().getBytes(StandardCharsets.UTF_8));
        return respond;
    }

    /** {@code GET /stats}: a page for a person. */
    Outcome stats(final HttpExchange x, final Outcome respond)
    {
        final MetricsSnapshot snapshot = service.pipeline().metrics();
        final String page = StatsPage.render(snapshot, Map.of(), null);
        final int end = page.lastIndexOf("</body>");
        final String html = end < 0 ? page : page.substring(0, end) + TransportText.html(service.transportStats()) + page.substring(end);
        x.respond(200, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8));
        return respond;
    }

    static void closeQuietly(final FileChannel file)
    {
        try
        {
            file.close();
        }
        catch (final IOException ignored)
        {
            // Nothing was sent from it; closing is best effort.
        }
    }
}
