package io.millrace.http;

import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;

import java.nio.charset.StandardCharsets;

/**
 * The stage behind {@link HttpServerBuilder#staticFiles}: an {@link OpenFileCache} and a
 * {@link StaticFileHandler} per worker (the stage runs inline, on the connection's worker, so each
 * cache is touched by one thread and needs no lock), conditional and range requests, and the file
 * region sent with sendfile while the cache keeps the descriptor open, or a small file's bytes from
 * the cache's memory in the head's writev. A cached request allocates
 * nothing: the path and the conditional fields are read as views of the request head.
 */
final class StaticFileStage
{
    private static final byte[] NOT_FOUND = "not found\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] REFUSED = "refused\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BAD = "bad path\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FAILED = "cannot read the file\n".getBytes(StandardCharsets.US_ASCII);

    private final StaticFileHandler[] handlers;
    private final StaticFileResult[] results;
    private final AsciiView[][] views;

    StaticFileStage(final StaticFiles files, final int workers, final int memoryMaxFileBytes, final long memoryMaxTotalBytes)
    {
        handlers = new StaticFileHandler[workers];
        results = new StaticFileResult[workers];
        views = new AsciiView[workers][3];
        for (int i = 0; i < workers; i++)
        {
            handlers[i] = new StaticFileHandler(OpenFileCache.builder(files).memory(memoryMaxFileBytes, memoryMaxTotalBytes).build());
            results[i] = new StaticFileResult();
            for (int j = 0; j < 3; j++)
            {
                views[i][j] = new AsciiView();
            }
        }
    }

    /** After the pipeline stopped, from the thread that stopped it: every worker's cache lets its files go. */
    void workersStopped()
    {
        for (final StaticFileHandler h : handlers)
        {
            try
            {
                h.cache().ownerStopped();
            }
            catch (final IllegalStateException stillRunning)
            {
                // A worker that did not stop within the deadline keeps its cache; its files close with it.
            }
        }
    }

    Outcome handle(final HttpExchange x, final StageContext ctx)
    {
        final int w = ctx.workerIndex();
        final StaticFileResult result = results[w];
        final AsciiView[] v = views[w];
        final boolean head = x.isHead();
        final HttpRequestParser p = x.parser;
        handlers[w].handle(p.pathArray(), x.paramStart, p.pathEnd() - x.paramStart, x.header("If-Modified-Since", v[0]),
            head ? null : x.header("Range", v[1]), x.header("If-Range", v[2]), result);
        final int status = result.status();
        return switch (status)
        {
            case 200, 206, 304, 416 -> x.respondCached(result, !head);
            default ->
            {
                result.clear();
                yield x.respond(status, HeaderBlock.TEXT_PLAIN,
                    status == 404 ? NOT_FOUND : status == 403 ? REFUSED : status == 400 ? BAD : FAILED);
            }
        };
    }
}
