package io.millrace.demo;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test helper: a small keep-alive HTTP/1.1 upstream on loopback (the JDK's
 * {@code com.sun.net.httpserver}, four threads), answering every request with
 * {@code NAME METHOD PATH} and counting them; {@code /health} is counted apart.
 */
final class TestUpstream implements AutoCloseable
{
    final String name;
    /** Requests other than {@code /health}. */
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger probes = new AtomicInteger();
    private final HttpServer server;
    private final ExecutorService threads = Executors.newFixedThreadPool(4, r ->
    {
        final Thread t = new Thread(r, "test-upstream");
        t.setDaemon(true);
        return t;
    });

    TestUpstream(final String name) throws IOException
    {
        this.name = name;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        server.setExecutor(threads);
        server.createContext("/", exchange ->
        {
            try (exchange)
            {
                try (InputStream in = exchange.getRequestBody())
                {
                    in.readAllBytes();
                }
                final String path = exchange.getRequestURI().getPath();
                if (path.equals("/health"))
                {
                    probes.incrementAndGet();
                }
                else
                {
                    requests.incrementAndGet();
                }
                final byte[] body = (name + " " + exchange.getRequestMethod() + " " + path).getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody())
                {
                    out.write(body);
                }
            }
        });
        server.start();
    }

    int port()
    {
        return server.getAddress().getPort();
    }

    /** @return its name in the upstream syntax, {@code 127.0.0.1:PORT} */
    String address()
    {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close()
    {
        server.stop(0);
        threads.shutdownNow();
    }
}
