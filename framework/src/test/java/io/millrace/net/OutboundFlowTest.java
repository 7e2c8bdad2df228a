package io.millrace.net;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flow and failure: write backpressure, read timeouts, throwing callbacks, abort, shutdown, two workers. */
class OutboundFlowTest
{
    private static final int CHUNK = 16 * 1024;
    private static final long HIGH = 64 * 1024;
    private static final long LOW = 16 * 1024;

    /** Writes 16 KiB chunks in onConnected until the connection stops being writable. */
    private static final class Flooder extends Recorder
    {
        Flooder(final OutboundConnections out)
        {
            super(out, null, 0, false);
        }

        @Override
        public void onConnected(final OutboundConnection connection)
        {
            super.onConnected(connection);
            final String chunk = "x".repeat(CHUNK);
            for (int i = 0; i < 4096 && connection.isWritable(); i++) // at most 64 MiB: bounded whatever the kernel buffers
            {
                connection.write(chain(connection, chunk));
            }
            record("paused", connection, null, false, Long.toString(connection.pendingOutputBytes()));
        }
    }

    @Test
    void aSlowUpstreamTurnsTheConnectionUnwritableUntilItDrains() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.SLOW_READER);
             OutboundFixture f = new OutboundFixture(1,
                 OutboundOptions.defaults().writeWatermarks(HIGH, LOW).sendBufferSize(8 * 1024)))
        {
            final Flooder r = f.call(0, Flooder::new);
            final OutboundConnection c = f.call(0, out -> out.acquire(upstream.address(), r));
            final long pending = Long.parseLong(r.await("paused").text());
            assertTrue(pending >= HIGH, "stopped at the high watermark: " + pending);
            assertTrue(pending < HIGH + CHUNK, "and not a chunk later: queued output stays bounded: " + pending);
            assertFalse(c.isWritable());
            assertEquals(1, f.stats().writePauses());
            assertTrue(f.stats().pendingOutputBytes() >= HIGH);
            upstream.startReading();
            final long afterDrain = Long.parseLong(r.await("writable").text());
            assertTrue(afterDrain <= LOW, "writable again at the low watermark: " + afterDrain);
            SyncEchoServer.awaitTrue(() -> f.stats().pendingOutputBytes() == 0, "everything sent");
            f.call(0, out ->
            {
                out.release(c, false);
                return null;
            });
        }
    }

    @Test
    void aSilentUpstreamHitsTheReadTimeoutButNotWhileReadingIsPaused() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.SILENT);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults().readTimeout(Duration.ofMillis(150))))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, "anyone?\n", 1, true));
            final OutboundConnection c = f.call(0, out -> out.acquire(upstream.address(), r));
            final Recorder.Event closed = r.await("closed");
            assertEquals(OutboundCloseCause.READ_TIMEOUT, closed.cause());
            assertFalse(closed.staleReuse(), "a fresh connection is never a stale reuse");
            assertFalse(c.isOpen());
            assertEquals(1, f.stats().closes(OutboundCloseCause.READ_TIMEOUT));

            // Paused by the holder (its client is slow): the upstream is not to blame, no timeout.
            final Recorder paused = f.call(0, out -> new Recorder(out, null, 1, true));
            final OutboundConnection p = f.call(0, out ->
            {
                final OutboundConnection pc = out.acquire(upstream.address(), paused);
                pc.pauseReading();
                return pc;
            });
            paused.await("connected");
            Thread.sleep(450);
            assertNull(paused.events.poll(), "no timeout while paused");
            assertTrue(p.isOpen());
            f.call(0, out ->
            {
                p.resumeReading();
                return null;
            });
            assertEquals(OutboundCloseCause.READ_TIMEOUT, paused.await("closed").cause());
        }
    }

    @Test
    void callbacksThatThrowCloseOnlyTheirConnectionAndTheWorkerServesOn() throws Exception
    {
        final InetSocketAddress nobody;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            nobody = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final Recorder onConnected = f.call(0, out -> new Recorder(out, null, 0, true)
            {
                @Override
                public void onConnected(final OutboundConnection connection)
                {
                    throw new IllegalStateException("bug in onConnected");
                }
            });
            f.call(0, out -> out.acquire(upstream.address(), onConnected));
            assertEquals(OutboundCloseCause.HANDLER_ERROR, onConnected.await("closed").cause());

            final Recorder onData = f.call(0, out -> new Recorder(out, "boom\n", 0, true)
            {
                @Override
                public void onData(final OutboundConnection connection)
                {
                    throw new AssertionError("an Error, contained too");
                }
            });
            f.call(0, out -> out.acquire(upstream.address(), onData));
            assertEquals(OutboundCloseCause.HANDLER_ERROR, onData.await("closed").cause());

            final Recorder onClosed = f.call(0, out -> new Recorder(out, "x\n", 0, true)
            {
                @Override
                public void onData(final OutboundConnection connection)
                {
                    throw new IllegalStateException("first onData");
                }

                @Override
                public void onClosed(final OutboundConnection connection, final OutboundCloseCause cause, final boolean stale)
                {
                    record("closed", connection, cause, stale, null);
                    throw new IllegalStateException("then onClosed");
                }
            });
            f.call(0, out -> out.acquire(upstream.address(), onClosed));
            onClosed.await("closed");

            final Recorder onFailed = f.call(0, out -> new Recorder(out, null, 0, true)
            {
                @Override
                public void onConnectFailed(final OutboundConnection connection, final ConnectFailure cause, final Exception detail)
                {
                    record("failed", connection, cause, false, null);
                    throw new IllegalStateException("bug in onConnectFailed");
                }
            });
            f.call(0, out -> out.acquire(nobody, onFailed));
            onFailed.await("failed");

            SyncEchoServer.awaitTrue(() -> f.stats().handlerErrors() == 5, "every throw counted: " + f.stats());
            assertEquals(3, f.stats().closes(OutboundCloseCause.HANDLER_ERROR));
            // The worker lives: a normal exchange on it works.
            final Recorder fine = f.call(0, out -> new Recorder(out, "still here\n", 11, true));
            f.call(0, out -> out.acquire(upstream.address(), fine));
            assertEquals("still here\n", fine.await("response").text());
        }
    }

    @Test
    void abortResetsTheConnection() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, "abandon me\n", 0, true));
            final OutboundConnection c = f.call(0, out -> out.acquire(upstream.address(), r));
            r.await("data");
            f.call(0, out ->
            {
                c.abort();
                c.abort(); // idempotent
                return null;
            });
            assertEquals("reset", upstream.ends.poll(10, TimeUnit.SECONDS), "the upstream saw a reset, not an end of stream");
            assertEquals(1, f.stats().closes(OutboundCloseCause.CLOSED_BY_HOLDER));
            assertNull(r.events.poll(200, TimeUnit.MILLISECONDS), "no callback after the holder's own close");
        }
    }

    @Test
    void shutdownClosesEveryOutboundConnectionAndTellsTheHolders() throws Exception
    {
        final List<Socket> fillers = new ArrayList<>();
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.SILENT);
             TestUpstream pooled = new TestUpstream(TestUpstream.Mode.ECHO);
             ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            final boolean hangs = TestUpstream.fillBacklog(full, fillers);
            final OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults());
            final Recorder leased;
            final Recorder idle;
            final Recorder connecting;
            try (f)
            {
                leased = f.call(0, out -> new Recorder(out, "waiting\n", 0, true));
                idle = f.call(0, out -> new Recorder(out, "quick\n", 6, true));
                connecting = f.call(0, out -> new Recorder(out, null, 0, true));
                f.call(0, out -> out.acquire(upstream.address(), leased));
                f.call(0, out -> out.acquire(pooled.address(), idle));
                idle.await("response");
                if (hangs)
                {
                    f.call(0, out -> out.acquire(new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort()),
                        connecting));
                }
                leased.await("connected");
                SyncEchoServer.awaitTrue(() -> upstream.requests.get() == 1 && f.stats().idle() == 1, "one leased, one idle");
            } // the fixture's close checks that no connection and no buffer is left
            final Recorder.Event closed = leased.await("closed");
            assertEquals(OutboundCloseCause.SHUTDOWN, closed.cause());
            assertSame(f.workerThreads[0], closed.thread(), "told on its worker, as it closed");
            assertEquals("eof", upstream.ends.poll(10, TimeUnit.SECONDS));
            assertEquals("eof", pooled.ends.poll(10, TimeUnit.SECONDS));
            assertEquals(2, f.stats().closes(OutboundCloseCause.SHUTDOWN), "the leased one and the idle one");
            if (hangs)
            {
                assertEquals(ConnectFailure.SHUTDOWN, connecting.await("failed").cause());
            }
        }
        finally
        {
            for (final Socket s : fillers)
            {
                s.close();
            }
        }
    }

    @Test
    void eachOfTwoWorkersOpensPoolsAndPollsOnlyItsOwnConnections() throws Exception
    {
        final int perWorker = 20;
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(2, OutboundOptions.defaults()))
        {
            for (int round = 0; round < 2; round++)
            {
                final List<Recorder> recorders = new ArrayList<>();
                final List<Integer> workerOf = new ArrayList<>();
                for (int w = 0; w < 2; w++)
                {
                    final int worker = w;
                    final int r0 = round;
                    f.call(w, out ->
                    {
                        for (int i = 0; i < perWorker; i++)
                        {
                            final String line = "w" + worker + "-r" + r0 + "-" + i + "\n";
                            final Recorder r = new Recorder(out, line, line.length(), true);
                            synchronized (recorders)
                            {
                                recorders.add(r);
                                workerOf.add(worker);
                            }
                            assertNotNull(out.acquire(upstream.address(), r));
                        }
                        return null;
                    });
                }
                for (int i = 0; i < recorders.size(); i++)
                {
                    final Recorder.Event e = recorders.get(i).await("response");
                    final int w = workerOf.get(i);
                    assertTrue(e.text().startsWith("w" + w + "-"), e.text());
                    assertSame(f.workerThreads[w], e.thread(), "callbacks on the worker that opened it");
                    assertEquals(w, e.connection().workerIndex());
                    assertEquals(round == 1, e.connection().reused(), "the second round reuses");
                }
                for (int w = 0; w < 2; w++)
                {
                    final int worker = w;
                    SyncEchoServer.awaitTrue(() -> f.call(worker, out -> out.idle(upstream.address())) == perWorker,
                        "worker " + w + " pooled its own " + perWorker);
                }
            }
            final OutboundStats s = f.stats();
            assertEquals(2 * perWorker, s.connects(), "the second round connected nothing");
            assertEquals(2 * perWorker, s.poolHits());
            assertEquals(2 * perWorker, upstream.accepted.get());
        }
    }
}
