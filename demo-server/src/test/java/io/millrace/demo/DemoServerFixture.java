package io.millrace.demo;

import io.millrace.memory.LeakDetector;
import io.millrace.metrics.WorkerMetrics;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/** Test helper: a demo server on an ephemeral port, with every buffer leak-tracked. */
final class DemoServerFixture implements AutoCloseable
{
    final LeakDetector leaks = LeakDetector.paranoid();
    final HttpService service;

    DemoServerFixture(final Path root, final Duration idleTimeout, final Duration requestTimeout, final int maxInFlight)
    {
        this(root, idleTimeout, requestTimeout, maxInFlight, 64);
    }

    DemoServerFixture(final Path root, final Duration idleTimeout, final Duration requestTimeout, final int maxInFlight,
        final int maxBufferMiB)
    {
        final DemoConfig config = new DemoConfig(new InetSocketAddress("127.0.0.1", 0), 2, root, idleTimeout, requestTimeout,
            100, 8192, 2 << 20, maxInFlight, maxBufferMiB, 0, 64, false, false, false);
        this.service = HttpService.start(config, leaks);
    }

    /** A fixture on the defaults of {@link DemoConfig#parse} plus these flags (port 0, 2 workers, the root). */
    DemoServerFixture(final Path root, final String... flags)
    {
        final String[] all = new String[flags.length + 6];
        System.arraycopy(new String[] {"--port", "0", "--workers", "2", "--root", root.toString()}, 0, all, 0, 6);
        System.arraycopy(flags, 0, all, 6, flags.length);
        this.service = HttpService.start(DemoConfig.parse(all), leaks);
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
    }
}
