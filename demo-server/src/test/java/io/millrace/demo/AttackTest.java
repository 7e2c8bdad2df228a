package io.millrace.demo;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Adversarial checks over real sockets: pipelining with odd splits, resets mid-transfer, half-close. */
class AttackTest
{
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

    static void awaitDown(final java.util.function.LongSupplier value, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long now;
        while ((now = value.getAsLong()) > 0)
        {
            assertTrue(System.nanoTime() < deadline, what + ": still " + now + " after 20 s");
            Thread.sleep(10);
        }
    }

    private record Expect(int status, String body, boolean head) {}

    @Test
    @Timeout(60)
    void aPipelinedMixSplitAtRandomPointsIsAnsweredOnceEachInOrder() throws Exception
    {
        Files.writeString(root.resolve("f.txt"), "0123456789abcdef");
        server = new DemoServerFixture(root);
        for (long seed = 1; seed <= 12; seed++)
        {
            final Random rnd = new Random(seed);
            final StringBuilder wire = new StringBuilder();
            final List<Expect> expected = new ArrayList<>();
            for (int i = 0; i < 40; i++)
            {
                switch (rnd.nextInt(12))
                {
                    case 0 -> { wire.append("PUT /kv/s" + seed + "k" + i + " HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nv" + i % 10 + "x");
                        expected.add(new Expect(201, null, false));
                        wire.append("GET /kv/s" + seed + "k" + i + " HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(200, "v" + i % 10 + "x", false)); }
                    case 1 -> { wire.append("GET /slow?ms=" + rnd.nextInt(5) + " HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(200, null, false)); }
                    case 2 -> { wire.append("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(200, "", true)); }
                    case 3 -> { wire.append("GET /files/f.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=2-5\r\n\r\n"); expected.add(new Expect(206, "2345", false)); }
                    case 4 -> { wire.append("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(404, null, false)); }
                    case 5 -> { wire.append("POST /hello HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(405, null, false)); }
                    case 6 -> { wire.append("HEAD /files/f.txt HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(200, "", true)); }
                    case 7 -> { wire.append("GET /kv/missing" + i + " HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(404, null, false)); }
                    case 8 -> { wire.append("GET /files/f.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=99-\r\n\r\n"); expected.add(new Expect(416, null, false)); }
                    case 9 -> { wire.append("PUT /kv/s" + seed + "c" + i + " HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;a=b\r\nz\r\n1\r\ny\r\n0\r\nT: 1\r\n\r\n");
                        expected.add(new Expect(201, null, false)); }
                    case 10 -> { wire.append("HEAD /kv/s" + seed + "k" + i + " HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(404, "", true)); }
                    default -> { wire.append("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"); expected.add(new Expect(200, "Hello, World!\n", false)); }
                }
            }
            final String last = switch ((int)(seed % 4))
            {
                case 0 -> "GET /" + "a".repeat(8300); // nothing follows: the server reads it all, so its close is not a reset
                case 1 -> "GET /hello HTTP/1.1\r\nHost: t\r\nX: " + "a".repeat(8300);
                case 2 -> "PUT /kv/big HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999\r\n\r\n";
                default -> "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
            };
            final int lastStatus = switch ((int)(seed % 4)) { case 0 -> 414; case 1 -> 431; case 2 -> 413; default -> 200; };
            wire.append(last);
            expected.add(new Expect(lastStatus, null, false));
            final byte[] bytes = wire.toString().getBytes(StandardCharsets.ISO_8859_1);
            try (RawHttp raw = new RawHttp(server.port()))
            {
                final OutputStream out = raw.socket.getOutputStream();
                int at = 0;
                while (at < bytes.length)
                {
                    final int n = Math.min(bytes.length - at, 1 + rnd.nextInt(rnd.nextBoolean() ? 7 : 400));
                    out.write(bytes, at, n);
                    out.flush();
                    at += n;
                    if (rnd.nextInt(8) == 0)
                    {
                        Thread.sleep(1);
                    }
                }
                for (int i = 0; i < expected.size(); i++)
                {
                    final Expect e = expected.get(i);
                    final RawHttp.Response r = raw.read(e.head());
                    assertEquals(e.status(), r.status(), "seed " + seed + " response " + i);
                    if (e.body() != null)
                    {
                        assertEquals(e.body(), r.text(), "seed " + seed + " response " + i);
                    }
                }
                assertTrue(raw.closedByServer(), "seed " + seed + ": closes after the last, and nothing extra was sent");
            }
        }
    }

    @Test
    @Timeout(60)
    void withFinishHalfClosedPipelinedRequestsHeldBackByBackpressureAreStillAnswered() throws Exception
    {
        Files.write(root.resolve("big.bin"), new byte[256 * 1024]);
        server = new DemoServerFixture(root, "--finish-half-closed");
        final int n = 40;
        try (Socket s = new Socket("127.0.0.1", server.port()))
        {
            s.setSoTimeout(10_000);
            final StringBuilder wire = new StringBuilder();
            for (int i = 0; i < n; i++)
            {
                wire.append("GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
            }
            s.getOutputStream().write(wire.toString().getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            Thread.sleep(300); // let the server fill the socket and stop on backpressure
            s.shutdownOutput();
            final InputStream in = s.getInputStream();
            final long total = in.transferTo(OutputStream.nullOutputStream());
            final long perResponse = 256 * 1024;
            assertEquals(n, total / perResponse, "all " + n + " responses arrive before the server closes (got " + total + " bytes)");
        }
    }

    @Test
    @Timeout(120)
    void clientsResettingMidResponseMidBodyAndAfter100ContinueLeakNothing() throws Exception
    {
        Files.write(root.resolve("big.bin"), new byte[4 << 20]);
        server = new DemoServerFixture(root, Duration.ofSeconds(30), Duration.ofSeconds(2), 0);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            final byte[] v = new byte[(1 << 20) - 4096]; // within a partition's 1 MiB share, key and entry included
            java.util.Arrays.fill(v, (byte)'v');
            raw.send("PUT /kv/bigv HTTP/1.1\r\nHost: t\r\nContent-Length: " + v.length + "\r\n\r\n");
            raw.socket.getOutputStream().write(v);
            assertEquals(201, raw.read().status());
        }
        for (int round = 0; round < 30; round++)
        {
            try (Socket s = new Socket("127.0.0.1", server.port()))
            {
                s.setSoTimeout(10_000);
                final String req = switch (round % 6)
                {
                    case 0 -> "GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n";
                    case 1 -> "GET /kv/bigv HTTP/1.1\r\nHost: t\r\n\r\nGET /kv/bigv HTTP/1.1\r\nHost: t\r\n\r\nGET /slow?ms=50 HTTP/1.1\r\nHost: t\r\n\r\n";
                    case 2 -> "PUT /kv/x HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(30000);
                    case 3 -> "PUT /kv/y HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n";
                    case 4 -> "PUT /kv/z HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + "1\r\nq\r\n".repeat(3000);
                    default -> "GET /slow?ms=200 HTTP/1.1\r\nHost: t\r\n\r\nGET /kv/bigv HTTP/1.1\r\nHost: t\r\n\r\n";
                };
                s.getOutputStream().write(req.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                if (round % 6 <= 1 || round % 6 == 3)
                {
                    s.getInputStream().readNBytes(1 + round * 997 % 20000);
                }
                else
                {
                    Thread.sleep(round % 3 * 20);
                }
                s.setSoLinger(true, 0); // RST
            }
        }
        awaitDown(() -> server.service.transportStats().open(), "open connections");
        awaitDown(server::chunksInUse, "chunks in use with no connection open");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, raw.read().status(), "still serving");
        }
    }

    @Test
    @Timeout(60)
    void smugglingAndOddTargetsEachGetOneAnswerAndNothingHangs() throws Exception
    {
        server = new DemoServerFixture(root);
        final String[] probes = {
            "GET http://t/hello HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET http://t HTTP/1.1\r\nHost: t\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n",
            "CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n",
            "GET /hel\u0000lo HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /hello HTTP/1.1\r\nHost: t\r\nX: a\u0000b\r\n\r\n",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nx\r\n0\r\n\r\n",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
            "PUT /kv/o HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\nx",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nContent-Length: +1\r\n\r\nx",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nContent-Length : 1\r\n\r\nx",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n",
            "PUT /kv/o HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n",
            "GET /hello HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n",
            "GET /hello HTTP/2.0\r\nHost: t\r\n\r\n",
            "GET /hello HTTP/1.10\r\nHost: t\r\n\r\n",
            "GET  /hello HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /hello HTTP/1.1\r\n Host: t\r\n\r\n",
            "GET /hello\r\n\r\n",
            "GET /files/%2e%2e/x HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /kv/%00 HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /slow?ms=abc HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /slow?ms=99999999999 HTTP/1.1\r\nHost: t\r\n\r\n",
        };
        final StringBuilder report = new StringBuilder();
        for (int i = 0; i < probes.length; i++)
        {
            try (RawHttp raw = new RawHttp(server.port()))
            {
                raw.socket.setSoTimeout(5_000);
                raw.send(probes[i]);
                String got;
                try
                {
                    final RawHttp.Response r = raw.read();
                    got = r.status() + " " + r.text().trim() + " next:";
                    try
                    {
                        raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
                        got += raw.read().status();
                    }
                    catch (final java.io.IOException ex)
                    {
                        got += "closed";
                    }
                }
                catch (final java.io.IOException ex)
                {
                    got = "EXC " + ex;
                }
                report.append("PROBE ").append(i).append(": ").append(got).append('\n');
            }
        }
        System.out.println(report);
        assertTrue(report.indexOf("EXC") < 0, "every probe is answered:\n" + report);
        assertTrue(report.indexOf("PROBE 0: 200 Hello") >= 0, "an absolute-form target is routed by its path:\n" + report);
    }

    @Test
    @Timeout(60)
    void staticFileRangesAndOddPathsEachGetOneAnswer() throws Exception
    {
        Files.writeString(root.resolve("f.txt"), "0123456789abcdef");
        Files.createDirectories(root.resolve("d"));
        server = new DemoServerFixture(root);
        final String[] probes = {
            "bytes=0-0,2-3", "bytes=-0", "bytes=5-2", "bytes=0-99999999999999999999", "bytes=-99999999999999999999",
            "bytes=15-", "bytes=16-", "bytes=-16", "bytes=-17", "bytes= 1-2", "bytes=1-2,", "Bytes=1-2", "bytes=0--1", "items=0-1",
        };
        final StringBuilder report = new StringBuilder();
        try (RawHttp raw = new RawHttp(server.port()))
        {
            for (final String range : probes)
            {
                raw.send("GET /files/f.txt HTTP/1.1\r\nHost: t\r\nRange: " + range + "\r\n\r\n");
                final RawHttp.Response r = raw.read();
                report.append("RANGE ").append(range).append(": ").append(r.status()).append(' ')
                    .append(r.header("content-range")).append(" [").append(r.text()).append("]\n");
            }
            for (final String path : new String[] {"/files/", "/files", "/files/d", "/files/d/", "/files/f.txt/", "/files/f.txt%00",
                "/files/%66.txt", "/files//f.txt", "/files/./f.txt", "/files/d/../f.txt", "/files/%2e%2e%2ff.txt", "/files/f.txt?x=1",
                "/files/%zz", "/files/f.txt%2f"})
            {
                raw.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
                final RawHttp.Response r = raw.read();
                report.append("PATH ").append(path).append(": ").append(r.status()).append(" [")
                    .append(r.text().length() > 40 ? r.text().substring(0, 40) : r.text()).append("]\n");
            }
        }
        System.out.println(report);
        assertFalse(report.indexOf(": 500") >= 0, "no odd range or path is a server error:\n" + report);
        for (final String expected : new String[] {"RANGE bytes=15-: 206 bytes 15-15/16 [f]", "RANGE bytes=16-: 416 bytes */16 []",
            "RANGE bytes=-17: 206 bytes 0-15/16", "PATH /files/d/../f.txt: 400", "PATH /files/%2e%2e%2ff.txt: 400",
            "PATH /files/f.txt%00: 400", "PATH /files/%66.txt: 200"})
        {
            assertTrue(report.indexOf(expected) >= 0, expected + " in\n" + report);
        }
    }

    @Test
    @Timeout(90)
    void backpressuredPipelineOfFilesKvAndSlowResumesAndCancelRacesLeakNothing() throws Exception
    {
        Files.write(root.resolve("big.bin"), new byte[300_000]);
        server = new DemoServerFixture(root);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("PUT /kv/v HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n" + "v".repeat(200_000));
            assertEquals(201, raw.read().status());
            final StringBuilder wire = new StringBuilder();
            final List<Integer> lengths = new ArrayList<>();
            for (int i = 0; i < 60; i++)
            {
                switch (i % 4)
                {
                    case 0 -> { wire.append("GET /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n"); lengths.add(300_000); }
                    case 1 -> { wire.append("GET /kv/v HTTP/1.1\r\nHost: t\r\n\r\n"); lengths.add(200_000); }
                    case 2 -> { wire.append("GET /slow?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n"); lengths.add(-1); }
                    default -> { wire.append("HEAD /files/big.bin HTTP/1.1\r\nHost: t\r\n\r\n"); lengths.add(0); }
                }
            }
            raw.send(wire.toString());
            Thread.sleep(500); // the server stops on backpressure with requests still unparsed
            for (int i = 0; i < lengths.size(); i++)
            {
                final RawHttp.Response r = raw.read(lengths.get(i) == 0);
                assertEquals(200, r.status(), "response " + i);
                if (lengths.get(i) > 0)
                {
                    assertEquals((int)lengths.get(i), r.body().length, "response " + i);
                }
            }
        }
        for (int round = 0; round < 150; round++)
        {
            try (Socket s = new Socket("127.0.0.1", server.port()))
            {
                s.getOutputStream().write(("GET /kv/v HTTP/1.1\r\nHost: t\r\n\r\nGET /slow?ms=" + round % 3 +
                    " HTTP/1.1\r\nHost: t\r\n\r\nGET /kv/v HTTP/1.1\r\nHost: t\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                if (round % 2 == 0)
                {
                    s.shutdownOutput();
                }
                s.setSoLinger(true, 0);
            }
        }
        awaitDown(() -> server.service.transportStats().open(), "open connections");
        awaitDown(server::chunksInUse, "chunks in use with no connection open");
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /kv/v HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, raw.read().status(), "still serving");
        }
    }

    /**
     * Finding: /kv charged only value bytes to --kv-max-mib, so keys with empty values were free:
     * up to 100,000 entries per partition (6.4 million with 64 partitions, some 2 GB of heap for
     * 256-byte keys) for a store "bounded" at 1 MiB, an OutOfMemoryError for a 256 MiB server.
     */
    @Test
    @Timeout(60)
    void emptyValuesUnderLongKeysCannotGrowTheKvStorePastItsBudget() throws Exception
    {
        server = new DemoServerFixture(root, "--kv-max-mib", "1");
        final int batches = 100;
        final int perBatch = 100;
        int stored = 0;
        try (RawHttp raw = new RawHttp(server.port()))
        {
            for (int b = 0; b < batches; b++)
            {
                final StringBuilder wire = new StringBuilder();
                for (int i = 0; i < perBatch; i++)
                {
                    final String key = String.format("%08d", b * perBatch + i) + "k".repeat(KvStore.MAX_KEY_BYTES - 8);
                    wire.append("PUT /kv/").append(key).append(" HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
                }
                raw.send(wire.toString());
                for (int i = 0; i < perBatch; i++)
                {
                    final int status = raw.read().status();
                    if (status == 201)
                    {
                        stored++;
                    }
                    else
                    {
                        assertEquals(507, status);
                    }
                }
            }
        }
        // 1 MiB holds at most 4096 keys of 256 bytes, before any per-entry overhead.
        assertTrue(stored <= (1 << 20) / KvStore.MAX_KEY_BYTES, stored + " keys of 256 bytes stored in a 1 MiB store");
    }

    /**
     * Finding: the empty line a client may send after a request (RFC 9112 section 2.2: a server
     * ignores it) armed the request deadline, so an idle keep-alive connection got an unsolicited
     * 408 instead of closing quietly at its idle timeout.
     */
    @Test
    @Timeout(30)
    void aStrayCrlfAfterARequestIsIgnoredNotAnswered408() throws Exception
    {
        server = new DemoServerFixture(root, Duration.ofSeconds(1), Duration.ofMillis(100), 0);
        try (RawHttp raw = new RawHttp(server.port()))
        {
            raw.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, raw.read().status());
            raw.send("\r\n");
            final byte[] rest = raw.socket.getInputStream().readAllBytes(); // until the idle timeout closes it
            assertEquals("", new String(rest, StandardCharsets.ISO_8859_1), "nothing is sent for an empty line");
        }
    }
}
