package io.millrace.net;

import io.millrace.ShutdownReport;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.testing.CapturedLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;

import static io.millrace.net.SyncEchoServer.assertClosedByServer;
import static io.millrace.net.SyncEchoServer.assertEchoes;
import static io.millrace.net.SyncEchoServer.awaitTrue;
import static io.millrace.net.SyncEchoServer.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closing a connection always completes: it leaves the table and its socket closes, whatever fails on the way. */
@Timeout(60)
class ConnectionCloseTest
{
    @Test
    void aConnectionWhoseBuffersFailToReleaseStillClosesAndShutdownCompletes() throws Exception
    {
        final SyncEchoServer echo = new SyncEchoServer(1, new ReleasesWhatItDoesNotOwn(), b -> { });
        boolean shutDown = false;
        try
        {
            try (Socket victim = connect(echo.port()))
            {
                victim.getOutputStream().write('R');
                assertClosedByServer(victim);
            }
            awaitTrue(() -> echo.server.stats().open() == 0 && echo.server.stats().closed() == 1,
                "the connection was closed and counted: " + echo.server.stats());
            // Logged after the socket closed, so the client may get here first.
            awaitTrue(() -> !CapturedLog.lines("releasing the buffers of connection ").isEmpty(), "the failed release was logged");
            assertEchoes(echo.port(), "the worker serves on");

            final ShutdownReport report = echo.shutdown();
            shutDown = true;
            // Before the fix the closed connection stayed in the table and the worker's close loop
            // spun on it: the worker was still running (stuck) at the deadline.
            assertTrue(report.clean(), "the worker closed its connections and stopped: " + report);
        }
        finally
        {
            if (!shutDown)
            {
                echo.shutdown();
            }
        }
        assertEquals(0, echo.chunksInUse(), "the chunk the handler released went back; nothing else was held");
        assertEquals(0, echo.leaks.leaksReported());
    }

    /**
     * A handler with a classic ownership bug: on 'R' it releases the connection's inbound chain
     * (which the connection owns; only what is removed from it is the handler's) and closes, so the
     * transport's own release of that chain fails.
     */
    private static final class ReleasesWhatItDoesNotOwn extends SyncEchoServer.Handler
    {
        @Override
        public void onRead(final Connection connection)
        {
            final BufferChain in = connection.inbound();
            final BufferDescriptor first = in.first();
            if (first != null && first.readableBuffer().get(first.readableBuffer().position()) == 'R')
            {
                in.release();
                connection.close();
                return;
            }
            super.onRead(connection);
        }
    }

    @Test
    void closingAnotherConnectionFromOnCloseDuringTheTimeoutSweepIsSafe() throws Exception
    {
        final ClosesItsPartner handler = new ClosesItsPartner();
        final SyncEchoServer echo = new SyncEchoServer(1, handler, b -> { });
        try (echo; Socket a = connect(echo.port()); Socket b = connect(echo.port()))
        {
            // b, in the table's last slot, times out; its onClose closes a, in the sweep's next slot.
            assertClosedByServer(b);
            assertClosedByServer(a);
            awaitTrue(() -> echo.server.stats().closed() == 2, "both connections closed: " + echo.server.stats());
            assertEquals(1, echo.server.stats().readTimeouts());
            assertEchoes(echo.port(), "the worker serves on");
        }
        assertTrue(CapturedLog.lines("hit an internal error").stream().noneMatch(l -> thrownIn(l.error(), "expire")),
            "the sweep did not trip over the connection closed behind its back");
    }

    private static boolean thrownIn(final Throwable error, final String method)
    {
        if (error == null)
        {
            return false;
        }
        for (final StackTraceElement e : error.getStackTrace())
        {
            if (e.getClassName().equals(ConnectionTable.class.getName()) && e.getMethodName().equals(method))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Pairs the first two connections, like a proxy pairs a client with its upstream: the second
     * gets a short read deadline, and closing either closes the other.
     */
    private static final class ClosesItsPartner extends SyncEchoServer.Handler
    {
        private final java.util.List<Connection> pair = new java.util.ArrayList<>(); // worker thread only

        @Override
        public void onOpen(final Connection connection)
        {
            super.onOpen(connection);
            if (pair.size() < 2)
            {
                pair.add(connection);
                if (pair.size() == 2)
                {
                    connection.readDeadline(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100));
                }
            }
        }

        @Override
        public void onClose(final Connection connection)
        {
            if (pair.remove(connection))
            {
                for (final Connection partner : java.util.List.copyOf(pair))
                {
                    partner.close();
                }
            }
        }
    }
}
