package io.millrace.net;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transport over real loopback sockets, driven through a real pipeline. */
class TcpServerTest
{
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

    @Test
    void echoesThroughTheWorkersAndGivesEveryBufferBack() throws Exception
    {
        final EchoServer echo = new EchoServer(2, b -> b.bind(ANY_PORT), c -> { });
        try (echo)
        {
            final List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 8; i++)
            {
                clients.add(connect(echo.port()));
            }
            for (int round = 0; round < 50; round++)
            {
                for (int i = 0; i < clients.size(); i++)
                {
                    final byte[] message = ("client " + i + " round " + round + "\n").getBytes(StandardCharsets.US_ASCII);
                    clients.get(i).getOutputStream().write(message);
                    assertArrayEquals(message, readExactly(clients.get(i).getInputStream(), message.length));
                }
            }
            for (final Socket client : clients)
            {
                client.close();
            }
            awaitTrue(() -> echo.server.stats().open() == 0, "the server saw every client close");
            final TransportStats stats = echo.server.stats();
            assertEquals(8, stats.accepted());
            assertEquals(8, stats.closed());
            assertEquals(stats.bytesRead(), stats.bytesWritten(), "an echo writes what it reads");
            assertTrue(echo.server.usesReusePort(), "Linux supports SO_REUSEPORT, so every worker listens");
        }
        assertEquals(0, echo.chunksInUse(), "every chunk is back in a pool after shutdown");
        assertEquals(0, echo.leaks.leaksReported(), "the paranoid leak detector saw no leak");
        assertEquals(2, echo.ownersSeen.size(), "the partitioned stage ran on both workers, so requests crossed threads");
    }

    @Test
    void withoutReusePortOneWorkerAcceptsAndDealsConnectionsOutInTurn() throws Exception
    {
        final EchoServer echo = new EchoServer(2, b -> b.bind(ANY_PORT).reusePort(false), c -> { });
        try (echo)
        {
            final List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++)
            {
                final Socket s = connect(echo.port());
                clients.add(s);
                final byte[] hi = ("hi " + i).getBytes(StandardCharsets.US_ASCII);
                s.getOutputStream().write(hi);
                assertArrayEquals(hi, readExactly(s.getInputStream(), hi.length));
            }
            assertEquals(java.util.Set.of(0, 1), echo.workersThatOpened, "connections were dealt to both workers");
            for (final Socket client : clients)
            {
                client.close();
            }
        }
        assertEquals(0, echo.chunksInUse());
    }

    @Test
    void aPeerThatDoesNotReadCannotGrowTheServersQueuedOutput() throws Exception
    {
        final long cap = 128 * 1024;
        final EchoServer echo = new EchoServer(2, b -> b.bind(ANY_PORT).maxPendingOutputBytes(cap).sendBufferSize(16 * 1024),
            c -> { });
        try (echo)
        {
            final Socket slow = new Socket();
            slow.setReceiveBufferSize(16 * 1024);
            slow.connect(new InetSocketAddress("127.0.0.1", echo.port()));
            final OutputStream out = slow.getOutputStream();
            for (int i = 0; i < 40; i++)
            {
                out.write('F'); // each asks for FLOOD_BYTES; the peer reads none of it
                out.flush();
                Thread.sleep(10);
            }
            // Another connection is served meanwhile.
            try (Socket other = connect(echo.port()))
            {
                final byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
                other.getOutputStream().write(ping);
                assertArrayEquals(ping, readExactly(other.getInputStream(), ping.length));
            }
            final TransportStats stats = echo.server.stats();
            assertTrue(stats.readPauses() >= 1, "reading from the slow peer paused: " + stats);
            // Without the cap 40 floods would queue 10 MiB; with it, at most the cap plus the
            // responses already in flight when reading paused.
            assertTrue(stats.maxPendingOutputBytes() <= cap + 2L * EchoServer.FLOOD_BYTES,
                "queued output stayed capped: " + stats.maxPendingOutputBytes() + " bytes");
            assertTrue(stats.pendingOutputBytes() > 0, "the slow peer still has output queued");
            slow.close();
            awaitTrue(() -> echo.server.stats().open() == 0, "closing the slow peer frees its connection");
        }
        assertEquals(0, echo.chunksInUse(), "a connection closed with queued output releases it");
    }

    @Test
    void idleConnectionsAreClosed() throws Exception
    {
        final EchoServer echo = new EchoServer(1, b -> b.bind(ANY_PORT).idleTimeout(Duration.ofMillis(200)), c -> { });
        try (echo; Socket s = connect(echo.port()))
        {
            s.setSoTimeout(5_000);
            assertEquals(-1, s.getInputStream().read(), "the server closed the idle connection");
            awaitTrue(() -> echo.server.stats().idleTimeouts() == 1, "counted as an idle timeout");
        }
    }

    @Test
    void aReadDeadlineClosesAPeerThatTricklesBytes() throws Exception
    {
        final EchoServer echo = new EchoServer(1, b -> b.bind(ANY_PORT),
            c -> c.readDeadline(TimeUnit.MILLISECONDS.toNanos(300)));
        try (echo; Socket s = connect(echo.port()))
        {
            s.setSoTimeout(100);
            final long start = System.nanoTime();
            boolean closed = false;
            while (!closed && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10))
            {
                s.getOutputStream().write('x'); // activity, so the idle timeout alone would never fire
                try
                {
                    closed = s.getInputStream().read(new byte[64]) == -1;
                }
                catch (final SocketTimeoutException ex)
                {
                    // still open
                }
                catch (final IOException ex)
                {
                    closed = true; // reset by the server
                }
            }
            assertTrue(closed, "the read deadline closed the connection");
            assertEquals(1, echo.server.stats().readTimeouts());
        }
    }

    @Test
    void connectionsOverTheLimitAreRefused() throws Exception
    {
        final EchoServer echo = new EchoServer(1, b -> b.bind(ANY_PORT).maxConnections(2), c -> { });
        try (echo; Socket a = connect(echo.port()); Socket b = connect(echo.port()); Socket c = connect(echo.port()))
        {
            c.setSoTimeout(5_000);
            assertEquals(-1, c.getInputStream().read(), "the third connection is closed at once");
            assertEquals(1, echo.server.stats().refused());
            final byte[] hi = "still here".getBytes(StandardCharsets.US_ASCII);
            a.getOutputStream().write(hi);
            assertArrayEquals(hi, readExactly(a.getInputStream(), hi.length));
        }
    }

    @Test
    void anAddressInUseFailsStart() throws Exception
    {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()))
        {
            final UncheckedIOException ex = assertThrows(UncheckedIOException.class,
                () -> new EchoServer(1, b -> b.bind(new InetSocketAddress("127.0.0.1", taken.getLocalPort())), c -> { }));
            assertTrue(ex.getMessage().contains("could not listen"), ex.getMessage());
        }
    }

    @Test
    void touchingAConnectionFromAnotherThreadFailsWithTheRemedy() throws Exception
    {
        final Connection[] seen = new Connection[1];
        final EchoServer echo = new EchoServer(1, b -> b.bind(ANY_PORT), c -> seen[0] = c);
        try (echo; Socket s = connect(echo.port()))
        {
            awaitTrue(() -> seen[0] != null, "connection opened");
            final IllegalStateException ex = assertThrows(IllegalStateException.class, () -> seen[0].close());
            assertTrue(ex.getMessage().contains("Placement.onWorker"), ex.getMessage());
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Socket connect(final int port) throws IOException
    {
        final Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        s.setTcpNoDelay(true);
        return s;
    }

    private static byte[] readExactly(final InputStream in, final int n) throws IOException
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

    private static void awaitTrue(final java.util.function.BooleanSupplier condition, final String what) throws InterruptedException
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
