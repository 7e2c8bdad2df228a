package io.millrace.demo;

import io.millrace.log.ForceMode;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The demo server's settings, from command-line flags. Immutable.
 *
 * @param address          where to listen
 * @param workers          worker threads
 * @param root             document root of {@code /files/}
 * @param idleTimeout      a connection with no traffic for this long is closed
 * @param requestTimeout   a request's head and body must arrive within this once begun (slowloris)
 * @param maxConnections   open connections at most
 * @param maxHeaderBytes   request head limit (431 above it)
 * @param maxBodyBytes     request body limit (413 above it)
 * @param maxInFlight      requests in the pipeline at once (503 above it); 0 for the pipeline's default
 * @param maxBufferMiB     the slab arena's cap in MiB (1 MiB slabs of 16 KiB chunks); above it a
 *                         request that needs a buffer fails and its connection closes
 * @param kvMaxMiB         bytes the /kv store holds at most (values, keys and a per-entry overhead), in MiB (507 above it)
 * @param bodyMemoryMiB    request body memory at once, all connections together (503 above it); 0 for half of maxBufferMiB
 * @param allowDotfiles    serve files and directories whose name starts with '.'
 * @param finishHalfClosed answer requests whose client shut down its sending side instead of cancelling them
 * @param accessLog        log one line per response
 * @param log              the data directory and the durable logs' settings
 * @param proxy            the reverse proxy's upstreams and settings ({@link ProxySettings#none()} when not a proxy)
 */
