package io.millrace.demo;

import io.millrace.FatalErrorHandler;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.http.HttpExchange;
import io.millrace.http.HttpServer;
import io.millrace.http.HttpServerBuilder;
import io.millrace.http.HttpServerStats;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.net.TransportStats;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * The demo HTTP/1.1 server: a thin user of {@link HttpServer}, with its endpoints as stages.
 *
 * <pre>
 *  read + parse + route (worker W) -> hello | files | metrics | stats [inline]
 *                                     kv [partitioned by key]   slow [blocking(2)]
 *                                  -> respond [onWorker W]
 * </pre>
 *
 * A request read on worker W is answered on W in one loop turn, except {@code /kv} (which crosses
 * to the owner of the key's partition and back, two ring publishes) and {@code /slow}.
 */
public final class HttpService implements AutoCloseable
{
    private final DemoConfig config;
    private final HttpServer server;

    private HttpService(final DemoConfig config, final LeakDetector leaks, final FatalErrorHandler onFatal)
    {
        this.config = config;
        final HttpServerBuilder b = HttpServer.builder()
            .bind(config.address())
            .workers(config.workers())
            .maxConnections(config.maxConnections())
            .idleTimeout(config.idleTimeout())
            .requestTimeout(config.requestTimeout())
            .maxHeaderBytes(config.maxHeaderBytes())
            .maxBodyBytes(config.maxBodyBytes())
            .maxBufferMiB(config.maxBufferMiB())
            .finishHalfClosed(config.finishHalfClosed())
            .accessLog(config.accessLog())
            .leakDetector(leaks)
            .onFatalError(onFatal);
        if (config.maxInFlight() > 0)
        {
            b.maxInFlight(config.maxInFlight());
        }
        if (config.bodyMemoryMiB() > 0)
        {
            b.bodyMemory((long)config.bodyMemoryMiB() << 20);
        }
        final int partitions = Math.max(PipelineBuilder.DEFAULT_PARTITIONS, Integer.highestOneBit(config.workers() * 2 - 1) * 2);
        final HttpServer[] self = new HttpServer[1];
        final Endpoints endpoints = new Endpoints(new KvStore(partitions, 100_000, (long)config.kvMaxMiB() << 20), () -> self[0]);
        final StageRef<HttpExchange> hello = b.stage("hello", endpoints::hello);
        final StageRef<HttpExchange> kv = b.stage("kv", Placement.partitioned(HttpExchange::routeKeyHash), endpoints::kv);
        final StageRef<HttpExchange> slow = b.stage("slow", Placement.blocking(2), endpoints::slow);
        final StageRef<HttpExchange> metrics = b.stage("metrics", endpoints::metrics);
        final StageRef<HttpExchange> stats = b.stage("stats", endpoints::stats);
        b.route("GET", "/hello", hello)
            .route("GET, PUT, DELETE", "/kv/*", kv)
            .route("GET", "/slow", slow)
            .route("GET", "/metrics", metrics)
            .route("GET", "/stats", stats)
            .staticFiles("/files/", config.root(), config.allowDotfiles());
        this.server = b.start();
        self[0] = server;
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
        return start(config, LeakDetector.production());
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
        return new HttpService(config, leaks, onFatal);
    }

    /** @return where it listens, with the real port */
    public InetSocketAddress address()
    {
        return server.address();
    }

    Pipeline<HttpExchange> pipeline()
    {
        return server.pipeline();
    }

    /** @return the transport's counters */
    public TransportStats transportStats()
    {
        return server.transportStats();
    }

    /** @return the HTTP layer's counters */
    public HttpServerStats httpStats()
    {
        return server.stats();
    }

    /** @return the arena the workers' buffers come from */
    public SlabArena arena()
    {
        return server.arena();
    }

    /**
     * Stops accepting, drains requests in flight until the deadline, and closes.
     *
     * @param deadline how long the drain may take
     * @return what was drained and dropped
     */
    public ShutdownReport shutdown(final Duration deadline)
    {
        return server.shutdown(deadline);
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
}
