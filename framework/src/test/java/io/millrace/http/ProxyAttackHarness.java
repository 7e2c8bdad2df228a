package io.millrace.http;

import io.millrace.balance.UpstreamGroup;
import io.millrace.balance.UpstreamSpec;
import io.millrace.memory.LeakDetector;
import io.millrace.net.OutboundOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the proxy attack tests share: a Millrace proxy on two workers in front of test upstreams, and
 * the check after every attack that no upstream connection is leased, every pooled chunk is back
 * after shutdown and the paranoid leak detector reported nothing.
 */
abstract class ProxyAttackHarness
{
    final LeakDetector leaks = LeakDetector.paranoid();
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    HttpServer server;
    HttpProxy proxy;

    void start(final UnaryOperator<HttpProxyBuilder> settings, final int... ports)
    {
        final List<UpstreamSpec> specs = new ArrayList<>();
        for (final int p : ports)
        {
            specs.add(UpstreamSpec.of("127.0.0.1", p));
        }
        final UpstreamGroup group = UpstreamGroup.builder().workers(2).passive(0, Duration.ofSeconds(30)).add(specs).build();
        proxy = settings.apply(HttpProxy.builder(group).outbound(OutboundOptions.defaults()
            .connectTimeout(Duration.ofSeconds(2)).readTimeout(Duration.ofSeconds(5)))).build();
        server = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks)
            .proxy("/*", proxy).start();
    }

    @AfterEach
    void everythingIsBack() throws Exception
    {
        if (server != null)
        {
            for (int i = 0; i < 300 && server.outboundStats().open() > server.outboundStats().idle(); i++)
            {
                Thread.sleep(10);
            }
            assertEquals(server.outboundStats().idle(), server.outboundStats().open(), "no upstream connection is leased after the attack");
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

    <T extends AutoCloseable> T later(final T c)
    {
        closeLater.add(c);
        return c;
    }

    void stillServes(final ProxyTestBackend backend) throws IOException
    {
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, c.read().status(), "the proxy still serves");
        }
    }

    /** Reads from {@code in} until {@code end} was seen (or the socket times out) and returns all of it. */
    static String readUntil(final InputStream in, final String end) throws IOException
    {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        final byte[] buf = new byte[8192];
        try
        {
            int n;
            while ((n = in.read(buf)) > 0)
            {
                b.write(buf, 0, n);
                if (b.toString(StandardCharsets.ISO_8859_1).contains(end))
                {
                    break;
                }
            }
        }
        catch (final SocketTimeoutException stuck)
        {
            // return what came: the assertion says what was missing
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** An upstream that answers every request with {@code raw} and then closes. */
    ProxyTestBackend answering(final String raw) throws IOException
    {
        return later(new ProxyTestBackend((head, body, out) ->
        {
            if (head.startsWith("GET /hello"))
            {
                out.write(ProxyTestBackend.ok("hi"));
                return true;
            }
            out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
            return false;
        }));
    }

    int statusThroughProxy(final String request) throws IOException
    {
        try (RawHttpClient c = new RawHttpClient(server.address().getPort()))
        {
            c.send(request);
            return c.read().status();
        }
    }
}
