package io.millrace.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What HTTP/1.1 obliges a server to do, checked over real sockets with crafted bytes: interim
 * {@code 100 Continue}, HTTP/1.0 keep-alive, HEAD framing, the error statuses a bad request head
 * must get (414, 400, 501, 417), and static files that never serve dotfiles unless told to and
 * carry their media type.
 */
@Timeout(60)
class HttpDutiesTest
{
    private static final String HELLO = "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n";

    @TempDir
    Path root;

    private DemoServerFixture server;

    @AfterEach
    void everyBufferIsBack()
    {
        if (server != null)
        {
            server.close();
            assertEquals(0, server.chunksInUse(), "every pooled chunk is back after shutdown");
            assertEquals(0, server.leaks.leaksReported(), "the paranoid leak detector reported no leak");
        }
    }

    // ------------------------------------------------------------------ Expect: 100-continue

    @Test
    void expectContinueGets100BeforeTheBodyIsSent() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("PUT /kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            raw.socket.setSoTimeout(5_000); // the interim response comes at once, not after a client's own timeout
            final RawHttp.Response interim = raw.read();
            assertEquals(100, interim.status(), "HTTP/1.1 100 Continue before any body byte was sent");
            assertEquals(0, interim.body().length);
            raw.send("hello");
            assertEquals(201, raw.read().status(), "then the final response");
            raw.send("GET /kv/k HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("hello", raw.read().text());
        }
        assertEquals(1, server.service.httpStats().continues());
    }

