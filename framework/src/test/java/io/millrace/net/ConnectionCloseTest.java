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
import static org.junit.jupiter.api.Assertions.assertFalse;
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
            assertFalse(CapturedLog.lines("releasing the buffers of connection ").isEmpty(), "the failed release was logged");
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
}
