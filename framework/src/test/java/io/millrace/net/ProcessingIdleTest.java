package io.millrace.net;

import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.millrace.net.SyncEchoServer.assertClosedByServer;
import static io.millrace.net.SyncEchoServer.awaitTrue;
import static io.millrace.net.SyncEchoServer.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The idle timeout never cuts a connection while it is processing a request; it does close a
 * connection closing after flush whose peer stops reading, processing or not.
 */
@Timeout(60)
class ProcessingIdleTest
{
    private static final Duration IDLE = Duration.ofMillis(200);

    /** Marks each connection processing on open; 'U' unmarks it; 'F' floods it and closes after flush. */
    private static final class Handler extends SyncEchoServer.Handler
    {
        static final int FLOOD_BYTES = 2 * 1024 * 1024;

        @Override
        public void onOpen(final Connection connection)
        {
            super.onOpen(connection);
            connection.setProcessing(true);
        }

        @Override
        public void onRead(final Connection c)
        {
            final BufferChain in = c.allocator().newChain().append(c.inbound());
            final BufferDescriptor first = in.first();
            final byte command = first == null ? 0 : first.readableBuffer().get(first.readableBuffer().position());
            in.release();
            if (command == 'U')
            {
                c.setProcessing(false);
            }
            else if (command == 'F')
            {
                c.write(flood(c.allocator()));
                c.closeAfterFlush();
            }
        }

        private static BufferChain flood(final BufferAllocator allocator)
        {
            final BufferChain chain = allocator.newChain();
            final ByteBuffer filler = ByteBuffer.allocate(16 * 1024);
            int left = FLOOD_BYTES;
            while (left > 0)
            {
                final BufferDescriptor d = allocator.allocate();
                filler.clear().limit(Math.min(left, d.writableBytes()));
                left -= d.put(filler);
                chain.append(d);
            }
            return chain;
        }
    }

    @Test
    void aProcessingConnectionOutlivesTheIdleTimeoutAndIdlesOutOnceItEnds() throws Exception
    {
        try (SyncEchoServer echo = new SyncEchoServer(1, new Handler(), b -> b.idleTimeout(IDLE)); Socket s = connect(echo.port()))
        {
            s.setSoTimeout(600); // three idle timeouts
            assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read(), "still open after 600 ms");
            assertEquals(1, echo.server.stats().open());
            assertEquals(0, echo.server.stats().idleTimeouts());

            s.setSoTimeout(5_000);
            final long unmarked = System.nanoTime();
            s.getOutputStream().write('U');
            assertClosedByServer(s);
            final long took = System.nanoTime() - unmarked;
            assertTrue(took < TimeUnit.SECONDS.toNanos(3), "closed within a bounded time: " + took / 1_000_000 + " ms");
            assertTrue(took >= IDLE.toNanos() - TimeUnit.MILLISECONDS.toNanos(20),
                "the idle clock restarted when processing ended: " + took / 1_000_000 + " ms");
            awaitTrue(() -> echo.server.stats().idleTimeouts() == 1, "counted as an idle timeout: " + echo.server.stats());
        }
    }

    @Test
    void aConnectionClosingAfterFlushWhosePeerNeverReadsIsClosedByTheIdleTimeoutEvenWhileProcessing() throws Exception
    {
        try (SyncEchoServer echo = new SyncEchoServer(1, new Handler(), b -> b.idleTimeout(IDLE).sendBufferSize(16 * 1024));
             Socket s = new Socket())
        {
            s.setReceiveBufferSize(16 * 1024);
            s.connect(new InetSocketAddress("127.0.0.1", echo.port()));
            s.getOutputStream().write('F'); // 2 MiB queued, still processing, closing after flush; never read
            awaitTrue(() -> echo.server.stats().pendingOutputBytes() > 0, "output is stuck behind the peer: " + echo.server.stats());
            awaitTrue(() -> echo.server.stats().open() == 0, "the idle timeout closed it: " + echo.server.stats());
            final TransportStats stats = echo.server.stats();
            assertEquals(1, stats.idleTimeouts());
            assertEquals(0, stats.pendingOutputBytes(), "its queued output was released");
        }
    }
}
