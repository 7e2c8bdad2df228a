package io.millrace.http;

import io.millrace.memory.BufferChain;
import io.millrace.memory.LeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A streamed body cut short tells its listener once, and the route's stage never runs. */
class StreamAbortTest
{
    private final AtomicLong received = new AtomicLong();
    private final AtomicInteger aborted = new AtomicInteger();
    private final AtomicInteger stageRan = new AtomicInteger();

    private HttpServer start(final Duration requestTimeout)
    {
        final HttpServerBuilder b = HttpServer.builder().bind(new InetSocketAddress("127.0.0.1", 0)).workers(2)
            .requestTimeout(requestTimeout).leakDetector(LeakDetector.paranoid());
        final BodyListener listener = new BodyListener()
        {
            @Override
            public void onBodyPart(final HttpExchange exchange, final BufferChain part)
            {
                received.addAndGet(part.readableBytes());
            }

            @Override
            public void onBodyAborted(final HttpExchange exchange)
            {
                aborted.incrementAndGet();
            }
        };
        b.route("PUT", "/up", b.stage("up", (x, ctx) ->
        {
            stageRan.incrementAndGet();
            return x.respond(200, HeaderBlock.EMPTY);
        }), listener);
        return b.start();
    }

    @Test
    @Timeout(60)
    void aClientThatVanishesMidBodyAbortsItsStream() throws Exception
    {
        try (HttpServer server = start(Duration.ofSeconds(30)))
        {
            try (Socket s = new Socket())
            {
                s.connect(server.address(), 5_000);
                final OutputStream out = s.getOutputStream();
                out.write("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.write(new byte[1000]);
                out.flush();
                awaitAtLeast(received, 1000);
            }
            awaitAtLeast(aborted, 1);
            assertEquals(1, aborted.get(), "told once");
            assertEquals(0, stageRan.get(), "the stage never runs for a body cut short");
            assertEquals(0, server.stats().bodyBytesHeld());
        }
    }

    @Test
    @Timeout(60)
    void aBodyThatTimesOutAbortsItsStreamAndIsAnswered408() throws Exception
    {
        try (HttpServer server = start(Duration.ofMillis(300)); Socket s = new Socket())
        {
            s.connect(server.address(), 5_000);
            s.setSoTimeout(10_000);
            final OutputStream out = s.getOutputStream();
            out.write("PUT /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[1000]);
            out.flush();
            final InputStream in = s.getInputStream();
            final String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 408", head);
            assertEquals(1, aborted.get());
            assertEquals(0, stageRan.get());
        }
    }

    @Test
    @Timeout(60)
    void aBrokenChunkAbortsItsStream() throws Exception
    {
        try (HttpServer server = start(Duration.ofSeconds(30)); Socket s = new Socket())
        {
            s.connect(server.address(), 5_000);
            s.setSoTimeout(10_000);
            final OutputStream out = s.getOutputStream();
            out.write("PUT /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            final String head = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 400", head);
            assertEquals(5, received.get());
            assertEquals(1, aborted.get());
            assertEquals(0, stageRan.get());
        }
    }

    private static void awaitAtLeast(final AtomicLong value, final long wanted) throws InterruptedException
    {
        for (int i = 0; i < 10_000 && value.get() < wanted; i++)
        {
            Thread.sleep(1);
        }
        assertTrue(value.get() >= wanted, "reached " + value.get() + " of " + wanted);
    }

    private static void awaitAtLeast(final AtomicInteger value, final int wanted) throws InterruptedException
    {
        for (int i = 0; i < 10_000 && value.get() < wanted; i++)
        {
            Thread.sleep(1);
        }
        assertTrue(value.get() >= wanted, "reached " + value.get() + " of " + wanted);
    }
}
