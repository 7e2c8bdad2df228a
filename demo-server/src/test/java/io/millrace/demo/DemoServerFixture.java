package io.millrace.demo;

import io.millrace.memory.LeakDetector;
import io.millrace.metrics.WorkerMetrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Test helper: a demo server on an ephemeral port, with every buffer leak-tracked, and a data
 * directory of its own (deleted at close) unless the flags name one.
 */
final class DemoServerFixture implements AutoCloseable
{
    final LeakDetector leaks = LeakDetector.paranoid();
    final HttpService service;
    /** The data directory; made by the fixture (and deleted at close) unless the flags gave one. */
    final Path dataDir;
    private final boolean ownDataDir;

    DemoServerFixture(final Path root, final Duration idleTimeout, final Duration requestTimeout, final int maxInFlight)
    {
        this(root, idleTimeout, requestTimeout, maxInFlight, 64);
    }

    DemoServerFixture(final Path root, final Duration idleTimeout, final Duration requestTimeout, final int maxInFlight,
        final int maxBufferMiB)
    {
        this.dataDir = tempDataDir();
        this.ownDataDir = true;
        final DemoConfig config = new DemoConfig(new InetSocketAddress("127.0.0.1", 0), 2, root, idleTimeout, requestTimeout,
            100, 8192, 2 << 20, maxInFlight, maxBufferMiB, 0, 64, false, false, false, LogSettings.defaults().withDataDir(dataDir));
        this.service = start(config);
    }

    /** A fixture on the defaults of {@link DemoConfig#parse} plus these flags (port 0, 2 workers, the root). */
    DemoServerFixture(final Path root, final String... flags)
    {
        final List<String> all = new ArrayList<>(List.of("--port", "0", "--workers", "2", "--root", root.toString()));
        all.addAll(List.of(flags));
        this.ownDataDir = !all.contains("--data-dir");
        if (ownDataDir)
        {
            all.addAll(List.of("--data-dir", tempDataDir().toString()));
        }
        final DemoConfig config = DemoConfig.parse(all.toArray(new String[0]));
        this.dataDir = config.log().dataDir();
        this.service = start(config);
    }

    private static Path tempDataDir()
    {
        try
        {
            return Files.createTempDirectory("millrace-demo-data");
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    private HttpService start(final DemoConfig config)
    {
        try
        {
            return HttpService.start(config, leaks);
        }
        catch (final RuntimeException e)
        {
            deleteDataDir();
            throw e;
        }
    }

    DemoServerFixture(final Path root)
    {
        this(root, Duration.ofSeconds(30), Duration.ofSeconds(10), 0);
    }

    int port()
    {
        return service.address().getPort();
    }

    String url(final String path)
    {
        return "http://127.0.0.1:" + port() + path;
    }

    /** Chunks held by buffers, over all workers; exact once the server stopped. */
    long chunksInUse()
    {
        long live = 0;
        for (final WorkerMetrics w : service.pipeline().metrics().workers())
        {
            live += w.bufferChunks().live();
        }
        return live;
    }

    @Override
    public void close()
    {
        service.shutdown(Duration.ofSeconds(10));
        deleteDataDir();
    }

    private void deleteDataDir()
    {
        if (!ownDataDir)
        {
            return;
        }
        try (Stream<Path> files = Files.walk(dataDir))
        {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }
}
