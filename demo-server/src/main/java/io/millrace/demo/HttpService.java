package io.millrace.demo;

import io.millrace.FatalErrorHandler;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.SubmitResult;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.net.Connection;
import io.millrace.net.ConnectionHandler;
import io.millrace.net.TcpServer;
import io.millrace.net.TransportStats;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The demo HTTP/1.1 server: a {@link TcpServer} whose connections feed a Millrace pipeline.
 *
 * <pre>
 *  socket read (worker W)
 *     -> parse  [onWorker W]   bytes of W's connection -> one request (or an error status)
 *     -> route  [inline]       method + path -> a handler stage
 *     -> hello | files | metrics | stats [inline]      kv [partitioned by key]    slow [blocking(2)]
 *     -> respond [onWorker W]  head + body gathered into one write, or head + sendfile
 * </pre>
 *
 * A request read on worker W is parsed, routed and (except for {@code /kv} and {@code /slow})
 * answered on W in one loop turn; {@code /kv} crosses to the owner of the key's partition and back,
 * two ring publishes. Each connection has one request in the pipeline at a time; the next pipelined
 * request is parsed when the previous response is queued, so responses keep request order.
 */
public final class HttpService implements ConnectionHandler, AutoCloseable
{
    private static final Logger ACCESS = LoggerFactory.getLogger("io.millrace.demo.access");
    private static final Logger LOG = LoggerFactory.getLogger(HttpService.class);

    private final DemoConfig config;
    private final TcpServer server;
    private final Pipeline<HttpExchange> pipeline;
    private final SlabArena arena;
    private final long requestTimeoutNanos;
    private final HttpStages stages;

    private HttpService(final DemoConfig config, final LeakDetector leaks, final FatalErrorHandler onFatal)
    {
        this.config = config;
        this.requestTimeoutNanos = config.requestTimeout().toNanos();
        this.server = TcpServer.builder(this)
            .bind(config.address())
            .maxConnections(config.maxConnections())
            .idleTimeout(config.idleTimeout())
            .build();
        // Chunks idle in one worker's pool are out of the other workers' reach until a sweep, so each
        // worker keeps at most half of its share idle (and never more than 256); the rest goes back to
        // the shared reserve at once.
        final int chunks = config.maxBufferMiB() * 64;
        this.arena = SlabArena.builder().chunkSize(16 * 1024).slabSize(1 << 20).maxSlabs(config.maxBufferMiB())
            .maxIdleChunksPerAllocator(Math.max(1, Math.min(256, chunks / (2 * config.workers()))))
            .leakDetector(leaks).build();
        final PipelineBuilder<HttpExchange> b = Pipeline.builder();
        final StageRef<HttpExchange> parse = b.stage("parse", Placement.onWorker(HttpExchange::workerIndex));
        final StageRef<HttpExchange> route = b.stage("route");
        final StageRef<HttpExchange> hello = b.stage("hello");
        final StageRef<HttpExchange> files = b.stage("files");
        final StageRef<HttpExchange> kv = b.stage("kv", Placement.partitioned(x -> x.kvKeyHash));
        final StageRef<HttpExchange> slow = b.stage("slow", Placement.blocking(2));
        final StageRef<HttpExchange> metrics = b.stage("metrics");
        final StageRef<HttpExchange> stats = b.stage("stats");
        final StageRef<HttpExchange> respond = b.stage("respond", Placement.onWorker(HttpExchange::workerIndex));
        b.workers(config.workers());
        final int partitions = Math.max(PipelineBuilder.DEFAULT_PARTITIONS, Integer.highestOneBit(config.workers() * 2 - 1) * 2);
        this.stages = new HttpStages(this, new KvStore(partitions, 100_000), config.root(), parse, route, hello, files, kv, slow,
            metrics, stats, respond);
        stages.handleAll(b);
        if (config.maxInFlight() > 0)
        {
            b.ringSize(Math.max(PipelineBuilder.DEFAULT_RING_SIZE, Integer.highestOneBit(config.maxInFlight() * 4 - 1)))
                .maxInFlight(config.maxInFlight());
        }
        this.pipeline = b.name("http").partitions(partitions).memory(arena).io(server)
            .onComplete(this::completed)
            .onFatalError(onFatal)
            .build();
    }

    /**
     * Builds and starts the server.
     *
     * @param config its settings
     * @return the running server
     * @throws java.io.UncheckedIOException if it cannot listen (address in use, say)
     */
    public static HttpService start(final DemoConfig config)
    {
        return start(config, LeakDetector.sampled(LeakDetector.DEFAULT_SAMPLING_INTERVAL));
    }

    /**
     * Builds and starts the server with a leak detector of the caller's (tests use paranoid).
     *
     * @param config its settings
     * @param leaks  the buffers' leak detector
     * @return the running server
     */
    static HttpService start(final DemoConfig config, final LeakDetector leaks)
    {
        return start(config, leaks, (name, thread, error) -> { });
    }

