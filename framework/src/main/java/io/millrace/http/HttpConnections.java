package io.millrace.http;

import io.millrace.CompletionListener;
import io.millrace.SubmitResult;
import io.millrace.net.Connection;
import io.millrace.net.ConnectionHandler;
import io.millrace.stage.Outcome;
import io.millrace.stage.RequestCancelledException;
import io.millrace.stage.StageContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * The connection side of an {@link HttpServer}: the transport's callbacks, the route and respond
 * stages, and the pipeline's completion listener. Every method runs on the connection's worker
 * except {@link #onComplete} for a request cancelled or aborted elsewhere (see there).
 *
 * <p>A connection has at most one request in the pipeline ({@link HttpExchange#inPipeline}); bytes
 * of pipelined requests wait unparsed in its input, and respond parses the next one in the same
 * dispatch, so responses keep request order and the next request needs no new submission.
 */
final class HttpConnections implements ConnectionHandler, CompletionListener<HttpExchange>
{
    private static final Logger ACCESS = LoggerFactory.getLogger("io.millrace.http.access");
    private static final byte[] OVERLOADED = "overloaded; retry\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TIMEOUT = "request timeout\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_RESPONSE = "internal error: the request completed without a response\n"
        .getBytes(StandardCharsets.US_ASCII);

    private final HttpServerCore core;
    private final ResponseWriter writer;
    /** The route stage's own outcome, for a pipelined request parsed in respond. */
    private Outcome routeStage;

    HttpConnections(final HttpServerCore core, final ResponseWriter writer)
    {
        this.core = core;
        this.writer = writer;
    }

    void routeStage(final Outcome outcome)
    {
        this.routeStage = outcome;
    }

    // ------------------------------------------------------------------ transport callbacks

    @Override
    public void onOpen(final Connection connection)
    {
        connection.attach(new HttpExchange(connection, core));
    }

    @Override
    public void onRead(final Connection connection)
    {
        final HttpExchange x = (HttpExchange)connection.attachment();
        if (!x.inPipeline)
        {
            serve(x);
        }
        else if (x.uploading && x.proxyCall != null)
        {
            x.proxyCall.clientReadable(); // a proxied upload in progress takes the new body bytes
        }
    }

    @Override
    public void onWritable(final Connection connection)
    {
        final HttpExchange x = (HttpExchange)connection.attachment();
        if (x != null && x.streamer != null)
        {
            x.streamer.clientWritable(); // a proxy streaming a response: its upstream may read again
            return;
        }
        onRead(connection);
    }

    @Override
    public void onInputEnded(final Connection connection)
    {
        final HttpExchange x = (HttpExchange)connection.attachment();
        if (!x.inPipeline)
        {
            connection.closeAfterFlush(); // anything buffered was a partial request: it can never complete
        }
        else if (!core.finishHalfClosed)
        {
            // The client is gone while its request waits in a queue or a blocking stage (an inline
            // request completes in the turn that read it, before the end of input is seen): skip
            // its remaining work as nginx does for a proxied request, and log it as 499.
            clientGone(x);
            connection.close();
        }
        // else: answered, then closed by onComplete
    }

    @Override
    public void onClose(final Connection connection)
    {
        final HttpExchange x = (HttpExchange)connection.attachment();
        if (x == null)
        {
            return;
        }
        if (x.inPipeline)
        {
            clientGone(x); // a reset or a failed write: nobody will read the response
        }
        else
        {
            x.abortStream();
            x.clearResponse();
            x.releaseRequestBody(); // a body that was still arriving
        }
    }

    private void clientGone(final HttpExchange x)
    {
        if (!x.clientGone)
        {
            x.clientGone = true;
            x.cancelToken.cancel();
        }
    }

    /**
     * Answers a request whose head or body did not arrive in time with 408, then closes. Called by
     * the transport when the deadline armed for a started request passes.
     *
     * @param connection the connection
     */
    @Override
    public void onReadTimeout(final Connection connection)
    {
        final HttpExchange x = (HttpExchange)connection.attachment();
        core.requestTimeouts.incrementAndGet();
        if (x == null || x.inPipeline || !x.partial || x.closing || !x.parser.started())
        {
            // Only empty lines since the last request (which a server ignores): no request to answer 408.
            connection.close();
            return;
        }
        x.partial = false;
        x.abortStream();
        x.releaseRequestBody();
        x.clearResponse();
        x.serverResponse(408, TIMEOUT);
        x.closeAfter = true;
        try
        {
            writer.send(x, connection.allocator());
        }
        catch (final RuntimeException ex)
        {
            connection.close();
        }
    }

    /** Parses what the connection buffered and submits the next whole request. */
    private void serve(final HttpExchange x)
    {
        final Connection c = x.connection;
        while (c.isOpen() && !x.closing && c.inbound().readableBytes() > 0 && c.isWritable())
        {
            final int r = RequestReader.read(x);
            if (r == RequestReader.WAIT)
            {
                if (c.inputEnded())
                {
                    c.close(); // the peer stopped sending mid-request
                }
                return;
            }
            if (r == RequestReader.RESPOND)
            {
                writer.send(x, c.allocator());
                continue;
            }
            submit(x);
            return;
        }
    }

    private void submit(final HttpExchange x)
    {
        final Connection c = x.connection;
        x.inPipeline = true;
        x.responded = false;
        c.setProcessing(true); // the idle timeout must not cut a request being processed
        final SubmitResult result = core.pipeline.submit(x, x.cancelToken);
        if (result != SubmitResult.ACCEPTED)
        {
            // Overloaded or shutting down: say so and close, as the protocol allows for 503.
            x.inPipeline = false;
            c.setProcessing(false);
            x.cancelToken.reset();
            x.clearResponse();
            x.serverResponse(503, OVERLOADED);
            x.header("Retry-After", "1");
            x.closeAfter = true;
            writer.send(x, c.allocator());
        }
    }

    // ------------------------------------------------------------------ stages

    /**
     * The entry stage: the head was routed when it arrived; continue at the route's stage. A request
     * resubmitted because it completed elsewhere without a response goes straight to respond with
     * the 500 already set.
     */
    Outcome route(final HttpExchange x, final StageContext ctx)
    {
        if (x.orphaned)
        {
            x.orphaned = false;
            return core.respond;
        }
        return x.route.stage;
    }

    /** Sends the response, then parses the next pipelined request, if whole, without a new submission. */
    Outcome respond(final HttpExchange x, final StageContext ctx)
    {
        writer.send(x, ctx.allocator());
        final Connection c = x.connection;
        while (!x.closing && c.isOpen() && c.isWritable() && c.inbound().readableBytes() > 0)
        {
            final int r = RequestReader.read(x);
            if (r == RequestReader.READY)
            {
                x.responded = false;
                return routeStage;
            }
            if (r == RequestReader.WAIT)
            {
                break;
            }
            writer.send(x, ctx.allocator());
        }
        return Outcome.done();
    }

    // ------------------------------------------------------------------ completion

    /**
     * The pipeline's completion listener. Every user stage is wrapped so that it continues at respond,
     * which runs on the connection's worker, so a request normally completes there. The exceptions
     * are requests cancelled (the client went away: the connection is already closed) or aborted by
     * a failing pipeline, which complete wherever they were: then only the exchange's buffers are
     * released, which is safe from any thread.
     */
    @Override
    public void onComplete(final HttpExchange x, final Throwable error)
    {
        x.cancelToken.reset();
        final Connection c = x.connection;
        if (error == null && !x.responded && !x.clientGone)
        {
            // Completed without passing respond: a suspension resumed with Outcome.done(), which the
            // handler guard cannot see. Answer 500 rather than leave the client waiting.
            core.handlerErrors.incrementAndGet();
            x.clearResponse();
            x.serverResponse(500, NO_RESPONSE);
            if (Thread.currentThread() != x.ownerThread)
            {
                // Not on the connection's worker: go back there through the pipeline (route sends it on).
                x.orphaned = true;
                if (core.pipeline.submit(x, x.cancelToken) == SubmitResult.ACCEPTED)
                {
                    return;
                }
                x.orphaned = false;
                core.errors.warn("request on " + c + " completed without a response off its worker and could not be sent back",
                    "its connection waits for its client or a timeout", null);
                x.clearResponse();
                x.releaseRequestBody();
                return;
            }
            try
            {
                writer.send(x, c.allocator());
            }
            catch (final RuntimeException ex)
            {
                c.close();
            }
        }
        if (Thread.currentThread() != x.ownerThread || x.clientGone || error instanceof RequestCancelledException)
        {
            if (x.clientGone || error instanceof RequestCancelledException)
            {
                core.clientsGone.incrementAndGet();
                if (core.accessLog)
                {
                    ACCESS.info("{} {} {} 499 0", c.remoteAddress(), x.parser.method(), x.parser.path());
                }
            }
            else if (error != null)
            {
                core.errors.warn("request on " + c + " failed off its connection's worker", "its connection closes", error);
            }
            x.clearResponse();
            x.releaseRequestBody();
            x.inPipeline = false;
            if (Thread.currentThread() == x.ownerThread && c.isOpen())
            {
                c.close();
            }
            return;
        }
        x.inPipeline = false;
        if (c.isOpen())
        {
            c.setProcessing(false);
        }
        if (error != null && c.isOpen())
        {
            core.errors.warn("request on " + c + " failed", "answering 500", error);
            try
            {
                x.clearResponse();
                x.serverResponse(500, RequestReader.INTERNAL);
                x.closeAfter = true;
                writer.send(x, c.allocator());
            }
            catch (final RuntimeException ex)
            {
                c.close(); // even the 500 could not be built (out of buffers): give up on this connection
            }
        }
        if (c.isOpen())
        {
            if (c.inputEnded() && c.inbound().readableBytes() == 0)
            {
                c.closeAfterFlush();
            }
            else
            {
                c.resumeReading();
            }
        }
        else
        {
            x.clearResponse();
            x.releaseRequestBody();
        }
    }
}
