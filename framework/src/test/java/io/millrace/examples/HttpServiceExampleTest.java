package io.millrace.examples;

import io.millrace.ShutdownReport;
import io.millrace.http.HttpServer;
import io.millrace.memory.LeakDetector;
import io.millrace.metrics.WorkerMetrics;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP example of docs/guide.md ("An HTTP service in 30 lines"): the page shows
 * {@link HttpServiceExample} verbatim from its first import on, and this test checks that, then
 * runs the example on a free port and sends it real requests.
 */
class HttpServiceExampleTest
{
    private static final String SECTION = "An HTTP service in 30 lines";
    private static final String SOURCE = "src/test/java/io/millrace/examples/HttpServiceExample.java";

    @Test
    void theGuideShowsTheExampleVerbatimInAtMostThirtyLines() throws IOException
    {
        final Path framework = Path.of("").toAbsolutePath();
        final Path guide = repositoryFile(framework, "docs/guide.md");
        final String source = Files.readString(framework.resolve(SOURCE), StandardCharsets.UTF_8);
        final String shown = source.substring(source.indexOf("import "));

        final String page = Files.readString(guide, StandardCharsets.UTF_8);
        final int section = page.indexOf(SECTION);
        assertTrue(section >= 0, "docs/guide.md has a section '" + SECTION + "'");
        final int open = page.indexOf("```java\n", section);
        assertTrue(open >= 0, "the section has a java code block");
        final int start = open + "```java\n".length();
        final String block = page.substring(start, page.indexOf("```", start));

        assertEquals(shown, block, "docs/guide.md's code block is " + SOURCE + " from its first import on; copy it over");
        final long lines = block.lines().filter(l -> !l.isBlank()).count();
        assertTrue(lines <= 30, "the program is at most 30 lines of code, has " + lines);
    }

    @Test
    void theExampleServesItsRoutesAndGivesEveryBufferBack() throws IOException
    {
        final LeakDetector leaks = LeakDetector.paranoid();
        final HttpServer server = HttpServiceExample.start(HttpServer.builder()
            .bind(new InetSocketAddress("127.0.0.1", 0)).workers(2).leakDetector(leaks));
        try (Client c = new Client(server.address().getPort()))
        {
            Response r = c.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals("Hello, World!\n", r.text());
            assertEquals("text/plain; charset=utf-8", r.header("content-type"));
            assertEquals("Millrace", r.header("server"));

            // Keys spread over partitions owned by both workers; each answer comes back in order.
            for (int i = 0; i < 16; i++)
            {
                r = c.send("PUT /kv/key" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\nvalue" + (char)('a' + i) + "!");
                assertEquals(200, r.status(), "PUT answers with what it stored");
                assertEquals("value" + (char)('a' + i) + "!", r.text());
            }
            for (int i = 15; i >= 0; i--)
            {
                r = c.send("GET /kv/key" + i + " HTTP/1.1\r\nHost: t\r\n\r\n");
                assertEquals(200, r.status());
                assertEquals("value" + (char)('a' + i) + "!", r.text());
                assertEquals("application/octet-stream", r.header("content-type"));
            }
            r = c.send("PUT /kv/chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
            assertEquals("abcde", r.text(), "a chunked body arrives decoded");
            assertEquals(404, c.send("GET /kv/missing HTTP/1.1\r\nHost: t\r\n\r\n").status());

            // Expect: 100-continue: the interim response comes once the head is routed, before any body byte.
            r = c.send("PUT /kv/big HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
            assertEquals(100, r.status());
            r = c.send("xyz");
            assertEquals(200, r.status());
            assertEquals("xyz", r.text());
            assertEquals(1, server.stats().continues());

            // HEAD: routed with GET, same Content-Length, no body (the next response parses cleanly).
            r = c.sendHead("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals("14", r.header("content-length"));
            assertEquals(0, r.body().length);
            r = c.sendHead("HEAD /kv/key3 HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals("7", r.header("content-length"));

            r = c.send("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, r.status());
            assertEquals("slept 50 ms\n", r.text());

            r = c.send("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(404, r.status());
            assertNull(r.header("connection"), "a 404 keeps the connection");

            r = c.send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(405, r.status());
            assertEquals("GET, HEAD", r.header("allow"));
            r = c.send("DELETE /kv/key1 HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(405, r.status());
            assertEquals("GET, HEAD, PUT", r.header("allow"));

            r = c.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, r.status(), "every request above went over one keep-alive connection");
        }
        assertEquals(1, server.transportStats().accepted());
        assertEquals(0, server.stats().handlerErrors());

        final ShutdownReport report = server.shutdown(Duration.ofSeconds(10));
        assertTrue(report.clean(), "shutdown drained: " + report);
        long live = 0;
        for (final WorkerMetrics w : server.metrics().workers())
        {
            live += w.bufferChunks().live();
        }
        assertEquals(0, live, "every pooled chunk is back after shutdown");
        assertEquals(0, server.stats().bodyBytesHeld(), "no request body is charged any more");
        assertEquals(0, leaks.leaksReported(), "the paranoid leak detector reported no leak");
    }

    /** docs/ is beside the module directory the tests run in. */
    private static Path repositoryFile(final Path moduleDir, final String relative)
    {
        for (Path dir = moduleDir; dir != null; dir = dir.getParent())
        {
            if (Files.isRegularFile(dir.resolve(relative)))
            {
                return dir.resolve(relative);
            }
        }
        throw new AssertionError(relative + " not found above " + moduleDir);
    }

    private record Response(int status, Map<String, String> headers, byte[] body)
    {
        String text()
        {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(final String name)
        {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** One keep-alive connection: writes a request, reads one response with a Content-Length body. */
    private static final class Client implements AutoCloseable
    {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Client(final int port) throws IOException
        {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        Response send(final String request) throws IOException
        {
            return exchange(request, false);
        }

        Response sendHead(final String request) throws IOException
        {
            return exchange(request, true);
        }

        private Response exchange(final String request, final boolean head) throws IOException
        {
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            final String statusLine = line();
            final Map<String, String> headers = new LinkedHashMap<>();
            for (String h = line(); !h.isEmpty(); h = line())
            {
                final int colon = h.indexOf(':');
                headers.put(h.substring(0, colon).toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
            }
            assertFalse(headers.containsKey("transfer-encoding"), "responses are not chunked");
            final int length = head ? 0 : Integer.parseInt(headers.getOrDefault("content-length", "0"));
            return new Response(Integer.parseInt(statusLine.split(" ")[1]), headers, in.readNBytes(length));
        }

        private String line() throws IOException
        {
            final ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int c = in.read(); c != '\n'; c = in.read())
            {
                if (c < 0)
                {
                    throw new IOException("the server closed the connection mid-response");
                }
                b.write(c);
            }
            final String s = b.toString(StandardCharsets.ISO_8859_1);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }

        @Override
        public void close() throws IOException
        {
            socket.close();
        }
    }
}
