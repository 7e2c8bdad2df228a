package io.millrace.net;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connecting: a request and its response, refused and timed-out connects, the per-upstream limit, misuse. */
class OutboundConnectTest
{
    @Test
    void connectsSendsARequestAndReadsTheResponseOnTheOwningWorker() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, "hello\n", 6, true));
            final OutboundConnection c = f.call(0, out -> out.acquire(upstream.address(), r));
            assertNotNull(c);
            final Recorder.Event connected = r.await("connected");
            assertSame(c, connected.connection());
            assertSame(f.workerThreads[0], connected.thread(), "callbacks run on the owning worker");
            assertFalse(c.reused(), "a fresh connection");
            assertEquals("hello\n", r.await("response").text());
            assertEquals(1, c.requests());
            assertEquals(6, c.bytesReceived());
            SyncEchoServer.awaitTrue(() -> f.stats().idle() == 1, "released to the pool");
            final OutboundStats s = f.stats();
            assertEquals(1, s.connects());
            assertEquals(1, s.connected());
            assertEquals(1, s.poolMisses());
            assertEquals(0, s.poolHits());
            assertEquals(1, s.open());
            assertEquals(6, s.bytesRead());
            assertEquals(6, s.bytesWritten());
            assertEquals(1, (int)f.call(0, out -> out.idle(upstream.address())));
            assertEquals(0, (int)f.call(0, out -> out.idle(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1))));
        }
    }

    @Test
    void bytesWrittenWhileConnectingGoOutOnceConnected() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, null, 6, true));
            final OutboundConnection c = f.call(0, out ->
            {
                final OutboundConnection oc = out.acquire(upstream.address(), r);
                oc.write(Recorder.chain(oc, "early\n")); // before onConnected
                return oc;
            });
            assertEquals("early\n", r.await("response").text());
            assertEquals(6, c.bytesReceived());
        }
    }

    @Test
    void aRefusedConnectIsReportedAsRefused() throws Exception
    {
        final InetSocketAddress nobody;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            nobody = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
        try (OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults()))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, "x\n", 2, true));
            final OutboundConnection c = f.call(0, out -> out.acquire(nobody, r));
            final Recorder.Event failed = r.await("failed");
            assertSame(c, failed.connection());
            assertEquals(ConnectFailure.REFUSED, failed.cause(), failed.text());
            assertFalse(c.isOpen());
            final OutboundStats s = f.stats();
            assertEquals(1, s.connectFailures(ConnectFailure.REFUSED));
            assertEquals(1, s.connectFailures());
            assertEquals(0, s.open());
            assertEquals(0, s.closed(), "a failed connect is not a closed connection");
            assertTrue(r.events.isEmpty(), "nothing after the failure: " + r.events);
        }
    }

    /**
     * A connect that gets no answer. Not a non-routable address (tests stay on loopback): a listener with
     * a backlog of 1 that never accepts, filled until a blocking connect to it times out. Linux then drops
     * further SYNs (with {@code tcp_abort_on_overflow} at its default 0), so a connect hangs exactly as
     * to a dead host. Where the kernel refuses instead, the test is skipped.
     */
    @Test
    void aConnectWithNoAnswerTimesOutOnTheWorkerTimers() throws Exception
    {
        final List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults().connectTimeout(Duration.ofMillis(200))))
        {
            final InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort());
            final boolean hangs = TestUpstream.fillBacklog(full, fillers);
            Assumptions.assumeTrue(hangs, "the kernel did not leave a connect to a full backlog hanging");
            final Recorder r = f.call(0, out -> new Recorder(out, "x\n", 2, true));
            final long start = System.nanoTime();
            final OutboundConnection c = f.call(0, out -> out.acquire(address, r));
            final Recorder.Event failed = r.await("failed");
            assertSame(c, failed.connection());
            assertEquals(ConnectFailure.TIMEOUT, failed.cause());
            assertTrue(System.nanoTime() - start >= Duration.ofMillis(200).toNanos(), "not before the timeout");
            assertEquals(1, f.stats().connectFailures(ConnectFailure.TIMEOUT));
            assertEquals(0, f.stats().open());
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
    void atTheLimitPerUpstreamAcquireReturnsNullAndOpensNothing() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.SILENT);
             OutboundFixture f = new OutboundFixture(1, OutboundOptions.defaults().maxConnectionsPerUpstream(2)))
        {
            final Recorder r = f.call(0, out -> new Recorder(out, null, 0, true));
            assertNotNull(f.call(0, out -> out.acquire(upstream.address(), r)));
            assertNotNull(f.call(0, out -> out.acquire(upstream.address(), r)));
            assertNull(f.call(0, out -> out.acquire(upstream.address(), r)), "a third is over the limit");
            assertEquals(1, f.stats().limitRejections());
            assertEquals(2, f.stats().connects());
            assertEquals(2, (int)f.call(0, out -> out.open(upstream.address())));
            // Giving one back makes room again.
            final OutboundConnection first = r.await("connected").connection();
            f.call(0, out ->
            {
                out.release(first, false);
                return null;
            });
            assertNotNull(f.call(0, out -> out.acquire(upstream.address(), r)));
            assertEquals(1, f.stats().closes(OutboundCloseCause.CLOSED_BY_HOLDER));
        }
    }

    @Test
    void misuseFailsFastWithTheRemedy() throws Exception
    {
        try (TestUpstream upstream = new TestUpstream(TestUpstream.Mode.ECHO);
             OutboundFixture f = new OutboundFixture(2, OutboundOptions.defaults()))
        {
            final OutboundConnections out0 = f.server.outbound(0);
            final Recorder r = f.call(0, out -> new Recorder(out, "a\n", 2, true));
            final IllegalStateException offThread = assertThrows(IllegalStateException.class,
                () -> out0.acquire(upstream.address(), r));
            assertTrue(offThread.getMessage().contains("Placement.onWorker"), offThread.getMessage());
            final IllegalArgumentException unresolved = assertThrows(IllegalArgumentException.class,
                () -> f.call(0, out -> out.acquire(InetSocketAddress.createUnresolved("localhost", 80), r)));
            assertTrue(unresolved.getMessage().contains("resolve it first"), unresolved.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> f.server.outbound(2));
            final OutboundConnection c = f.call(0, out -> out.acquire(upstream.address(), r));
            r.await("response");
            SyncEchoServer.awaitTrue(() -> f.stats().idle() == 1, "released to the pool");
            final IllegalStateException twice = assertThrows(IllegalStateException.class, () -> f.call(0, out ->
            {
                out.release(c, true);
                return null;
            }));
            assertTrue(twice.getMessage().contains("released already"), twice.getMessage());
            assertThrows(IllegalStateException.class, () -> f.call(0, out ->
            {
                c.readTimeout(1);
                return null;
            }), "an idle connection is no longer the holder's");
            assertThrows(IllegalArgumentException.class, () -> f.call(1, out ->
            {
                out.release(c, true);
                return null;
            }), "another worker's connection");
        }
        assertThrows(IllegalStateException.class, () -> TcpServer.builder(Connection::close).build().outbound(0));
    }
}
