package io.millrace.net;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.millrace.net.SyncEchoServer.connect;
import static io.millrace.net.SyncEchoServer.readExactly;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * While accept fails (as it does with "Too many open files"), the listener backs off instead of
 * retrying on every turn; once accept works again the waiting connection is served.
 */
@Timeout(60)
class AcceptBackoffTest
{
    /** Long enough for the back-off to retry a few times: at 10, 30, 70, 150, 310 ms after the first failure. */
    private static final long FAILING_WINDOW_MILLIS = 300;

    /** Fails like an exhausted descriptor table while {@link #failing}; records when each failure happened. */
    private static final class FailingAccept implements Acceptor.AcceptCall
    {
        volatile boolean failing = true;
        final List<Long> failedAtNanos = new ArrayList<>();

        @Override
        public SocketChannel accept(final ServerSocketChannel listener) throws IOException
        {
            if (failing)
            {
                synchronized (failedAtNanos)
                {
                    failedAtNanos.add(System.nanoTime());
                }
                throw new IOException("Too many open files");
            }
            return listener.accept();
        }

        List<Long> failures()
        {
            synchronized (failedAtNanos)
            {
                return List.copyOf(failedAtNanos);
            }
        }
    }

    /** true: each worker's own SO_REUSEPORT listener; false: worker 0 accepts for both workers. */
    @ParameterizedTest(name = "reusePort {0}")
    @ValueSource(booleans = {true, false})
    void aFailingAcceptBacksOffAndServingResumesWhenAcceptWorksAgain(final boolean reusePort) throws Exception
    {
        final FailingAccept accept = new FailingAccept();
        try (SyncEchoServer echo = new SyncEchoServer(reusePort ? 1 : 2, new SyncEchoServer.Handler(),
            b -> b.reusePort(reusePort).acceptCall(accept));
             Socket client = connect(echo.port())) // waits in the backlog, so the listener stays acceptable
        {
            SyncEchoServer.awaitTrue(() -> !accept.failures().isEmpty(), "the server tried to accept");
            Thread.sleep(FAILING_WINDOW_MILLIS);
            final List<Long> failures = accept.failures();

            // A busy loop makes thousands of attempts in this window; the back-off a handful, however
            // slow the machine (a slow machine only makes fewer).
            assertTrue(failures.size() <= 8, failures.size() + " accept attempts in " + FAILING_WINDOW_MILLIS + " ms");
            // Each retry waits at least the back-off, which doubles from 10 ms.
            long backoff = Acceptor.MIN_BACKOFF_NANOS;
            for (int i = 1; i < failures.size(); i++)
            {
                final long gap = failures.get(i) - failures.get(i - 1);
                assertTrue(gap >= backoff, "retry " + i + " came " + gap / 1000 + " µs after the previous failure, " +
                    "before the back-off of " + backoff / 1000 + " µs");
                backoff = Math.min(backoff * 2, Acceptor.MAX_BACKOFF_NANOS);
            }

            accept.failing = false;
            final byte[] hello = "hello after EMFILE".getBytes(StandardCharsets.US_ASCII);
            client.getOutputStream().write(hello);
            assertArrayEquals(hello, readExactly(client.getInputStream(), hello.length), "the waiting connection is served");
            final TransportStats stats = echo.server.stats();
            assertEquals(accept.failures().size(), stats.acceptErrors(), "every failed accept was counted");
            assertEquals(1, stats.accepted());
        }
    }
}
