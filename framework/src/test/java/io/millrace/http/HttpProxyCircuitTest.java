package io.millrace.http;

import io.millrace.balance.UpstreamGroup;
import io.millrace.balance.UpstreamSpec;
import io.millrace.balance.UpstreamStats;
import io.millrace.memory.LeakDetector;
import io.millrace.net.OutboundOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The circuit breakers that need the transport's view: {@code max-conns} (open connections to an
 * upstream, as the worker's outbound pool reports them) and {@code max-pending} (requests whose
 * connection is being connected). Over the limit a request goes to another upstream, or gets 503 at
 * once when none is left. Real loopback sockets; one worker, so that which pool a connection sits in
 * is known.
 */
@Timeout(60)
class HttpProxyCircuitTest
{
    private final LeakDetector leaks = LeakDetector.paranoid();
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private final CountDownLatch hold = new CountDownLatch(1);
    private HttpServer server;
    private HttpProxy proxy;

    private void start(final OutboundOptions outbound, final UpstreamSpec... specs)
    {
        final UpstreamGroup group = UpstreamGroup.builder().workers(1).passive(0, Duration.ofSeconds(30)).add(specs).build();
        proxy = HttpProxy.builder(group).tries(2).outbound(outbound).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(1).leakDetector(leaks)
            .proxy("/*", proxy).start();
    }

    @AfterEach
    void everythingIsBack() throws Exception
    {
        hold.countDown();
        if (server != null)
        {
            server.shutdown(Duration.ofSeconds(10));
            assertEquals(0, StreamedBodyTest.chunksInUse(server), "every pooled chunk is back after shutdown");
            assertEquals(0, server.outboundStats().open(), "no upstream connection is left");
        }
        for (final AutoCloseable c : closeLater)
        {
            c.close();
        }
        assertEquals(0, leaks.leaksReported(), "the paranoid leak detector reported no leak");
    }

