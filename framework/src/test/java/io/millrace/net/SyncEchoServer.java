package io.millrace.net;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.ShutdownReport;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Test fixture: a server whose handler echoes synchronously in {@code onRead}, in a pipeline with a
 * no-op stage (the transport needs a pipeline to live in), and the socket helpers the transport
 * tests share. Tests subclass {@link Handler} to make one callback misbehave.
 */
final class SyncEchoServer implements AutoCloseable
{
    static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

    /** Echoes what it reads, at once, on the connection's worker; remembers the worker's allocator. */
    static class Handler implements ConnectionHandler
    {
        volatile BufferAllocator allocator;

        @Override
        public void onOpen(final Connection connection)
        {
            allocator = connection.allocator();
        }

        @Override
        public void onRead(final Connection connection)
        {
            final BufferChain in = connection.inbound();
            if (in.readableBytes() == 0)
            {
                return;
            }
            final BufferChain out = connection.allocator().newChain();
            out.append(in);
            connection.write(out);
        }
    }

    final LeakDetector leaks = LeakDetector.paranoid();
    final TcpServer server;
    final Pipeline<Object> pipeline;

    SyncEchoServer(final int workers, final ConnectionHandler handler, final Consumer<TcpServerBuilder> config)
    {
        final TcpServerBuilder sb = TcpServer.builder(handler).bind(ANY_PORT);
        config.accept(sb);
        server = sb.build();
        final PipelineBuilder<Object> b = Pipeline.builder();
        final StageRef<Object> noop = b.stage("noop");
        b.handle(noop, (r, ctx) -> Outcome.done());
        pipeline = b.name("sync-echo").workers(workers).idle(Idle.backoff())
            .memory(SlabArena.builder().chunkSize(16 * 1024).slabSize(1 << 20).maxSlabs(16).leakDetector(leaks).build())
            .io(server)
            .build().start();
    }

    int port()
    {
        return server.localAddress().getPort();
    }

    /** Chunks held by buffers now, over all workers; exact once the pipeline stopped. */
    long chunksInUse()
    {
        long live = 0;
        for (final WorkerMetrics w : pipeline.metrics().workers())
        {
            live += w.bufferChunks().live();
        }
        return live;
    }

    ShutdownReport shutdown()
    {
        return pipeline.shutdown(Duration.ofSeconds(5));
    }

    @Override
    public void close()
    {
        shutdown();
    }

    // ------------------------------------------------------------------ socket helpers

    static Socket connect(final int port) throws IOException
    {
        final Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(5_000);
        s.setTcpNoDelay(true);
        return s;
    }

    /** Connects, sends a line and reads it back: the server is serving. */
    static void assertEchoes(final int port, final String text) throws IOException
    {
        try (Socket s = connect(port))
        {
            final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
            s.getOutputStream().write(bytes);
            assertArrayEquals(bytes, readExactly(s.getInputStream(), bytes.length), "echoed");
        }
    }

    /** The server closed {@code s}: end of stream or a reset, within the socket's timeout. */
    static void assertClosedByServer(final Socket s) throws IOException
    {
        try
        {
            assertEquals(-1, s.getInputStream().read(), "the server closed the connection");
        }
        catch (final java.net.SocketTimeoutException ex)
        {
            throw new AssertionError("the server did not close the connection", ex);
        }
        catch (final IOException ex)
        {
            // Reset by the server: closed too.
        }
    }

    static byte[] readExactly(final InputStream in, final int n) throws IOException
    {
        final byte[] buf = new byte[n];
        int got = 0;
        while (got < n)
        {
            final int r = in.read(buf, got, n - got);
            if (r < 0)
            {
                throw new IOException("closed after " + got + " of " + n + " bytes: " + Arrays.toString(Arrays.copyOf(buf, got)));
            }
            got += r;
        }
        return buf;
    }

    static void awaitTrue(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }
}
