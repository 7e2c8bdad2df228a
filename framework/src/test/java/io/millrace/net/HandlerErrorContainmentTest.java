package io.millrace.net;

import io.millrace.ShutdownReport;
import io.millrace.testing.CapturedLog;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static io.millrace.net.SyncEchoServer.assertClosedByServer;
import static io.millrace.net.SyncEchoServer.assertEchoes;
import static io.millrace.net.SyncEchoServer.awaitTrue;
import static io.millrace.net.SyncEchoServer.connect;
import static io.millrace.net.SyncEchoServer.readExactly;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An Error (not only a RuntimeException) thrown by a handler callback is contained: that connection
 * closes and is counted, and the one worker goes on serving other connections. The server admits one
 * connection at a time, so serving the next also shows that the failed one gave its slot back.
 */
@Timeout(60)
class HandlerErrorContainmentTest
{
    enum Callback
    {
        ON_OPEN("onOpen"), ON_READ("onRead"), ON_INPUT_ENDED("onInputEnded"), ON_READ_TIMEOUT("onReadTimeout"),
        ON_CLOSE("onClose");

        final String method;

        Callback(final String method)
        {
            this.method = method;
        }
    }

    enum Failure
    {
        ASSERTION_ERROR(AssertionError.class)
        {
            @Override
            void happen()
            {
                throw new AssertionError("a handler bug");
            }
        },
        STACK_OVERFLOW(StackOverflowError.class)
        {
            @Override
            void happen()
            {
                recurse(0); // a real overflow, deep in the worker's stack
            }
        };

        final Class<? extends Throwable> type;

        Failure(final Class<? extends Throwable> type)
        {
            this.type = type;
        }

        abstract void happen();
    }

    static Stream<Arguments> everyCallbackWithEveryContainedError()
    {
        return Arrays.stream(Callback.values()).flatMap(c -> Arrays.stream(Failure.values()).map(f -> Arguments.of(c, f)));
    }

    @ParameterizedTest(name = "{0} throws {1}")
    @MethodSource("everyCallbackWithEveryContainedError")
    void anErrorFromACallbackClosesOnlyThatConnectionAndTheWorkerServesOn(final Callback where, final Failure failure)
        throws Exception
    {
        final FailingOnce handler = new FailingOnce(where, failure);
        final SyncEchoServer echo = new SyncEchoServer(1, handler, b -> b.maxConnections(1));
        try
        {
            try (Socket victim = connect(echo.port()))
            {
                final byte[] x = "x".getBytes(StandardCharsets.US_ASCII);
                switch (where)
                {
                    case ON_OPEN, ON_READ_TIMEOUT -> assertClosedByServer(victim);
                    case ON_READ ->
                    {
                        victim.getOutputStream().write(x);
                        assertClosedByServer(victim);
                    }
                    case ON_INPUT_ENDED ->
                    {
                        victim.getOutputStream().write(x);
                        assertArrayEquals(x, readExactly(victim.getInputStream(), 1));
                        victim.shutdownOutput();
                        assertClosedByServer(victim);
                    }
                    case ON_CLOSE ->
                    {
                        victim.getOutputStream().write(x);
                        assertArrayEquals(x, readExactly(victim.getInputStream(), 1));
                    }
                }
            }
            awaitTrue(() -> echo.server.stats().handlerErrors() == 1 && echo.server.stats().open() == 0,
                "the failure was counted and the connection closed: " + echo.server.stats());
            assertTrue(handler.failed.get(), "the callback did throw");
            // onClose's failure is counted before it is logged, so wait for the line.
            awaitTrue(() -> CapturedLog.lines(where.method + " of connection ").stream().anyMatch(l -> failure.type.isInstance(l.error())),
                "logged with the error, whose stack trace tells the user where to look");

            // The same (only) worker still serves.
            assertEchoes(echo.port(), "still serving after " + failure + " in " + where);
            awaitTrue(() -> echo.server.stats().open() == 0, "the second client's close was seen");
            assertEquals(1, echo.server.stats().handlerErrors());
            assertEquals(2, echo.server.stats().accepted());
            assertEquals(0, echo.server.stats().refused(), "the failed connection's slot went back");
        }
        finally
        {
            final ShutdownReport report = echo.shutdown();
            assertTrue(report.clean(), "the worker stopped in time: " + report);
        }
        assertEquals(0, echo.server.connectionsInUse(), "every slot went back, none twice");
        assertEquals(0, echo.chunksInUse(), "the failed connection's buffers were released");
        assertEquals(0, echo.leaks.leaksReported());
    }

    /** Echoes, but one callback throws the first time it runs. */
    private static final class FailingOnce extends SyncEchoServer.Handler
    {
        private final Callback where;
        private final Failure failure;
        final AtomicBoolean failed = new AtomicBoolean();

        FailingOnce(final Callback where, final Failure failure)
        {
            this.where = where;
            this.failure = failure;
        }

        private void maybeFail(final Callback callback)
        {
            if (callback == where && failed.compareAndSet(false, true))
            {
                failure.happen();
            }
        }

        @Override
        public void onOpen(final Connection connection)
        {
            super.onOpen(connection);
            if (where == Callback.ON_READ_TIMEOUT && !failed.get())
            {
                connection.readDeadline(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50));
            }
            maybeFail(Callback.ON_OPEN);
        }

        @Override
        public void onRead(final Connection connection)
        {
            maybeFail(Callback.ON_READ);
            super.onRead(connection);
        }

        @Override
        public void onInputEnded(final Connection connection)
        {
            maybeFail(Callback.ON_INPUT_ENDED);
            super.onInputEnded(connection);
        }

        @Override
        public void onReadTimeout(final Connection connection)
        {
            maybeFail(Callback.ON_READ_TIMEOUT);
            super.onReadTimeout(connection);
        }

        @Override
        public void onClose(final Connection connection)
        {
            maybeFail(Callback.ON_CLOSE);
        }
    }

    private static int recurse(final int depth)
    {
        return recurse(depth + 1) + 1;
    }
}
