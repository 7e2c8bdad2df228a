package io.millrace.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo server's HTTP/1.1 behaviour over real sockets: the JDK HttpClient and crafted bytes. */
class HttpProtocolTest
{
    @TempDir
    Path root;

    private DemoServerFixture server;

    @BeforeEach
    void start()
    {
        server = new DemoServerFixture(root);
    }

    @AfterEach
    void everyBufferIsBack()
    {
        server.close();
        assertEquals(0, server.chunksInUse(), "every pooled chunk is back after shutdown");
        assertEquals(0, server.leaks.leaksReported(), "the paranoid leak detector reported no leak");
    }

    @Test
    void keepAliveReusesOneConnection() throws Exception
    {
        final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 5; i++)
        {
            final HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(server.url("/hello"))).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("Hello, World!\n", r.body());
            assertTrue(r.headers().firstValue("date").isPresent(), "Date header");
            assertEquals("Millrace", r.headers().firstValue("server").orElse(null));
        }
        assertEquals(1, server.service.transportStats().accepted(), "five requests, one connection");
    }

    @Test
    void sixteenPipelinedRequestsAreAnsweredInOrder() throws Exception
    {
        try (RawHttp raw = new RawHttp(server.port()))
        {
            for (int i = 0; i < 16; i++)
            {
                final String body = "value-" + i;
                raw.send("PUT /kv/key" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
                assertEquals(201, raw.read().status());
            }
            // All sixteen in one write: kv requests hop to partition owners on both workers and
            // back, and still come out in request order.
            final StringBuilder pipelined = new StringBuilder();
            for (int i = 0; i < 16; i++)
            {
                pipelined.append(i % 4 == 3 ? "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n" : "GET /kv/key" + i + " HTTP/1.1\r\nHost: t\r\n\r\n");
            }
            raw.send(pipelined.toString());
            for (int i = 0; i < 16; i++)
            {
                final RawHttp.Response r = raw.read();
                assertEquals(200, r.status(), "response " + i);
                assertEquals(i % 4 == 3 ? "Hello, World!\n" : "value-" + i, r.text(), "response " + i + " in order");
            }
        }
    }

    @Test
    void chunkedUploadToKv() throws Exception
    {
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("PUT /kv/chunky HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
                "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n");
            assertEquals(201, raw.read().status());
            raw.send("GET /kv/chunky HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals("hello, world", raw.read().text());
            raw.send("DELETE /kv/chunky HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(204, raw.read().status());
            raw.send("GET /kv/chunky HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(404, raw.read().status());
        }
    }

    @Test
    void malformedRequestGets400AndTheConnectionCloses() throws Exception
    {
        assertStatusThenClose("GARBAGE\r\n\r\n", 400);
    }

    @Test
    void bodyTooLargeGets413AndTheConnectionCloses() throws Exception
    {
        assertStatusThenClose("PUT /kv/big HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\n\r\n", 413);
    }

    @Test
    void headersTooLargeGet431AndTheConnectionCloses() throws Exception
    {
        assertStatusThenClose("GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: " + "a".repeat(10_000) + "\r\n\r\n", 431);
    }

    @Test
    void contentLengthWithTransferEncodingIsRefused() throws Exception
    {
        assertStatusThenClose("PUT /kv/s HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "0\r\n\r\nGET /kv/s HTTP/1.1\r\nHost: t\r\n\r\n", 400);
    }

    @Test
    void duplicateContentLengthIsRefused() throws Exception
    {
        assertStatusThenClose("PUT /kv/s HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400);
    }

    @Test
    void unknownPathGets404AndWrongMethodGets405WithAllow() throws Exception
    {
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(404, raw.read().status());
            raw.send("POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
            final RawHttp.Response r = raw.read();
            assertEquals(405, r.status());
            assertEquals("GET, HEAD", r.header("allow"));
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, raw.read().status(), "404 and 405 keep the connection");
        }
    }

    @Test
    void overloadGets503() throws Exception
    {
        server.close();
        server = new DemoServerFixture(root, Duration.ofSeconds(30), Duration.ofSeconds(10), 1);
        try (RawHttp busy = new RawHttp(server.port()); RawHttp other = new RawHttp(server.port()))
        {
            busy.send("GET /slow?ms=1500 HTTP/1.1\r\nHost: t\r\n\r\n"); // holds the one in-flight slot
            awaitInFlight(1);
            other.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            final RawHttp.Response refused = other.read();
            assertEquals(503, refused.status());
            assertNotNull(refused.header("retry-after"));
            assertTrue(other.closedByServer(), "503 closes the connection");
            assertEquals(200, busy.read().status(), "the request that held the slot completes");
        }
    }

    @Test
    void nothingPipelinedBehindAClosingResponseIsRun() throws Exception
    {
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" +
                "PUT /kv/after-close HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx");
            assertEquals(200, raw.read().status());
            assertTrue(raw.closedByServer(), "closed after the Connection: close response");
        }
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /kv/after-close HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(404, raw.read().status(), "the PUT pipelined behind the close never ran");
        }
    }

    @Test
    void withFinishHalfClosedAPeerThatHalfClosesStillGetsItsAnswers() throws Exception
    {
        server.close();
        server = new DemoServerFixture(root, "--finish-half-closed");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("PUT /kv/half HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi" +
                "GET /kv/half HTTP/1.1\r\nHost: t\r\n\r\n");
            raw.socket.shutdownOutput(); // FIN after the requests; /kv runs on another worker meanwhile
            assertEquals(201, raw.read().status());
            final RawHttp.Response r = raw.read();
            assertEquals(200, r.status());
            assertEquals("hi", r.text());
            assertTrue(raw.closedByServer(), "closed once the answers are written");
        }
    }

    @Test
    void pipelinedRequestsNeedNoExtraInFlightSlot() throws Exception
    {
        server.close();
        server = new DemoServerFixture(root, Duration.ofSeconds(30), Duration.ofSeconds(10), 1);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n".repeat(8));
            for (int i = 0; i < 8; i++)
            {
                assertEquals(200, raw.read().status(), "request " + i + " with an in-flight bound of 1");
            }
        }
    }

    private void awaitInFlight(final long n) throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (server.service.pipeline().metrics().inFlight() < n)
        {
            assertTrue(System.nanoTime() < deadline, "request never entered the pipeline");
            Thread.sleep(5);
        }
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
    }
}
