package io.millrace.http;

import io.millrace.FatalErrorHandler;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.net.TcpServer;
import io.millrace.net.TcpServerBuilder;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.RequestCancelledException;
import io.millrace.stage.Stage;
import io.millrace.stage.StageRef;
import io.millrace.worker.Fatal;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds an {@link HttpServer}: where it listens, its limits, and routes to stages of your own.
 *
 * <pre>{@code
 * HttpServerBuilder b = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 8080)).workers(2);
 * StageRef<HttpExchange> hello = b.stage("hello", (x, ctx) -> x.respond(200, HeaderBlock.TEXT_PLAIN, HELLO));
 * b.route("GET", "/hello", hello);
 * HttpServer server = b.start();
 * }</pre>
 *
 * A route is a method list and a path: exact ({@code /hello}) or a prefix ending in {@code *}
 * ({@code /kv/*}); the first route declared that matches wins. GET routes answer HEAD too. A path no
 * route has is a 404, a routed path with another method a 405 with {@code Allow}.
 *
 * <p>Every handler runs inside a guard: a handler that throws (an {@code Error} included, fatal VM
 * errors excepted) answers that request with 500 and the worker goes on; a handler that returns
 * {@link Outcome#done()} without a response gets a 500 too. Handlers end with one of the exchange's
 * {@code respond} methods, or continue at another of your stages with {@link Outcome#next}.
 *
 * <p>The defaults suit a small service: the machine's processors as workers, 10,000 connections,
 * 60 s idle timeout, 10 s for a request to arrive whole, 8 KiB heads, 1 MiB bodies, 64 MiB of
 * pooled buffers and half of them for request bodies in memory at once, static files up to 64 KiB
 * kept in memory (16 MiB per worker). Not thread-safe; build once.
 */
public final class HttpServerBuilder
{
    private static final byte[] NO_RESPONSE = "internal error: the handler gave no response\n".getBytes(StandardCharsets.US_ASCII);

    /** What a connection over the limit reads before the close, instead of a reset. */
    private static final byte[] REFUSAL = refusal("too many connections; retry\n");

    private final PipelineBuilder<HttpExchange> pipeline = Pipeline.builder();
    private final StageRef<HttpExchange> routeStage;
    private final StageRef<HttpExchange> respondStage;
    private final List<RouteSpec> routes = new ArrayList<>();
    /** The stages declared through {@link #stage}: the only ones a route may lead to. */
    private final java.util.Set<StageRef<HttpExchange>> declared = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 8080);
    private int workers = Runtime.getRuntime().availableProcessors();
    private int maxConnections = 10_000;
    private Duration idleTimeout = Duration.ofSeconds(60);
    private Duration requestTimeout = Duration.ofSeconds(10);
    private int maxHeaderBytes = HttpRequestParser.DEFAULT_MAX_HEADER_BYTES;
    private int maxBodyBytes = HttpRequestParser.DEFAULT_MAX_BODY_BYTES;
    /** 0: half of the buffer memory. */
    private long bodyMemoryBytes;
    private int maxBufferMiB = 64;
    private int maxInFlight;
    private boolean finishHalfClosed;
    private boolean accessLog;
    private int fileMemoryMaxFileBytes = OpenFileCacheBuilder.DEFAULT_MEMORY_MAX_FILE_BYTES;
    private long fileMemoryMaxTotalBytes = OpenFileCacheBuilder.DEFAULT_MEMORY_MAX_TOTAL_BYTES;
    private String name = "http";
    private LeakDetector leaks = LeakDetector.production();
    private FatalErrorHandler onFatal = (pipelineName, thread, error) -> { };
    private boolean built;
    private final List<HttpProxy> proxies = new ArrayList<>();
    private final List<StaticFileStage> fileStages = new ArrayList<>();
    private io.millrace.net.OutboundOptions outbound;

    /** A route; for static files {@code files} is set and the stage is made at build time, when the worker count is final. */
    private record RouteSpec(String methods, String pattern, StageRef<HttpExchange> stage, BodyListener listener,
        StaticFiles files, long streamBodiesAbove)
    {
        RouteSpec(final String methods, final String pattern, final StageRef<HttpExchange> stage, final BodyListener listener,
            final StaticFiles files)
        {
            this(methods, pattern, stage, listener, files, -1);
        }
    }

    HttpServerBuilder()
    {
        routeStage = pipeline.stage("route", Placement.onWorker(HttpExchange::workerIndex));
        respondStage = pipeline.stage("respond", Placement.onWorker(HttpExchange::workerIndex));
    }

    /**
     * @param bindAddress where to listen; port 0 picks a free one (default 127.0.0.1:8080)
     * @return this builder
     */
    public HttpServerBuilder bind(final InetSocketAddress bindAddress)
    {
        address = Objects.requireNonNull(bindAddress, "bindAddress");
        return this;
    }

    /**
     * @param count worker threads, one per core is the design (default: available processors)
     * @return this builder
     */
    public HttpServerBuilder workers(final int count)
    {
        workers = positive("workers", count);
        return this;
    }

    /**
     * @param count open connections at most, over all workers; a connection over it gets a short
     *              503 and is closed (default 10,000)
     * @return this builder
     */
    public HttpServerBuilder maxConnections(final int count)
    {
        maxConnections = positive("maxConnections", count);
        return this;
    }

    /**
     * @param timeout a connection with no traffic and no request in progress for this long is
     *                closed; a request being processed is never cut off by it (default 60 s; zero
     *                for none)
     * @return this builder
     */
    public HttpServerBuilder idleTimeout(final Duration timeout)
    {
        idleTimeout = Objects.requireNonNull(timeout, "timeout");
        return this;
    }

    /**
     * @param timeout a request must arrive whole (head and body) within this once its first byte
     *                came, or it is answered 408 and the connection closed (slowloris; default 10 s)
     * @return this builder
     */
    public HttpServerBuilder requestTimeout(final Duration timeout)
    {
        if (timeout.isNegative() || timeout.isZero())
        {
            throw new IllegalArgumentException("requestTimeout must be positive, got " + timeout);
        }
        requestTimeout = timeout;
        return this;
    }

    /**
     * @param bytes bound on a request's header section, request line included: a longer target
     *              gets 414, longer fields 431 (default 8192; at least 256)
     * @return this builder
     */
    public HttpServerBuilder maxHeaderBytes(final int bytes)
    {
        if (bytes < 256)
        {
            throw new IllegalArgumentException("maxHeaderBytes must be at least 256, got " + bytes);
        }
        maxHeaderBytes = bytes;
        return this;
    }

    /**
     * @param bytes bound on one request's body; a larger one gets 413 (default 1 MiB)
     * @return this builder
     */
    public HttpServerBuilder maxBodyBytes(final int bytes)
    {
        if (bytes < 0)
        {
            throw new IllegalArgumentException("maxBodyBytes must be at least 0, got " + bytes);
        }
        maxBodyBytes = bytes;
        return this;
    }

    /**
     * @param bytes request body memory held at once, over all connections, counted in whole pooled
     *              chunks: a body that would exceed it gets its request a 503 with Retry-After at
     *              once, the others go on. At most the buffer memory ({@link #maxBufferMiB}), so that
     *              bodies cannot take the buffers every connection needs to read (default: half of it)
     * @return this builder
     */
    public HttpServerBuilder bodyMemory(final long bytes)
    {
        if (bytes < 1)
        {
            throw new IllegalArgumentException("bodyMemory must be positive, got " + bytes);
        }
        bodyMemoryBytes = bytes;
        return this;
    }

    /**
     * @param mib pooled buffer memory at most, in MiB (1 MiB slabs of 16 KiB chunks; default 64)
     * @return this builder
     */
    public HttpServerBuilder maxBufferMiB(final int mib)
    {
        maxBufferMiB = positive("maxBufferMiB", mib);
        return this;
    }

    /**
     * @param requests requests in the pipeline at once; above it a request gets 503 (default: the
     *                 pipeline's)
     * @return this builder
     */
    public HttpServerBuilder maxInFlight(final int requests)
    {
        maxInFlight = positive("maxInFlight", requests);
        return this;
    }

    /**
     * @param on finish and answer a request whose client shut down its sending side while the
     *           request waited in a queue or a blocking stage; off (the default), such a request is
     *           cancelled and logged with status 499, as nginx does for proxied requests
     * @return this builder
     */
    public HttpServerBuilder finishHalfClosed(final boolean on)
    {
        finishHalfClosed = on;
        return this;
    }

    /**
     * Small static files kept in memory by each worker's open-file cache, answered with one
     * {@code writev} of head and body instead of a {@code writev} and a sendfile; see
     * {@link OpenFileCacheBuilder#memory}.
     *
     * @param maxFileBytes  largest file kept in memory, 0 to 64 MiB (default 64 KiB); 0 sends every file with sendfile
     * @param maxTotalBytes bytes kept in memory per worker at most (default 16 MiB), at least {@code maxFileBytes}
     * @return this builder
     */
    public HttpServerBuilder staticFileMemory(final int maxFileBytes, final long maxTotalBytes)
    {
        OpenFileCacheBuilder.checkMemory(maxFileBytes, maxTotalBytes);
        fileMemoryMaxFileBytes = maxFileBytes;
        fileMemoryMaxTotalBytes = maxTotalBytes;
        return this;
    }

    /**
     * @param on log one line per response to the logger {@code io.millrace.http.access} (default off)
     * @return this builder
     */
    public HttpServerBuilder accessLog(final boolean on)
    {
        accessLog = on;
        return this;
    }

    /**
     * @param pipelineName the name in metrics and thread names (default "http")
     * @return this builder
     */
    public HttpServerBuilder name(final String pipelineName)
    {
        name = Objects.requireNonNull(pipelineName, "pipelineName");
        return this;
    }

    /**
     * @param detector the buffers' leak detector (default {@link LeakDetector#production()}, 1 in 16,384)
     * @return this builder
     */
    public HttpServerBuilder leakDetector(final LeakDetector detector)
    {
        leaks = Objects.requireNonNull(detector, "detector");
        return this;
    }

    /**
     * @param handler told when a pipeline thread hits an error the runtime cannot contain (out of
     *                memory); a server process usually exits from it so that a supervisor restarts it
     * @return this builder
     */
    public HttpServerBuilder onFatalError(final FatalErrorHandler handler)
    {
        onFatal = Objects.requireNonNull(handler, "handler");
        return this;
    }

    /**
     * Declares an inline stage: it runs on the connection's worker, in the turn that read the request.
     *
     * @param stageName unique name, used in metrics
     * @param handler   the stage's code
     * @return the stage, for {@link #route} and {@link Outcome#next}
     */
    public StageRef<HttpExchange> stage(final String stageName, final Stage<HttpExchange> handler)
    {
        return stage(stageName, Placement.inline(), handler);
    }

    /**
     * Declares a stage with a placement: {@code Placement.partitioned(HttpExchange::routeKeyHash)}
     * to own data by key without locks, {@code Placement.blocking(n)} for a blocking call.
     *
     * @param stageName unique name
     * @param placement where it runs
     * @param handler   the stage's code
     * @return the stage
     */
    public StageRef<HttpExchange> stage(final String stageName, final Placement<? super HttpExchange> placement,
        final Stage<HttpExchange> handler)
    {
        checkNotBuilt();
        Objects.requireNonNull(handler, "handler");
        final StageRef<HttpExchange> ref = pipeline.stage(stageName, placement);
        pipeline.handle(ref, guard(stageName, handler));
        declared.add(ref);
        return ref;
    }

    /**
     * Routes requests to a stage.
     *
     * @param methods upper-case methods separated by commas or spaces, such as {@code "GET, PUT"}
     * @param path    an exact path starting with {@code /}, or a prefix ending in {@code *}
     * @param stage   a stage declared on this builder
     * @return this builder
     */
    public HttpServerBuilder route(final String methods, final String path, final StageRef<HttpExchange> stage)
    {
        return route(methods, path, stage, null);
    }

    /**
     * Routes requests to a stage, handing their bodies to {@code listener} as they arrive instead of
     * keeping them; the stage runs once the whole body was handed over.
     *
     * @param methods  upper-case methods
     * @param path     an exact path, or a prefix ending in {@code *}
     * @param stage    a stage declared on this builder
     * @param listener takes the body's parts; null to keep the body whole
     * @return this builder
     */
    public HttpServerBuilder route(final String methods, final String path, final StageRef<HttpExchange> stage,
        final BodyListener listener)
    {
        checkNotBuilt();
        Methods.parse(methods);
        Objects.requireNonNull(stage, "stage");
        if (!declared.contains(stage))
        {
            throw new IllegalArgumentException("stage '" + stage.name() + "' was not declared on this builder; route to a " +
                "stage returned by this builder's stage(...)");
        }
        if (path == null || !path.startsWith("/") || path.indexOf('*') >= 0 && path.indexOf('*') != path.length() - 1)
        {
            throw new IllegalArgumentException("a route's path starts with '/' and may end in '*' for a prefix, got '" + path + "'");
        }
        for (int i = 0; i < path.length(); i++)
        {
            if (path.charAt(i) <= ' ' || path.charAt(i) >= 0x7F)
            {
                throw new IllegalArgumentException("a route's path is visible US-ASCII, percent-encoded as sent, got '" + path + "'");
            }
        }
        routes.add(new RouteSpec(methods, path, stage, listener, null));
        return this;
    }

    /**
     * Serves files under {@code root} at {@code prefix} ({@code GET} and {@code HEAD}) from a
     * per-worker open-file cache (descriptor, size and modification time, revalidated at most once a
     * second, never per request), with If-Modified-Since, single byte ranges (206/416) and
     * sendfile; traversal out of the root and dotfiles ({@code .git}, {@code .env}) are refused
     * with 404.
     *
     * @param prefix a path prefix ending in '/', such as {@code "/files/"}
     * @param root   the directory served
     * @return this builder
     */
    public HttpServerBuilder staticFiles(final String prefix, final Path root)
    {
        return staticFiles(prefix, root, false);
    }

    /**
     * Serves files under {@code root} at {@code prefix}, like {@link #staticFiles(String, Path)}.
     *
     * @param prefix        a path prefix ending in '/'
     * @param root          the directory served
     * @param allowDotfiles serve names starting with '.' ({@code .git}, {@code .env}); refused with 404 by default
     * @return this builder
     */
    public HttpServerBuilder staticFiles(final String prefix, final Path root, final boolean allowDotfiles)
    {
        if (!prefix.startsWith("/") || !prefix.endsWith("/"))
        {
            throw new IllegalArgumentException("a static-file prefix starts and ends with '/', got '" + prefix + "'");
        }
        checkNotBuilt();
        routes.add(new RouteSpec("GET", prefix + "*", null, null, new StaticFiles(root, allowDotfiles)));
        return this;
    }

    /**
     * Proxies requests under {@code path} (exact, or a prefix ending in {@code *}) with any method to
     * {@code proxy}'s upstream group: declares the proxy's two stages ({@code proxy PATH} and
     * {@code proxy PATH done}, on the connection's worker) and routes every method to them. The
     * server's transport opens the upstream connections with {@code proxy}'s outbound options; one
     * server takes one set of outbound options, so all its proxies share the first one's.
     *
     * @param path  the path to proxy, such as {@code /*} or {@code /api/*}
     * @param proxy the proxy, used by this server only
     * @return this builder
     * @throws IllegalStateException if the proxy already serves a server
     */
    public HttpServerBuilder proxy(final String path, final HttpProxy proxy)
    {
        checkNotBuilt();
        final String suffix = " " + path;
        final StageRef<HttpExchange> done = stage("proxy" + suffix + " done", Placement.onWorker(HttpExchange::workerIndex),
            (x, ctx) -> proxy.done(x, ctx));
        final StageRef<HttpExchange> start = stage("proxy" + suffix, Placement.onWorker(HttpExchange::workerIndex),
            (x, ctx) -> proxy.handle(x, ctx));
        proxy.claim(Outcome.next(done));
        route("GET, POST, PUT, DELETE, OPTIONS, PATCH", path, start);
        final RouteSpec r = routes.remove(routes.size() - 1);
        routes.add(new RouteSpec(r.methods(), r.pattern(), r.stage(), null, null, proxy.streamBodiesAbove()));
        proxies.add(proxy);
        if (outbound == null)
        {
            outbound = proxy.outboundOptions();
        }
        return this;
    }

    /**
     * Builds and starts the server.
     *
     * @return the running server
     * @throws java.io.UncheckedIOException if it cannot listen (address in use, say)
     */
    public HttpServer start()
    {
        final HttpServer server = build();
        server.start();
        return server;
    }

    HttpServer build()
    {
        checkNotBuilt();
        final long bufferBytes = (long)maxBufferMiB << 20;
        if (bodyMemoryBytes > bufferBytes)
        {
            throw new IllegalArgumentException("bodyMemory(" + bodyMemoryBytes + ") exceeds the buffer memory of " + maxBufferMiB +
                " MiB: bodies could take the buffers every connection needs to read; lower it or raise maxBufferMiB");
        }
        final long bodyBudget = bodyMemoryBytes > 0 ? bodyMemoryBytes : bufferBytes / 2;
        for (int i = 0; i < routes.size(); i++)
        {
            final RouteSpec r = routes.get(i);
            if (r.files() != null)
            {
                // One open-file cache per worker, now that the worker count is final.
                final StaticFileStage files = new StaticFileStage(r.files(), workers, fileMemoryMaxFileBytes,
                    fileMemoryMaxTotalBytes);
                fileStages.add(files);
                final String prefix = r.pattern().substring(0, r.pattern().length() - 1);
                routes.set(i, new RouteSpec(r.methods(), r.pattern(), stage("files " + prefix, files::handle), null, null));
            }
        }
        built = true;
        final Route[] table = new Route[routes.size()];
        for (int i = 0; i < table.length; i++)
        {
            final RouteSpec r = routes.get(i);
            table[i] = new Route(r.pattern(), Methods.parse(r.methods()), Outcome.next(r.stage()), r.stage().name(), r.listener(),
                r.streamBodiesAbove());
        }
        final HttpServerCore core = new HttpServerCore(maxHeaderBytes, maxBodyBytes, requestTimeout.toNanos(), finishHalfClosed,
            accessLog, table, bodyBudget, Outcome.next(respondStage));
        final ResponseWriter writer = new ResponseWriter(workers, accessLog);
        final HttpConnections connections = new HttpConnections(core, writer);
        connections.routeStage(Outcome.next(routeStage));
        final TcpServerBuilder tcp = TcpServer.builder(connections).bind(address).maxConnections(maxConnections)
            .idleTimeout(idleTimeout).refusalMessage(REFUSAL);
        if (outbound != null)
        {
            tcp.outbound(outbound);
        }
        final TcpServer transport = tcp.build();
        for (final HttpProxy proxy : proxies)
        {
            proxy.attach(transport, workers);
        }
        // Chunks idle in one worker's pool are out of the other workers' reach until a sweep, so each
        // worker keeps at most half of its share idle (and never more than 256).
        final int chunks = maxBufferMiB * 64;
        final SlabArena arena = SlabArena.builder().chunkSize(16 * 1024).slabSize(1 << 20).maxSlabs(maxBufferMiB)
            .maxIdleChunksPerAllocator(Math.max(1, Math.min(256, chunks / (2 * workers))))
            .leakDetector(leaks).build();
        pipeline.handle(routeStage, connections::route).handle(respondStage, connections::respond).entry(routeStage);
        pipeline.workers(workers);
        final int partitions = Math.max(PipelineBuilder.DEFAULT_PARTITIONS, Integer.highestOneBit(workers * 2 - 1) * 2);
        if (maxInFlight > 0)
        {
            pipeline.ringSize(Math.max(PipelineBuilder.DEFAULT_RING_SIZE, Integer.highestOneBit(maxInFlight * 4 - 1)))
                .maxInFlight(maxInFlight);
        }
        final Pipeline<HttpExchange> built = pipeline.name(name).partitions(partitions).memory(arena).io(transport)
            .onComplete(connections).onFatalError(onFatal).build();
        core.pipeline = built;
        return new HttpServer(built, transport, arena, core, List.copyOf(fileStages));
    }

    /**
     * Wraps a user handler so that every request ends at respond, on the connection's worker: a
     * throw or a missing response becomes a 500 there instead of a request nobody answers.
     */
    private Stage<HttpExchange> guard(final String stageName, final Stage<HttpExchange> handler)
    {
        final Outcome respond = Outcome.next(respondStage);
        return (x, ctx) ->
        {
            final Outcome outcome;
            try
            {
                outcome = handler.handle(x, ctx);
            }
            catch (final RequestCancelledException ex)
            {
                throw ex;
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                x.server.handlerErrors.incrementAndGet();
                x.server.errors.warn("stage " + stageName + " failed on " + x, "answering 500", ex);
                x.clearResponse();
                x.serverResponse(500, RequestReader.INTERNAL);
                return respond;
            }
            if (outcome == null || outcome.kind() == Outcome.Kind.DONE)
            {
                if (x.status == 0)
                {
                    x.server.handlerErrors.incrementAndGet();
                    x.serverResponse(500, NO_RESPONSE);
                }
                return respond;
            }
            return outcome;
        };
    }

    private void checkNotBuilt()
    {
        if (built)
        {
            throw new IllegalStateException("this HttpServerBuilder has built its server; make a new builder for another");
        }
    }

    private static byte[] refusal(final String body)
    {
        return ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
            body.length() + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
    }

    private static int positive(final String what, final int value)
    {
        if (value < 1)
        {
            throw new IllegalArgumentException(what + " must be positive, got " + value);
        }
        return value;
    }
}