public record DemoConfig(
    InetSocketAddress address,
    int workers,
    Path root,
    Duration idleTimeout,
    Duration requestTimeout,
    int maxConnections,
    int maxHeaderBytes,
    int maxBodyBytes,
    int maxInFlight,
    int maxBufferMiB,
    int bodyMemoryMiB,
    int kvMaxMiB,
    boolean allowDotfiles,
    boolean finishHalfClosed,
    boolean accessLog,
    LogSettings log,
    ProxySettings proxy)
{
    /** The flags, for {@code --help}. */
    public static final String USAGE = """
        Usage: demo-server [flags]
          --address A            listen address (default 127.0.0.1)
          --port N               listen port (default 8080; 0 picks a free one)
          --workers N            worker threads (default: available processors)
          --root DIR             document root served under /files/ (default: current directory)
          --idle-timeout-ms N    close connections idle this long (default 60000)
          --request-timeout-ms N a started request must arrive whole within this (default 10000)
          --max-connections N    open connections at most (default 10000)
          --max-header-bytes N   request head limit, 431 above it (default 8192)
          --max-body-bytes N     request body limit, 413 above it (default 1048576)
          --max-in-flight N      requests in the pipeline at once, 503 above it (default 2048)
          --max-buffer-mib N     pooled buffer memory at most, in MiB (default 64)
          --body-memory-mib N    request body memory at once, in MiB (whole 16 KiB chunks); a request
                                 past it gets 503 with Retry-After (default: half of --max-buffer-mib)
          --kv-max-mib N         bytes the /kv store holds at most (keys and values), in MiB; 507 above it (default 64)
          --allow-dotfiles       serve files and directories whose name starts with '.' (refused by default)
          --finish-half-closed   answer a queued request whose client shut down its sending side
                                 (default: cancel it and log 499, as nginx does)
          --access-log           log every response (off by default)

        Durable logs (POST|GET /log/<topic>, and the /kv store's log):
          --data-dir DIR         where the logs and the /kv snapshot live, locked while the server
                                 runs (default: data/ in the working directory)
          --max-topics N         /log topics at most; a new one past it gets 507 (default 1024)
          --log-segment-bytes N  segment size of every log (default 67108864)
          --log-retention-bytes N  per topic, delete old segments while the rest holds N bytes (default -1: keep all)
          --log-retention-ms N   per topic, delete segments whose last append is older (default -1: keep all)
          --log-max-record-bytes N  largest POST /log body, 413 above it (default 1048576)
          --log-force MODE       where the group commit's fdatasync runs: worker or sync-thread (default sync-thread)
          --kv-compact-bytes N   snapshot the /kv store and drop its old log segments once the log has grown
                                 by N bytes and by the store's size since the last time (default 67108864)

        """ + ProxyFlags.USAGE + """
          --help                 this text

        Endpoints: GET /hello, GET /files/<path>, GET|PUT|DELETE /kv/<key>, GET /slow?ms=N,
        POST /log/<topic>, GET /log/<topic>/<offset>, GET /log/<topic>?from=N&max-bytes=M,
        GET|POST /tally/<name>, GET /metrics (Prometheus text 0.0.4), GET /stats (HTML, charts,
        refreshes itself). SIGTERM drains and exits 0; SIGHUP re-reads --upstream-file.
        """;

    /**
     * Settings without a reverse proxy (the demo serves its own endpoints); see the record's components.
     */
    public DemoConfig(final InetSocketAddress address, final int workers, final Path root, final Duration idleTimeout,
                      final Duration requestTimeout, final int maxConnections, final int maxHeaderBytes, final int maxBodyBytes,
                      final int maxInFlight, final int maxBufferMiB, final int bodyMemoryMiB, final int kvMaxMiB,
                      final boolean allowDotfiles, final boolean finishHalfClosed, final boolean accessLog, final LogSettings log)
    {
        this(address, workers, root, idleTimeout, requestTimeout, maxConnections, maxHeaderBytes, maxBodyBytes, maxInFlight,
            maxBufferMiB, bodyMemoryMiB, kvMaxMiB, allowDotfiles, finishHalfClosed, accessLog, log, ProxySettings.none());
    }

    /**
     * @param args command-line flags
     * @return the settings
     * @throws IllegalArgumentException naming the bad flag and what it needs
     */
    public static DemoConfig parse(final String[] args)
    {
        String host = "127.0.0.1";
        int port = 8080;
        int workers = Runtime.getRuntime().availableProcessors();
        Path root = Path.of(".");
        long idleMs = 60_000;
        long requestMs = 10_000;
        int maxConnections = 10_000;
        int maxHeader = 8192;
        int maxBody = 1 << 20;
        int maxInFlight = 0;
        int maxBufferMiB = 64;
        int bodyMemoryMiB = 0;
        int kvMaxMiB = 64;
        boolean allowDotfiles = false;
        boolean finishHalfClosed = false;
        boolean accessLog = false;
        final LogSettings logDefaults = LogSettings.defaults();
        Path dataDir = logDefaults.dataDir();
        int maxTopics = logDefaults.maxTopics();
        int segmentBytes = logDefaults.segmentBytes();
        long retentionBytes = logDefaults.retentionBytes();
        long retentionMs = logDefaults.retentionMs();
        int maxRecordBytes = logDefaults.maxRecordBytes();
        ForceMode forceMode = logDefaults.forceMode();
        long kvCompactBytes = logDefaults.kvCompactBytes();
        final ProxyFlags proxy = new ProxyFlags();
        for (int i = 0; i < args.length; i++)
        {
            final String flag = args[i];
            switch (flag)
            {
                case "--address" -> host = value(args, ++i, flag);
                case "--port" -> port = number(args, ++i, flag, 0, 65535);
                case "--workers" -> workers = number(args, ++i, flag, 1, 1024);
                case "--root" -> root = Path.of(value(args, ++i, flag));
                case "--idle-timeout-ms" -> idleMs = number(args, ++i, flag, 0, Integer.MAX_VALUE);
                case "--request-timeout-ms" -> requestMs = number(args, ++i, flag, 1, Integer.MAX_VALUE);
                case "--max-connections" -> maxConnections = number(args, ++i, flag, 1, 1_000_000);
                case "--max-header-bytes" -> maxHeader = number(args, ++i, flag, 256, 1 << 20);
                case "--max-body-bytes" -> maxBody = number(args, ++i, flag, 0, 64 << 20);
                case "--max-in-flight" -> maxInFlight = number(args, ++i, flag, 1, 1 << 20);
                case "--max-buffer-mib" -> maxBufferMiB = number(args, ++i, flag, 1, 1 << 16);
                case "--body-memory-mib" -> bodyMemoryMiB = number(args, ++i, flag, 1, 1 << 20);
                case "--kv-max-mib" -> kvMaxMiB = number(args, ++i, flag, 1, 1 << 20);
                case "--allow-dotfiles" -> allowDotfiles = true;
                case "--finish-half-closed" -> finishHalfClosed = true;
                case "--access-log" -> accessLog = true;
                case "--data-dir" -> dataDir = Path.of(value(args, ++i, flag));
                case "--max-topics" -> maxTopics = number(args, ++i, flag, 1, 1 << 20);
                case "--log-segment-bytes" -> segmentBytes = number(args, ++i, flag, 4096, Integer.MAX_VALUE);
                case "--log-retention-bytes" -> retentionBytes = longNumber(args, ++i, flag, -1, Long.MAX_VALUE);
                case "--log-retention-ms" -> retentionMs = longNumber(args, ++i, flag, -1, Long.MAX_VALUE);
                case "--log-max-record-bytes" -> maxRecordBytes = number(args, ++i, flag, 0, 64 << 20);
                case "--log-force" -> forceMode = forceMode(value(args, ++i, flag));
                case "--kv-compact-bytes" -> kvCompactBytes = longNumber(args, ++i, flag, 1, Long.MAX_VALUE);
                default ->
                {
                    final int values = proxy.accept(args, i);
                    if (values < 0)
                    {
                        throw new IllegalArgumentException("unknown flag '" + flag + "'; try --help");
                    }
                    i += values;
                }
            }
        }
        return new DemoConfig(new InetSocketAddress(host, port), workers, root, Duration.ofMillis(idleMs),
            Duration.ofMillis(requestMs), maxConnections, maxHeader, maxBody, maxInFlight, maxBufferMiB, bodyMemoryMiB, kvMaxMiB, allowDotfiles, finishHalfClosed,
            accessLog, new LogSettings(dataDir, maxTopics, segmentBytes, retentionBytes, retentionMs, maxRecordBytes, forceMode,
            kvCompactBytes), proxy.settings());
    }

    static String value(final String[] args, final int i, final String flag)
    {
        if (i >= args.length)
        {
            throw new IllegalArgumentException(flag + " needs a value; try --help");
        }
        return args[i];
    }

    private static ForceMode forceMode(final String text)
    {
        return switch (text)
        {
            case "worker" -> ForceMode.WORKER;
            case "sync-thread" -> ForceMode.SYNC_THREAD;
            default -> throw new IllegalArgumentException("--log-force is worker or sync-thread, got '" + text + "'");
        };
    }

    static long longNumber(final String[] args, final int i, final String flag, final long min, final long max)
    {
        final String text = value(args, i, flag);
        final long n;
        try
        {
            n = Long.parseLong(text);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(flag + " needs a number, got '" + text + "'");
        }
        if (n < min || n > max)
        {
            throw new IllegalArgumentException(flag + " must be between " + min + " and " + max + ", got " + n);
        }
        return n;
    }

    static int number(final String[] args, final int i, final String flag, final int min, final int max)
    {
        final String text = value(args, i, flag);
        final int n;
        try
        {
            n = Integer.parseInt(text);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(flag + " needs a number, got '" + text + "'");
        }
        if (n < min || n > max)
        {
            throw new IllegalArgumentException(flag + " must be between " + min + " and " + max + ", got " + n);
        }
        return n;
    }
}