    /**
     * Builds and starts the server with the caller's leak detector and fatal-error handler (the
     * server process exits from it, so that a supervisor restarts it; tests only record it).
     *
     * @param config  its settings
     * @param leaks   the buffers' leak detector
     * @param onFatal told when a pipeline thread hits an error the runtime cannot contain
     * @return the running server
     */
    static HttpService start(final DemoConfig config, final LeakDetector leaks, final FatalErrorHandler onFatal)
    {
        final HttpService service = new HttpService(config, leaks, onFatal);
        service.pipeline.start();
        return service;
    }

    /**
     * @return where it listens, with the real port
     */
    public InetSocketAddress address()
    {
        return server.localAddress();
    }

    Pipeline<HttpExchange> pipeline()
    {
        return pipeline;
    }

    /**
     * @return the transport's counters
     */
    public TransportStats transportStats()
    {
        return server.stats();
    }

    /**
     * @return the arena the workers' buffers come from
     */
    public SlabArena arena()
    {
        return arena;
    }

    /**
     * Stops accepting, drains requests in flight until the deadline, and closes.
     *
     * @param deadline how long the drain may take
     * @return what was drained and dropped
     */
    public ShutdownReport shutdown(final Duration deadline)
    {
        return pipeline.shutdown(deadline);
    }

    @Override
    public void close()
    {
        shutdown(Duration.ofSeconds(10));
    }

    DemoConfig config()
    {
        return config;
    }

    // ------------------------------------------------------------------ connections (on their worker)

    @Override
    public void onOpen(final Connection connection)
    {
        connection.attach(new HttpExchange(connection, Thread.currentThread(), config.maxHeaderBytes(), config.maxBodyBytes()));
    }

    @Override
    public void onRead(final Connection connection)
    {
        final HttpExchange x = (HttpExchange)connection.attachment();
        if (!x.inPipeline)
        {
            dispatch(x);
        }
    }

    @Override
    public void onInputEnded(final Connection connection)
    {
        final HttpExchange x = (HttpExchange)connection.attachment();
        if (!x.inPipeline)
        {
            connection.closeAfterFlush(); // anything buffered was a partial request: it can never complete
        }
        // else: the listener closes once the request in the pipeline is answered
    }

    @Override
    public void onWritable(final Connection connection)
    {
        final HttpExchange x = (HttpExchange)connection.attachment();
        if (!x.inPipeline)
        {
            dispatch(x);
        }
    }

    /** Sends the connection's buffered bytes into the pipeline, unless a request of it is already there. */
    private void dispatch(final HttpExchange x)
    {
        final Connection c = x.connection;
        if (!c.isOpen() || x.closing || c.inbound().readableBytes() == 0 || !c.isWritable())
        {
            return; // nothing to parse, or the peer must first drain what we queued (onWritable resumes)
        }
        x.inPipeline = true;
        final SubmitResult result = pipeline.submit(x);
        if (result != SubmitResult.ACCEPTED)
        {
            // Overloaded or shutting down: say so and close, as the protocol allows for 503.
            x.inPipeline = false;
            x.clear();
            x.respond(503, "text/plain; charset=utf-8", HttpStages.text("overloaded: " + result + "\n"));
            x.close = true;
            x.extraHeaders = "Retry-After: 1\r\n";
            stages.send(x, c.allocator());
        }
    }

    /**
     * The completion listener. Every stage that can complete a request runs on the connection's
     * worker (parse and respond are pinned there, route and the inline handlers follow parse,
     * blocking stages come home to it, and kv, which runs on a partition owner, catches everything
     * and always continues to respond), so this runs on the connection's worker too; the check
     * below only guards against a future stage breaking that rule.
     */
    private void completed(final HttpExchange x, final Throwable error)
    {
        final Connection c = x.connection;
        if (Thread.currentThread() != x.ownerThread)
        {
            LOG.error("request on {} completed on {}, off the connection's worker; it is abandoned to the idle timeout",
                c, Thread.currentThread().getName(), error);
            return;
        }
        try
        {
            if (error != null && c.isOpen())
            {
                x.clear();
                x.respond(500, "text/plain; charset=utf-8", HttpStages.text("internal error\n"));
                x.close = true;
                stages.send(x, c.allocator());
            }
        }
        catch (final RuntimeException ex)
        {
            c.close(); // even the 500 could not be built (out of buffers): give up on this connection
        }
        finally
        {
            x.inPipeline = false;
        }
        // Pipelined requests already buffered were handled by respond looping back to parse; here
        // only what remains to decide: reading, or closing a connection whose peer stopped sending.
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
    }

    /** Called by respond after queuing a response. */
    void logAccess(final HttpExchange x, final long bytes)
    {
        if (config.accessLog())
        {
            ACCESS.info("{} {} {} {} {}", x.connection.remoteAddress(), x.method, x.path, x.status, bytes);
        }
    }

    long requestTimeoutNanos()
    {
        return requestTimeoutNanos;
    }
}
