package io.millrace.net;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The keep-alive pool: reuse, its limits, idle expiry, and upstreams that close pooled connections. */
class OutboundPoolTest
{
    /** One lease: acquire, send {@code line}, read it back, release as {@code reusable}. */
    private static OutboundConnection exchange(final OutboundFixture f, final TestUpstream upstream, final String line,
        final boolean reusable) throws InterruptedException
    {
        final Recorder r = f.call(0, out -> new Recorder(out, line, line.length(), reusable));
        final OutboundConnection c = f.call(0, out -> out.acquire(upstream.address(), r));
        assertEquals(line, r.await("response").text());
        return c;
    }

    @Test
    void aReleasedConnectionIsReusedAsTheSameObject() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final OutboundConnection first = exchange(f, upstream, "one\n", true);
            SyncEchoServer.awaitTrue(() -> f.stats().idle() == 1, "pooled");
            final OutboundConnection second = exchange(f, upstream, "two\n", true);
            assertSame(first, second, "the pooled connection served the second lease");
            assertTrue(second.reused());
            assertEquals(2, second.requests());
            assertEquals(4, second.bytesReceived(), "counted per lease");
            SyncEchoServer.awaitTrue(() -> f.stats().idle() == 1, "pooled again");
            final OutboundStats s = f.stats();
            assertEquals(1, s.connects());
            assertEquals(1, s.poolHits());
            assertEquals(1, s.poolMisses());
            assertEquals(1, upstream.accepted.get(), "the upstream saw one connection");
        }
    }

    @Test
    void aConnectionServesAtMostMaxRequestsPerConnection() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults().maxRequestsPerConnection(2)))
        {
            final OutboundConnection a = exchange(f, upstream, "1\n", true);
            final OutboundConnection b = exchange(f, upstream, "2\n", true);
            assertSame(a, b);
            SyncEchoServer.awaitTrue(() -> f.stats().closes(OutboundCloseCause.MAX_REQUESTS) == 1, "closed after its second lease");
            final OutboundConnection c = exchange(f, upstream, "3\n", true);
            assertNotSame(a, c, "a fresh connection for the third");
            assertFalse(c.reused());
            assertEquals(2, f.stats().connects());
            assertEquals(2, upstream.accepted.get());
            assertEquals("eof", upstream.ends.poll(10, TimeUnit.SECONDS), "the upstream saw the first connection end");
        }
    }

    /** Every open, idle, reuse and close reaches the pool listener, with the address and whether it was idle. */
    @Test
    void aPoolListenerHearsConnectionsOpenIdleReusedAndClosed() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults().idleTimeout(Duration.ofMillis(150))))
        {
            final List<String> events = new CopyOnWriteArrayList<>();
            f.call(0, out ->
            {
                out.addListener(new OutboundPoolListener()
                {
                    @Override
                    public void connectionOpened(final InetSocketAddress a)
                    {
                        events.add("opened " + a.getPort());
                    }

                    @Override
                    public void connectionIdle(final InetSocketAddress a)
                    {
                        events.add("idle");
                    }

                    @Override
                    public void connectionReused(final InetSocketAddress a)
                    {
                        events.add("reused");
                    }

                    @Override
                    public void connectionClosed(final InetSocketAddress a, final boolean wasIdle)
                    {
                        events.add("closed " + (wasIdle ? "idle" : "busy"));
                    }
                });
                out.addListener(new OutboundPoolListener() // a listener that throws harms neither the pool nor the other
                {
                    @Override
                    public void connectionOpened(final InetSocketAddress a)
                    {
                        throw new IllegalStateException("listener test");
                    }

                    @Override
                    public void connectionIdle(final InetSocketAddress a)
                    {
                    }

                    @Override
                    public void connectionReused(final InetSocketAddress a)
                    {
                    }

                    @Override
                    public void connectionClosed(final InetSocketAddress a, final boolean wasIdle)
                    {
                    }
                });
                return null;
            });
            exchange(f, upstream, "one\n", true);
            SyncEchoServer.awaitTrue(() -> f.stats().idle() == 1, "pooled");
            exchange(f, upstream, "two\n", false);
            SyncEchoServer.awaitTrue(() -> f.stats().open() == 0, "closed by its holder");
            exchange(f, upstream, "three\n", true);
            SyncEchoServer.awaitTrue(() -> f.stats().closes(OutboundCloseCause.IDLE_TIMEOUT) == 1, "the idle timeout closed it");
            final int port = upstream.address().getPort();
            assertEquals(List.of("opened " + port, "idle", "reused", "closed busy", "opened " + port, "idle",
                "closed idle"), events);
            assertEquals(2, f.stats().handlerErrors(), "the throwing listener was counted, once per open");
        }
    }

    @Test
    void theIdleTimeoutClosesPooledConnections() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults().idleTimeout(Duration.ofMillis(150))))
        {
            exchange(f, upstream, "ping\n", true);
            SyncEchoServer.awaitTrue(() -> f.stats().closes(OutboundCloseCause.IDLE_TIMEOUT) == 1, "the idle timeout closed it");
            assertEquals(0, f.stats().idle());
            assertEquals(0, f.stats().open());
            assertEquals("eof", upstream.ends.poll(10, TimeUnit.SECONDS));
            final OutboundConnection next = exchange(f, upstream, "again\n", true);
            assertFalse(next.reused());
        }
    }

    @Test
    void aPooledConnectionPastItsLifetimeIsNotPooledAgain() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults().maxLifetime(Duration.ofMillis(100))))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, "slow\n", 0, true));
            final OutboundConnection c = f.call(0, out -> out.acquire(upstream.address(), r));
            r.await("data");
            Thread.sleep(150);
            f.call(0, out ->
            {
                out.release(c, true);
                return null;
            });
            assertEquals(1, f.stats().closes(OutboundCloseCause.MAX_LIFETIME));
            assertEquals(0, f.stats().idle());
        }
    }

    @Test
    void aFullPoolClosesItsLeastRecentlyUsedConnection() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults().maxIdlePerUpstream(1)))
        {
            final Recorder a = f.call(0, out -> new Recorder(out, "a\n", 0, true));
            final Recorder b = f.call(0, out -> new Recorder(out, "b\n", 0, true));
            final OutboundConnection ca = f.call(0, out -> out.acquire(upstream.address(), a));
            final OutboundConnection cb = f.call(0, out -> out.acquire(upstream.address(), b));
            a.await("data");
            b.await("data");
            f.call(0, out ->
            {
                out.release(ca, true);
                out.release(cb, true);
                return null;
            });
            assertEquals(1, f.stats().closes(OutboundCloseCause.POOL_FULL));
            assertFalse(ca.isOpen(), "the older one made room");
            assertTrue(cb.isOpen());
            assertEquals(1, (int)f.call(0, out -> out.idle(upstream.address())));
            final OutboundConnection next = exchange(f, upstream, "c\n", true);
            assertSame(cb, next);
        }
    }

    @Test
    void aConnectionWithUnreadInputIsNotPooled() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, "left over\n", 0, true));
            r.consume = false;
            final OutboundConnection c = f.call(0, out -> out.acquire(upstream.address(), r));
            r.await("data");
            f.call(0, out ->
            {
                out.release(c, true);
                return null;
            });
            assertEquals(1, f.stats().closes(OutboundCloseCause.NOT_REUSABLE));
            assertEquals(0, f.stats().idle());
        }
    }

    @Test
    void anIdleConnectionTheUpstreamClosedIsDroppedNotHandedOut() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final OutboundConnection first = exchange(f, upstream, "one\n", true);
            SyncEchoServer.awaitTrue(() -> f.stats().idle() == 1, "pooled");
            upstream.closeAccepted(); // the upstream's keep-alive timeout passed
            SyncEchoServer.awaitTrue(() -> f.stats().closes(OutboundCloseCause.STALE_IN_POOL) == 1,
                "the pool saw the end of stream and dropped the connection");
            assertFalse(first.isOpen());
            assertEquals(0, f.stats().idle());
            final OutboundConnection second = exchange(f, upstream, "two\n", true);
            assertNotSame(first, second);
            assertFalse(second.reused());
            assertEquals(0, f.stats().poolHits());
            assertEquals(2, f.stats().poolMisses());
        }
    }

    /**
     * The race the idle probe cannot win: the upstream closes a pooled connection just as a request goes
     * out on it. Made deterministic by an upstream that reads the second request and closes without an
     * answer. The holder is told "reused, no byte", retries on a fresh connection, and succeeds.
     */
    @Test
    void aReusedConnectionClosedBeforeAnyByteSignalsARetryOnAFreshOne() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.CLOSE_ON_SECOND);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final OutboundConnection first = exchange(f, upstream, "one\n", true);
            SyncEchoServer.awaitTrue(() -> f.stats().idle() == 1, "pooled");
            final Recorder r = f.call(0, out -> new Recorder(out, "two\n", 4, true));
            final OutboundConnection reused = f.call(0, out -> out.acquire(upstream.address(), r));
            assertSame(first, reused);
            final Recorder.Event closed = r.await("closed");
            assertEquals(OutboundCloseCause.PEER_CLOSED, closed.cause());
            assertTrue(closed.staleReuse(), "reused, and no byte came back: retry");
            assertTrue(reused.reused());
            assertEquals(0, reused.bytesReceived());
            assertEquals(1, f.stats().staleReuses());
            // The retry, on a fresh connection, which the upstream answers.
            final Recorder retry = f.call(0, out -> new Recorder(out, "two\n", 4, true));
            final OutboundConnection fresh = f.call(0, out -> out.acquire(upstream.address(), retry));
            assertEquals("two\n", retry.await("response").text());
            assertFalse(fresh.reused());
        }
    }

    /** The proxy's shape: the retry is made inside onClosed, in the worker's loop. */
    @Test
    void theHolderRetriesFromInsideOnClosed() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.CLOSE_ON_SECOND);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            exchange(f, upstream, "one\n", true);
            SyncEchoServer.awaitTrue(() -> f.stats().idle() == 1, "pooled");
            final Recorder retry = f.call(0, out -> new Recorder(out, "two\n", 4, true));
            final Recorder first = f.call(0, out -> new Recorder(out, "two\n", 4, true)
            {
                @Override
                public void onClosed(final OutboundConnection connection, final OutboundCloseCause cause, final boolean stale)
                {
                    super.onClosed(connection, cause, stale);
                    if (stale)
                    {
                        record("retried", out.acquire(connection.address(), retry), null, false, null);
                    }
                }
            });
            f.call(0, out -> out.acquire(upstream.address(), first));
            assertTrue(first.await("closed").staleReuse());
            final OutboundConnection fresh = first.await("retried").connection();
            assertEquals("two\n", retry.await("response").text());
            assertFalse(fresh.reused());
        }
    }

    @Test
    void aConnectionClosedAfterBytesCameBackIsNotAStaleReuse() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.SEND_AND_CLOSE);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, "hi\n", 0, true));
            r.consume = false; // leave the bytes in inbound(): onClosed can still read them
            f.call(0, out -> out.acquire(upstream.address(), r));
            final Recorder.Event closed = r.await("closed");
            assertEquals(OutboundCloseCause.PEER_CLOSED, closed.cause());
            assertFalse(closed.staleReuse());
            assertEquals("bye\n", closed.text(), "the last bytes are readable in onClosed");
        }
    }
}
