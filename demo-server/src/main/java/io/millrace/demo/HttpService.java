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
import io.millrace.demo.stats.StatsSection;
import io.millrace.demo.stats.UpstreamsSection;
import io.millrace.demo.stats.WorkersSection;
import io.millrace.http.HttpExchange;
import io.millrace.http.HttpServer;
import io.millrace.http.HttpServerBuilder;
import io.millrace.http.HttpServerStats;
import io.millrace.lock.LockGrid;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.log.DirectoryLockedException;
import io.millrace.log.GroupCommit;
import io.millrace.log.GroupCommitOptions;
import io.millrace.log.LogDirectory;
import io.millrace.log.LogDirectoryOptions;
import io.millrace.log.LogOptions;
import io.millrace.net.TransportStats;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo HTTP/1.1 server: a thin user of {@link HttpServer}, with its endpoints as stages.
 *
 * <pre>
 *  read + parse + route (worker W) -> hello | files | metrics | stats [inline]
 *                                     kv [one owner worker] -> (group commit) -> kv durable
 *                                     log [partitioned by topic] -> (group commit) -> log appended
 *                                     tally [inline, under a lock-grid cell]
 *                                     slow [blocking(2)]
 *                                  -> respond [onWorker W]
 * </pre>
 *
 * A request read on worker W is answered on W in one loop turn, except {@code /kv} and {@code /log}
 * (which cross to the owner of the store's or the topic's log and back, and wait there for the
 * disk when they write), {@code /slow}, and a {@code /tally} that waits for its cell. The data
 * directory ({@code --data-dir}) is locked for as long as the service runs.
 *
 * <p>With {@code --upstream} ({@link ProxySettings#enabled()}) it is a reverse proxy instead: only
 * {@code /metrics} and {@code /stats} are its own, every other request goes to the upstream group
 * ({@link ProxyMode}), no data directory is opened, and the stats page gets the upstream table.
 *
 * <p>The {@code /stats} page is a {@link StatsPage} whose charts come from a {@link StatsHistory}
 * (five minutes, one sample a second, taken by a {@link StatsSampler} thread). Lock grids are
 * registered with {@link #registerLockGrid}; other components add sections to {@link #statsPage()}.
 */
public final class HttpService implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(HttpService.class);
    /** Index entries every 4 KiB (the log's default), so a segment needs 8 bytes of index per 4 KiB. */
    private static final int INDEX_INTERVAL = 4096;
    /** Samples kept for the charts: five minutes at one a second. */
    static final int HISTORY_SAMPLES = 300;
    /** Time between two samples of the stats history. */
    static final Duration SAMPLE_PERIOD = Duration.ofSeconds(1);

    private final DemoConfig config;
    private final HttpServer server;
    private final LogDirectory directory;
    private final GroupCommit commit;
    private final DurableKv kv;
    private final StatsHistory history = new StatsHistory(HISTORY_SAMPLES);
    private final LockGridSection grids = new LockGridSection();
    private final StatsPage[] page = new StatsPage[1];
    private final StatsPage statsPage;
    private final StatsSampler sampler;
    /** The reverse proxy's group and settings; null unless the demo proxies (--upstream). */
    private final ProxyMode proxyMode;

    private HttpService(final DemoConfig config, final LeakDetector leaks, final FatalErrorHandler onFatal) throws IOException
    {
        this.config = config;
        if (config.proxy().enabled())
        {
            // A proxy serves only /metrics and /stats itself: no data directory is opened or locked,
            // so proxies and their backends need no --data-dir of their own.
            this.directory = null;
            this.commit = null;
            this.kv = null;
            this.proxyMode = ProxyMode.create(config.proxy(), config.workers());
            try
            {
                this.server = buildProxy(config, leaks, onFatal);
            }
            catch (final RuntimeException e)
            {
                proxyMode.close();
                throw e;
            }
        }
        else
        {
            this.proxyMode = null;
            final LogSettings ls = config.log();
            final LogOptions base = LogOptions.defaults().withSegmentBytes(ls.segmentBytes())
                .withMaxIndexBytes(Math.max(4096, (ls.segmentBytes() / INDEX_INTERVAL + 2) * 8));
            // Throws DirectoryLockedException before anything else is started: a second server stops here.
            this.directory = LogDirectory.open(ls.dataDir(), new LogDirectoryOptions(ls.maxTopics(),
                base.withMaxRecordBytes(ls.maxRecordBytes()).withRetentionBytes(ls.retentionBytes())
                    .withRetentionMillis(ls.retentionMs()), 1000));
            GroupCommit made = null;
            try
            {
                // No worker can have more appends pending than the pipeline has requests in flight: size the
                // committers' pools to that instead of the defaults (20,480 entries per worker).
                final int inFlight = config.maxInFlight() > 0 ? config.maxInFlight() : PipelineBuilder.DEFAULT_RING_SIZE / 2;
                made = new GroupCommit(GroupCommitOptions.defaults(config.workers()).withForceMode(ls.forceMode())
                    .withMaxAppendsPerTurn(Math.min(4096, inFlight)).withMaxAwaitingSync(inFlight));
                // The kv log takes any body the server accepts, with its key and header; it has no retention.
                this.kv = DurableKv.open(directory, base.withMaxRecordBytes(config.maxBodyBytes() + KvStore.HEADER_BYTES
                    + KvStore.MAX_KEY_BYTES), (long)config.kvMaxMiB() << 20, ls.kvCompactBytes(), made);
                this.commit = made;
                this.server = build(config, leaks, onFatal);
            }
            catch (final IOException | RuntimeException e)
            {
                closeLogs(made, e);
                throw e;
            }
        }
        final List<StatsSection> sections = new ArrayList<>(List.of(new OverviewSection(), new ChartsSection(),
            new StagesSection(), new WorkersSection(), new PoolsSection(), grids,
            new ConnectionsSection(server::transportStats, server::stats)));
        if (proxyMode != null)
        {
            // After the overview and the charts, where a person looking at a proxy looks first.
            sections.add(2, new UpstreamsSection(proxyMode.group()::stats, proxyMode.proxy()));
        }
        this.statsPage = new StatsPage(server::metrics, history, sections);
        // Render once here, so that the first /stats does not load the page's classes on a worker
        // (a quarter of a second, during which that worker's connections would wait).
        statsPage.render();
        page[0] = statsPage;
        this.sampler = StatsSampler.start(history, server::metrics, SAMPLE_PERIOD, onFatal);
    }

    /** The common settings of both modes. */
    private static HttpServerBuilder base(final DemoConfig config, final LeakDetector leaks, final FatalErrorHandler onFatal)
    {
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
        return b;
    }

    /**
     * The proxy: {@code /metrics} and {@code /stats} inline on the connection's worker, as in the
     * other mode; every other request (any method but CONNECT and TRACE) goes to the upstream group.
     * Routes declared before {@code proxy("/*")} win.
     */
    private HttpServer buildProxy(final DemoConfig config, final LeakDetector leaks, final FatalErrorHandler onFatal)
    {
        final HttpServerBuilder b = base(config, leaks, onFatal);
        final HttpServer[] self = new HttpServer[1];
        final Endpoints endpoints = new Endpoints(() -> self[0], null, null, () -> page[0], proxyMode);
        b.route("GET", "/metrics", b.stage("metrics", endpoints::metrics))
            .route("GET", "/stats", b.stage("stats", endpoints::stats))
            .proxy("/*", proxyMode.proxy());
        final HttpServer started = b.start();
        self[0] = started;
        return started;
    }

    private HttpServer build(final DemoConfig config, final LeakDetector leaks, final FatalErrorHandler onFatal)
    {
        final HttpServerBuilder b = base(config, leaks, onFatal);
        final int partitions = Math.max(PipelineBuilder.DEFAULT_PARTITIONS, Integer.highestOneBit(config.workers() * 2 - 1) * 2);
        final HttpServer[] self = new HttpServer[1];
        final Endpoints endpoints = new Endpoints(() -> self[0], commit, directory, () -> page[0], null);
        final Tallies[] tallies = new Tallies[1];
        final LogEndpoints logs = new LogEndpoints(directory, commit, config.log().maxRecordBytes(), partitions, config.workers());
        final StageRef<HttpExchange> hello = b.stage("hello", endpoints::hello);
        // Every /kv request runs on the one worker that owns the store's log (a constant key): see DurableKv.
        final StageRef<HttpExchange> kvStage = b.stage("kv", Placement.partitioned(x -> 0), kv::handle);
        kv.afterAppend(b.stage("kv durable", Placement.partitioned(x -> 0), kv::durable));
        // A topic's requests run on the worker owning the topic's partition, which owns its log.
        // An explicit partition count: LogEndpoints keeps a topic table per partition.
        final StageRef<HttpExchange> log = b.stage("log", Placement.partitioned(partitions, LogEndpoints::topicHash),
            logs::handle);
        logs.appended(b.stage("log appended", logs::appended));
        final StageRef<HttpExchange> slow = b.stage("slow", Placement.blocking(2), endpoints::slow);
        final StageRef<HttpExchange> metrics = b.stage("metrics", endpoints::metrics);
        final StageRef<HttpExchange> stats = b.stage("stats", endpoints::stats);
        final StageRef<HttpExchange> tally = b.stage("tally", (x, ctx) -> tallies[0].handle(x, ctx));
        tallies[0] = new Tallies(tally);
        b.route("GET", "/hello", hello)
            .route("GET, PUT, DELETE", "/kv/*", kvStage)
            .route("GET, POST", "/log/*", log)
            .route("GET", "/slow", slow)
            .route("GET", "/metrics", metrics)
            .route("GET", "/stats", stats)
            .route("GET, POST", "/tally/*", tally)
            .staticFiles("/files/", config.root(), config.allowDotfiles());
        final HttpServer started = b.start();
        self[0] = started;
        grids.register(tallies[0].grid());
        return started;
    }

    /**
     * Builds and starts the server.
     *
     * @param config its settings
     * @return the running server
     * @throws java.io.UncheckedIOException if it cannot listen (address in use, say), or its data
     *                                      directory is locked by another server or cannot be recovered
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
        try
        {
            return new HttpService(config, leaks, onFatal);
        }
        catch (final DirectoryLockedException e)
        {
            throw new UncheckedIOException(e.getMessage() + " (--data-dir)", e);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot open the data directory " + config.log().dataDir().toAbsolutePath()
                + ": " + e.getMessage(), e);
        }
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
     * The {@code /stats} page, to add sections to (the hook for components started later; the
     * reverse proxy's upstream table is there from the start in proxy mode).
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
        final ShutdownReport report = server.shutdown(deadline);
        if (proxyMode != null)
        {
            proxyMode.close();
        }
        closeLogs(commit, null);
        return report;
    }

    /**
     * After the pipeline stopped (or never started): the group commit (nothing is pending), the
     * snapshot thread, then every log (clean-shutdown markers) and the directory's lock. Idempotent.
     */
    private void closeLogs(final GroupCommit made, final Exception pending)
    {
        try
        {
            if (made != null)
            {
                made.close();
            }
            if (kv != null)
            {
                kv.close();
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
        if (directory == null)
        {
            return; // a proxy opens no data directory
        }
        try
        {
            directory.close();
        }
        catch (final IOException e)
        {
            if (pending != null)
            {
                pending.addSuppressed(e);
            }
            LOG.warn("closing the data directory {} failed; its logs are recovered at the next start", directory.path(), e);
        }
    }

    /**
     * Re-reads {@code --upstream-file} and applies it to the upstream group: new upstreams join,
     * missing ones drain, changed ones take their new settings. Logs what changed, or, for a file
     * that cannot be read or parsed, why nothing changed. {@code DemoServer} calls it on SIGHUP.
     * Nothing happens unless the demo proxies with an upstream file.
     */
    public void reloadUpstreams()
    {
        if (proxyMode != null)
        {
            proxyMode.reloadLogged();
        }
    }

    /** @return the upstreams' names, for the start-up line; empty unless the demo proxies */
    String upstreamNames()
    {
        return proxyMode == null ? "" : proxyMode.group().upstreams().stream().map(u -> u.name())
            .collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    }

    /** @return the reverse proxy's group and settings, or null unless the demo proxies */
    ProxyMode proxyMode()
    {
        return proxyMode;
    }

    /** @return the data directory (tests) */
    LogDirectory directory()
    {
        return directory;
    }

    /** @return the durable /kv store (tests) */
    DurableKv kv()
    {
        return kv;
    }

    /** @return the group commit of /log and /kv (tests, metrics) */
    GroupCommit groupCommit()
    {
        return commit;
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
