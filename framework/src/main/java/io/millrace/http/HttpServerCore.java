package io.millrace.http;

import io.millrace.Pipeline;
import io.millrace.stage.Outcome;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the parts of one {@link HttpServer} share: its limits, routes, body budget, the outcome that
 * leads to its respond stage, and counters of rare events. Immutable after the build except the
 * counters (atomics: they count errors, not requests) and the pipeline, set once before start.
 */
final class HttpServerCore
{
    final int maxHeaderBytes;
    final int maxBodyBytes;
    final long requestTimeoutNanos;
    final boolean finishHalfClosed;
    final boolean accessLog;
    final Route[] routes;
    final BodyBudget budget;
    final Outcome respond;

    final AtomicLong clientsGone = new AtomicLong();
    final AtomicLong requestTimeouts = new AtomicLong();
    final AtomicLong continues = new AtomicLong();
    final AtomicLong handlerErrors = new AtomicLong();
    final ErrorLog errors = new ErrorLog();

    /** Set once by the builder before the pipeline starts; read by the read path for submits. */
    Pipeline<HttpExchange> pipeline;

    HttpServerCore(final int maxHeaderBytes, final int maxBodyBytes, final long requestTimeoutNanos,
        final boolean finishHalfClosed, final boolean accessLog, final Route[] routes, final long bodyBudget,
        final Outcome respond)
    {
        this.maxHeaderBytes = maxHeaderBytes;
        this.maxBodyBytes = maxBodyBytes;
        this.requestTimeoutNanos = requestTimeoutNanos;
        this.finishHalfClosed = finishHalfClosed;
        this.accessLog = accessLog;
        this.routes = routes;
        this.budget = new BodyBudget(bodyBudget);
        this.respond = respond;
    }

    int maxHeaderBytes()
    {
        return maxHeaderBytes;
    }

    int maxBodyBytes()
    {
        return maxBodyBytes;
    }

    Outcome respondOutcome()
    {
        return respond;
    }

    BodyBudget bodyBudget()
    {
        return budget;
    }

    /**
     * @return the route for a method and path, or null; see {@link #allowed} for 404 versus 405
     */
    Route match(final String method, final byte[] path, final int start, final int end)
    {
        final int bit = Methods.bit(method);
        for (final Route r : routes)
        {
            if ((r.methods & bit) != 0 && r.matchesPath(path, start, end))
            {
                return r;
            }
        }
        return null;
    }

    /** @return the methods routed for this path on any route; 0 if none (a 404) */
    int allowed(final byte[] path, final int start, final int end)
    {
        int bits = 0;
        for (final Route r : routes)
        {
            if (r.matchesPath(path, start, end))
            {
                bits |= r.methods;
            }
        }
        return bits;
    }
}
