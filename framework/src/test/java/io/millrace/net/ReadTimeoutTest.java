package io.millrace.net;

import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.millrace.net.SyncEchoServer.assertClosedByServer;
import static io.millrace.net.SyncEchoServer.awaitTrue;
import static io.millrace.net.SyncEchoServer.connect;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A read deadline that passes goes to {@link ConnectionHandler#onReadTimeout}, which decides how the
 * connection ends; the transport still never leaves a timed-out connection with nothing to end it.
 */
@Timeout(60)
class ReadTimeoutTest
{
    private static final long DEADLINE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final byte[] TIMEOUT_ANSWER = ("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);

    /** Arms a deadline on open; counts its onReadTimeout calls, then does what the subclass says. */
    private abstract static class Timing extends SyncEchoServer.Handler
    {
        final AtomicInteger timeouts = new AtomicInteger();

        @Override
        public void onOpen(final Connection connection)
        {
            super.onOpen(connection);
            connection.readDeadline(DEADLINE_NANOS);
        }

        @Override
        public final void onReadTimeout(final Connection connection)
        {
            timeouts.incrementAndGet();
            timedOut(connection);
        }

        abstract void timedOut(Connection connection);
    }

    @Test
    void theHandlerAnswersATimeoutAndClosesAfterFlush() throws Exception
    {
        final Timing handler = new Timing()
        {
            @Override
            void timedOut(final Connection c)
            {
                final BufferChain out = c.allocator().newChain();
                final BufferDescriptor d = c.allocator().allocate();
                d.put(ByteBuffer.wrap(TIMEOUT_ANSWER));
                out.append(d);
                c.write(out);
                c.closeAfterFlush();
            }
        };
        try (SyncEchoServer echo = new SyncEchoServer(1, handler, b -> { }); Socket s = connect(echo.port()))
        {
            // Before, the deadline closed the connection with nothing said.
            assertArrayEquals(TIMEOUT_ANSWER, readToEnd(s.getInputStream()), "the handler's answer, then end of stream");
            awaitTrue(() -> echo.server.stats().closed() == 1, "closed: " + echo.server.stats());
            final TransportStats stats = echo.server.stats();
            assertEquals(1, stats.readTimeouts());
            assertEquals(0, stats.handlerErrors());
            assertEquals(1, handler.timeouts.get());
        }
    }

    @Test
    void aHandlerThatNeitherClosesNorReArmsHasTheConnectionClosedForIt() throws Exception
    {
        final Timing handler = new Timing()
        {
            @Override
            void timedOut(final Connection c)
            {
                c.setProcessing(true); // and no idle timeout either: nothing else would ever close it
            }
        };
        try (SyncEchoServer echo = new SyncEchoServer(1, handler, b -> b.idleTimeout(Duration.ZERO)); Socket s = connect(echo.port()))
        {
            assertClosedByServer(s);
            awaitTrue(() -> echo.server.stats().closed() == 1, "closed: " + echo.server.stats());
            assertEquals(1, echo.server.stats().readTimeouts());
            assertEquals(1, handler.timeouts.get(), "called once; the deadline was disarmed before the call");
        }
    }

    @Test
    void aHandlerThatReArmsTheDeadlineKeepsTheConnectionUntilItCloses() throws Exception
    {
        final Timing handler = new Timing()
        {
            @Override
            void timedOut(final Connection c)
            {
                if (timeouts.get() < 3)
                {
                    c.readDeadline(DEADLINE_NANOS); // more time, twice
                }
                else
                {
                    c.close();
                }
            }
        };
        try (SyncEchoServer echo = new SyncEchoServer(1, handler, b -> b.idleTimeout(Duration.ZERO)); Socket s = connect(echo.port()))
        {
            final long start = System.nanoTime();
            assertClosedByServer(s);
            final long lived = System.nanoTime() - start;
            assertEquals(3, handler.timeouts.get(), "two re-arms, then the close");
            assertTrue(lived >= 3 * DEADLINE_NANOS - TimeUnit.MILLISECONDS.toNanos(20), "lived three deadlines: " + lived / 1_000_000 + " ms");
            awaitTrue(() -> echo.server.stats().readTimeouts() == 3, "each counted: " + echo.server.stats());
        }
    }

    @Test
    void aNegativeDeadlineFailsFast() throws Exception
    {
        final AtomicInteger rejected = new AtomicInteger();
        final SyncEchoServer.Handler handler = new SyncEchoServer.Handler()
        {
            @Override
            public void onOpen(final Connection connection)
            {
                super.onOpen(connection);
                final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> connection.readDeadline(-1));
                if (ex.getMessage().contains("must not be negative"))
                {
                    rejected.incrementAndGet();
                }
            }
        };
        try (SyncEchoServer echo = new SyncEchoServer(1, handler, b -> { }))
        {
            SyncEchoServer.assertEchoes(echo.port(), "served");
            assertEquals(1, rejected.get());
        }
    }

    private static byte[] readToEnd(final InputStream in) throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf)) >= 0)
        {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
