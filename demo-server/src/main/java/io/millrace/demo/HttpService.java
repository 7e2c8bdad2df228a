package io.millrace.demo;

import io.millrace.FatalErrorHandler;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.demo.stats.ChartsSection;
import io.millrace.demo.stats.ConnectionsSection;
import io.millrace.demo.stats.LockGridSection;
import io.millrace.demo.stats.OverviewSection;
import io.millrace.demo.stats.PoolsSection;
import io.millrace.demo.stats.StagesSection;
import io.millrace.demo.stats.StatsHistory;
import io.millrace.demo.stats.StatsPage;
import io.millrace.demo.stats.StatsSampler;
import io.millrace.demo.stats.WorkersSection;
import io.millrace.http.HttpExchange;
import io.millrace.http.HttpServer;
import io.millrace.http.HttpServerBuilder;
import io.millrace.http.HttpServerStats;
import io.millrace.lock.LockGrid;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.net.TransportStats;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The demo HTTP/1.1 server: a thin user of {@link HttpServer}, with its endpoints as stages.
 *
 * <pre>
 *  read + parse + route (worker W) -> hello | files | metrics | stats [inline]
 *                                     tally [inline, under a lock-grid cell]
 *                                     kv [partitioned by key]   slow [blocking(2)]
 *                                  -> respond [onWorker W]
 * </pre>
 *
 * A request read on worker W is answered on W in one loop turn, except {@code /kv} (which crosses
 * to the owner of the key's partition and back, two ring publishes), {@code /slow}, and a
 * {@code /tally} that waits for its cell.
 *
 * <p>The {@code /stats} page is a {@link StatsPage} whose charts come from a {@link StatsHistory}
 * (five minutes, one sample a second, taken by a {@link StatsSampler} thread). Lock grids are
 * registered with {@link #registerLockGrid}; other components add sections to {@link #statsPage()}.
 */
public final class HttpService implements AutoCloseable
{
    /** Samples kept for the charts: five minutes at one a second. */
    static final int HISTORY_SAMPLES = 300;
    /** Time between two samples of the stats history. */
    static final Duration SAMPLE_PERIOD = Duration.ofSeconds(1);

    private final DemoConfig config;
    private final HttpServer server;
    private final StatsHistory history = new StatsHistory(HISTORY_SAMPLES);
    private final LockGridSection grids = new LockGridSection();
    private final StatsPage statsPage;
    private final StatsSampler sampler;

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
        final StatsPage[] page = new StatsPage[1];
        final Endpoints endpoints = new Endpoints(new KvStore(partitions, 100_000, (long)config.kvMaxMiB() << 20), () -> self[0],
            () -> page[0]);
        final Tallies[] tallies = new Tallies[1];
        final StageRef<HttpExchange> hello = b.stage("hello", endpoints::hello);
        final StageRef<HttpExchange> kv = b.stage("kv", Placement.partitioned(HttpExchange::routeKeyHash), endpoints::kv);
        final StageRef<HttpExchange> slow = b.stage("slow", Placement.blocking(2), endpoints::slow);
        final StageRef<HttpExchange> metrics = b.stage("metrics", endpoints::metrics);
        final StageRef<HttpExchange> stats = b.stage("stats", endpoints::stats);
        final StageRef<HttpExchange> tally = b.stage("tally", (x, ctx) -> tallies[0].handle(x, ctx));
        tallies[0] = new Tallies(tally);
        b.route("GET", "/hello", hello)
            .route("GET, PUT, DELETE", "/kv/*", kv)
            .route("GET", "/slow", slow)
            .route("GET", "/metrics", metrics)
            .route("GET", "/stats", stats)
            .route("GET, POST", "/tally/*", tally)
            .staticFiles("/files/", config.root(), config.allowDotfiles());
        this.server = b.start();
        self[0] = server;
        grids.register(tallies[0].grid());
        this.statsPage = new StatsPage(server::metrics, history, List.of(new OverviewSection(), new ChartsSection(),
            new StagesSection(), new WorkersSection(), new PoolsSection(), grids,
            new ConnectionsSection(server::transportStats, server::stats)));
        // Render once here, so that the first /stats does not load the page's classes on a worker
        // (a quarter of a second, during which that worker's connections would wait).
        statsPage.render();
        page[0] = statsPage;
        this.sampler = StatsSampler.start(history, server::metrics, SAMPLE_PERIOD);
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
     * Shows a lock grid on {@code /stats}: its heat map, hottest cells and convoys.
     *
     * @param grid a grid of this server's stages
     * @return this service
     */
    public HttpService registerLockGrid(final LockGrid grid)
    {
        grids.register(grid);
        return this;
    }

    /**
     * The {@code /stats} page, to add sections to (the hook for components started later, such as a
     * reverse proxy's upstream table).
     *
     * @return the page
     */
    public StatsPage statsPage()
    {
        return statsPage;
    }

    StatsHistory statsHistory()
    {
        return history;
    }

    /**
     * Stops accepting, drains requests in flight until the deadline, and closes.
     *
     * @param deadline how long the drain may take
     * @return what was drained and dropped
     */
    public ShutdownReport shutdown(final Duration deadline)
    {
        sampler.close();
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