    /** An upstream that answers {@code text} once the test lets it. */
    private ProxyTestBackend held(final String text) throws IOException
    {
        final ProxyTestBackend b = new ProxyTestBackend((head, body, out) ->
        {
            try
            {
                hold.await(30, TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
            out.write(ProxyTestBackend.ok(text));
            return true;
        });
        closeLater.add(b);
        return b;
    }

    private ProxyTestBackend text(final String text) throws IOException
    {
        final ProxyTestBackend b = ProxyTestBackend.text(text);
        closeLater.add(b);
        return b;
    }

    private CompletableFuture<RawHttpClient.Response> getAsync()
    {
        return CompletableFuture.supplyAsync(this::get);
    }

    private RawHttpClient.Response get()
    {
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            return c.read();
        }
        catch (final IOException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private UpstreamStats stats(final int port)
    {
        return proxy.group().find("127.0.0.1:" + port).stats();
    }

    private static void await(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        for (int i = 0; i < 1000 && !condition.getAsBoolean(); i++)
        {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    @Test
    void maxConnsSendsTheExcessToTheBackupAndCountsPooledConnections() throws Exception
    {
        final ProxyTestBackend primary = held("primary");
        final ProxyTestBackend backup = text("backup");
        start(OutboundOptions.defaults(), UpstreamSpec.parse("127.0.0.1:" + primary.port() + ",max-conns=1"),
            UpstreamSpec.parse("127.0.0.1:" + backup.port() + ",backup"));
        final CompletableFuture<RawHttpClient.Response> first = getAsync();
        await(() -> primary.requests.get() == 1, "the first request reached the primary");
        assertEquals(1, stats(primary.port()).connections(), "the open connection is reported to the balancer");
        final RawHttpClient.Response second = get();
        assertEquals(200, second.status());
        assertEquals("backup", second.text(), "the primary is at max-conns: the backup takes the excess");
        assertEquals(1, primary.requests.get());
        hold.countDown();
        assertEquals("primary", first.get(10, TimeUnit.SECONDS).text());
        await(() -> server.outboundStats().idle() == 2, "both connections are idle in the pool");
        assertEquals(1, stats(primary.port()).connections(), "an idle pooled connection still counts as open");
        // The idle connection may be reused although the primary is at its limit: it opens nothing new.
        assertEquals("primary", get().text());
        assertEquals(2, server.outboundStats().connects(), "two connects in all, one per upstream");
    }

    @Test
    void maxConnsWithNoOtherUpstreamIs503AtOnce() throws Exception
    {
        final ProxyTestBackend only = held("only");
        start(OutboundOptions.defaults(), UpstreamSpec.parse("127.0.0.1:" + only.port() + ",max-conns=1"));
        final CompletableFuture<RawHttpClient.Response> first = getAsync();
        await(() -> only.requests.get() == 1, "the first request reached the upstream");
        final RawHttpClient.Response second = get();
        assertEquals(503, second.status(), "over max-conns with nothing else: 503 at once");
        assertEquals(1, only.requests.get(), "the excess request was not sent");
        assertEquals(1, server.outboundStats().connects(), "and no connection was opened for it");
        hold.countDown();
        assertEquals(200, first.get(10, TimeUnit.SECONDS).status());
        // Closing the connections (shutdown below) brings the count back to zero.
        server.shutdown(Duration.ofSeconds(10));
        assertEquals(0, stats(only.port()).connections(), "every close was reported");
        assertEquals(0, stats(only.port()).pending());
        assertEquals(0, StreamedBodyTest.chunksInUse(server));
        server = null; // shut down already
    }

    /**
     * A connect that gets no answer (a full backlog, as in {@code OutboundConnectTest}) keeps the first
     * request pending; the second is over {@code max-pending=1}.
     */
    @Test
    void maxPendingSendsTheExcessElsewhereWhileAConnectHangs() throws Exception
    {
        final List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            Assumptions.assumeTrue(fillBacklog(full, fillers), "the kernel did not leave a connect to a full backlog hanging");
            final ProxyTestBackend other = text("other");
            final ProxyTestBackend backup = text("backup");
            final int hanging = full.getLocalPort();
            start(OutboundOptions.defaults().connectTimeout(Duration.ofSeconds(3)),
                UpstreamSpec.parse("127.0.0.1:" + hanging + ",max-pending=1,weight=100"),
                UpstreamSpec.parse("127.0.0.1:" + other.port()), UpstreamSpec.parse("127.0.0.1:" + backup.port() + ",backup"));
            // Smooth round robin with weights {100, 1} picks the hanging upstream first.
            final CompletableFuture<RawHttpClient.Response> first = getAsync();
            await(() -> stats(hanging).pending() == 1, "the first request waits for its connect");
            final RawHttpClient.Response second = get();
            assertEquals(200, second.status());
            assertEquals("other", second.text(), "the hanging upstream is at max-pending: the next one takes it");
            assertEquals(1, stats(hanging).pending(), "the first is still waiting");
            // The first request's connect times out; it is retried on the other upstream.
            final RawHttpClient.Response r = first.get(20, TimeUnit.SECONDS);
            assertEquals(200, r.status());
            assertEquals(0, stats(hanging).pending(), "the failed connect ended its pending count");
            assertEquals(0, stats(hanging).connections(), "and its connection's");
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
    void maxPendingWithNoOtherUpstreamIs503AtOnce() throws Exception
    {
        final List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            Assumptions.assumeTrue(fillBacklog(full, fillers), "the kernel did not leave a connect to a full backlog hanging");
            final int hanging = full.getLocalPort();
            start(OutboundOptions.defaults().connectTimeout(Duration.ofSeconds(4)),
                UpstreamSpec.parse("127.0.0.1:" + hanging + ",max-pending=1"));
            final CompletableFuture<RawHttpClient.Response> first = getAsync();
            await(() -> stats(hanging).pending() == 1, "the first request waits for its connect");
            final long start = System.nanoTime();
            assertEquals(503, get().status(), "over max-pending with nothing else: 503 at once");
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(4).toNanos(), "not after the connect timeout");
            assertEquals(504, first.get(20, TimeUnit.SECONDS).status(), "the hanging connect timed out");
            assertEquals(0, stats(hanging).pending());
        }
        finally
        {
            for (final Socket s : fillers)
            {
                s.close();
            }
        }
    }

    /** Fills a backlog-1 listener that never accepts until a connect to it hangs; false if one was refused. */
    private static boolean fillBacklog(final ServerSocket full, final List<Socket> fillers) throws IOException
    {
        final InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort());
        for (int i = 0; i < 16; i++)
        {
            final Socket s = new Socket();
            fillers.add(s);
            try
            {
                s.connect(address, 200);
            }
            catch (final SocketTimeoutException ex)
            {
                return true;
            }
            catch (final IOException ex)
            {
                return false;
            }
        }
        return false;
    }
}