    @Test
    void expectContinueWithABodyOverTheLimitGets413AtOnceAndNo100() throws Exception
    {
        server = new DemoServerFixture(root, "--max-body-bytes", "1000");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("PUT /kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n");
            raw.socket.setSoTimeout(5_000);
            final RawHttp.Response r = raw.read();
            assertEquals(413, r.status(), "a final status instead of 100: the client need not send the body");
            assertEquals("close", r.header("connection"));
            assertTrue(raw.closedByServer());
        }
        assertEquals(0, server.service.httpStats().continues(), "no 100 Continue was sent");
    }

    @Test
    void expectContinueOnARequestWithoutABodyOrInHttp10SendsNo100() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n");
            assertEquals(200, raw.read().status(), "no body, nothing to wait for: the final response only");
            raw.send("PUT /kv/k10 HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi");
            assertEquals(201, raw.read().status(), "HTTP/1.0 clients do not understand 1xx (RFC 9110 section 10.1.1)");
        }
        assertEquals(0, server.service.httpStats().continues());
    }

    @Test
    void anExpectationOtherThan100ContinueGets417() throws Exception
    {
        server = new DemoServerFixture(root);
        assertStatusThenClose("PUT /kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: foo\r\n\r\nx", 417);
    }

    // ------------------------------------------------------------------ HTTP/1.0

    @Test
    void http10WithConnectionKeepAliveStaysOpenAndSaysSo() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            final RawHttp.Response first = raw.read();
            assertEquals(200, first.status());
            assertEquals("keep-alive", first.header("connection"), "an HTTP/1.0 client learns the connection persists");
            assertEquals("Hello, World!\n", first.text());
            raw.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            final RawHttp.Response second = raw.read();
            assertEquals(200, second.status(), "a second request on the same connection");
            assertEquals("keep-alive", second.header("connection"));
            raw.send("GET /hello HTTP/1.0\r\n\r\n");
            assertEquals(200, raw.read().status());
            assertTrue(raw.closedByServer(), "the third, without keep-alive, ends the connection");
        }
        assertEquals(1, server.service.transportStats().accepted());
    }

    @Test
    void http10WithoutKeepAliveCloses() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.0\r\n\r\n");
            final RawHttp.Response r = raw.read();
            assertEquals(200, r.status());
            assertEquals("Hello, World!\n", r.text());
            assertTrue(r.header("connection") == null || r.header("connection").equals("close"), r.headers().toString());
            assertTrue(raw.closedByServer(), "HTTP/1.0 closes by default");
        }
    }

    // ------------------------------------------------------------------ HEAD

    @Test
    void headOfAKvValueHasItsLengthAndNoBodyAndThePipelinedNextResponseParses() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("PUT /kv/k HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
            assertEquals(201, raw.read().status());
            raw.send("HEAD /kv/k HTTP/1.1\r\nHost: t\r\n\r\n" + HELLO); // pipelined in one write
            final RawHttp.Response head = raw.read(true);
            assertEquals(200, head.status());
            assertEquals("11", head.header("content-length"), "the length a GET would send");
            assertEquals("application/octet-stream", head.header("content-type"));
            final RawHttp.Response next = raw.read();
            assertEquals(200, next.status(), "the next response starts right after the HEAD's head: no body bytes between");
            assertEquals("Hello, World!\n", next.text());
            raw.socket.setSoTimeout(300);
            final InputStream in = raw.socket.getInputStream();
            assertThrows(SocketTimeoutException.class, in::read, "and nothing else is on the stream");
        }
    }

    @Test
    void headOfHelloAndOfAMissingKey() throws Exception
    {
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\nHEAD /kv/missing HTTP/1.1\r\nHost: t\r\n\r\n" + HELLO);
            final RawHttp.Response hello = raw.read(true);
            assertEquals(200, hello.status());
            assertEquals("14", hello.header("content-length"));
            final RawHttp.Response missing = raw.read(true);
            assertEquals(404, missing.status());
            assertEquals(200, raw.read().status());
        }
    }

    // ------------------------------------------------------------------ bad heads

    @Test
    void aTargetOver8KiBGets414() throws Exception
    {
        server = new DemoServerFixture(root);
        assertStatusThenClose("GET /" + "a".repeat(9_000) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414);
    }

    @Test
    void chunkedThenIdentityIsRefused() throws Exception
    {
        server = new DemoServerFixture(root);
        assertStatusThenClose("PUT /kv/s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400);
    }

    @Test
    void chunkedTwiceIsRefused() throws Exception
    {
        server = new DemoServerFixture(root);
        assertStatusThenClose("PUT /kv/s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400);
        assertStatusThenClose("PUT /kv/s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "0\r\n\r\n", 400);
    }

    @Test
    void anUnknownMethodGets501() throws Exception
    {
        server = new DemoServerFixture(root);
        assertStatusThenClose("BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", 501);
    }

    // ------------------------------------------------------------------ dotfiles

    @Test
    void dotfilesAreNotServedByDefault() throws Exception
    {
        writeDotfiles();
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            for (final String path : new String[] {"/files/.git/config", "/files/.env", "/files/a/.hidden/b", "/files/%2eenv"})
            {
                raw.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttp.Response r = raw.read();
                assertEquals(404, r.status(), path + " exists on disk but must not be served");
                assertFalse(r.text().contains("SECRET"), path + " leaked its content");
            }
            raw.send("GET /files/a/visible HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("plain\n", raw.read().text(), "an ordinary file next to them is served");
        }
    }

    @Test
    void dotfilesAreServedWithAllowDotfiles() throws Exception
    {
        writeDotfiles();
        server = new DemoServerFixture(root, "--allow-dotfiles");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            for (final String path : new String[] {".git/config", ".env", "a/.hidden/b"})
            {
                raw.send("GET /files/" + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttp.Response r = raw.read();
                assertEquals(200, r.status(), path);
                assertArrayEquals(Files.readAllBytes(root.resolve(path)), r.body(), path);
            }
        }
    }

    @Test
    void staticFilesCarryTheirMediaType() throws Exception
    {
        final String[][] cases = {
            {"notes.md", "text/markdown; charset=utf-8"}, {"data.json", "application/json"},
            {"logo.svg", "image/svg+xml; charset=utf-8"}, {"app.wasm", "application/wasm"},
            {"photo.webp", "image/webp"}, {"photo.avif", "image/avif"}, {"mod.mjs", "text/javascript; charset=utf-8"},
            {"a.txt", "text/plain; charset=utf-8"}, {"t.csv", "text/csv; charset=utf-8"},
            {"f.xml", "application/xml; charset=utf-8"}, {"p.pdf", "application/pdf"}, {"font.woff2", "font/woff2"},
            {"blob", "application/octet-stream"}};
        for (final String[] c : cases)
        {
            Files.writeString(root.resolve(c[0]), "x");
        }
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            for (final String[] c : cases)
            {
                raw.send("GET /files/" + c[0] + " HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttp.Response r = raw.read();
                assertEquals(200, r.status(), c[0]);
                assertEquals(c[1], r.header("Content-Type"), c[0]);
            }
        }
    }

    private void writeDotfiles() throws Exception
    {
        Files.createDirectories(root.resolve(".git"));
        Files.writeString(root.resolve(".git/config"), "[core] SECRET git config\n");
        Files.writeString(root.resolve(".env"), "PASSWORD=SECRET\n");
        Files.createDirectories(root.resolve("a/.hidden"));
        Files.writeString(root.resolve("a/.hidden/b"), "SECRET b\n");
        Files.writeString(root.resolve("a/visible"), "plain\n");
    }

    private void assertStatusThenClose(final String request, final int status) throws Exception
    {
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send(request);
            final RawHttp.Response r = raw.read();
            assertEquals(status, r.status(), r.text());
            assertEquals("close", r.header("connection"));
            assertTrue(raw.closedByServer(), "the server closes after " + status);
        }
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send(HELLO);
            assertEquals(200, raw.read().status(), "and goes on serving");
        }
    }
}
