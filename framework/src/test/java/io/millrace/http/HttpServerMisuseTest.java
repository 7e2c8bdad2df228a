package io.millrace.http;

import io.millrace.memory.LeakDetector;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.Suspension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** User code that misuses the HTTP server's API, and paths that try to reach what must stay hidden. */
class HttpServerMisuseTest
{
    @TempDir
    Path root;

    @Test
    @Timeout(60)
    void aSuspensionResumedWithDoneIsAnswered500OnEveryWorker() throws Exception
    {
        final HttpServerBuilder b = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2)
            .leakDetector(LeakDetector.paranoid());
        // Resumed with done() from a worker timer, inline and on a partition owner (another worker
        // for half of the keys): without a response either way.
        final var inline = b.stage("inline", (x, ctx) ->
        {
            final Suspension s = ctx.suspend();
            ctx.timers().scheduleAfter(TimeUnit.MILLISECONDS.toNanos(5), (id, now) -> s.resume(Outcome.done()));
            return Outcome.blocked();
        });
        final var owned = b.stage("owned", Placement.partitioned(HttpExchange::routeKeyHash), (x, ctx) ->
        {
            final Suspension s = ctx.suspend();
            ctx.timers().scheduleAfter(TimeUnit.MILLISECONDS.toNanos(5), (id, now) -> s.resume(Outcome.done()));
            return Outcome.blocked();
        });
        b.route("GET", "/inline", inline).route("GET", "/owned/*", owned);
        try (HttpServer server = b.start(); Socket s = new Socket())
        {
            s.connect(server.address(), 5_000);
            s.setSoTimeout(10_000);
            for (int i = 0; i < 16; i++)
            {
                assertEquals(500, exchange(s, "GET /inline HTTP/1.1\r\nHost: t\r\n\r\n"));
                assertEquals(500, exchange(s, "GET /owned/key" + i + " HTTP/1.1\r\nHost: t\r\n\r\n"), "key" + i);
            }
            assertEquals(32, server.stats().handlerErrors());
        }
    }

    @Test
    @Timeout(60)
    void percentEncodedDotfilesAreRefusedToo() throws Exception
    {
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), "secret");
        Files.writeString(root.resolve(".env"), "secret");
        Files.writeString(root.resolve("ok.txt"), "fine");
        final HttpServerBuilder b = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(1)
            .staticFiles("/files/", root);
        try (HttpServer server = b.start(); Socket s = new Socket())
        {
            s.connect(server.address(), 5_000);
            s.setSoTimeout(10_000);
            assertEquals(200, exchange(s, "GET /files/ok.txt HTTP/1.1\r\nHost: t\r\n\r\n"));
            for (final String path : new String[] {".git/config", "%2egit/config", "%2Egit/config", ".env", "%2eenv", "%2Eenv",
                "a/../.env", "ok.txt/../%2eenv"})
            {
                final int status = exchange(s, "GET /files/" + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
                assertTrue(status == 404 || status == 400, path + " answered " + status);
            }
        }
    }

    /** Sends one request and reads its response (Content-Length framed); returns the status. */
    static int exchange(final Socket s, final String request) throws Exception
    {
        final OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        final InputStream in = s.getInputStream();
        final StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n"))
        {
            final int c = in.read();
            assertTrue(c >= 0, "closed before a response; got: " + head);
            head.append((char)c);
        }
        final String text = head.toString();
        final int at = text.toLowerCase().indexOf("content-length: ");
        final int length = at < 0 ? 0 : Integer.parseInt(text.substring(at + 16, text.indexOf('\r', at)));
        in.readNBytes(length);
        return Integer.parseInt(text.substring(9, 12));
    }
}
