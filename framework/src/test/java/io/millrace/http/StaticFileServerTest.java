package io.millrace.http;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.net.Connection;
import io.millrace.net.ConnectionHandler;
import io.millrace.net.TcpServer;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A demonstration of the intended use: a minimal HTTP/1.1 file server on {@link TcpServer} that
 * answers from {@link StaticFileHandler} and sends bodies with the owner-taking
 * {@code Connection.sendFile}. Its request parsing is the test's own, just enough for the test;
 * the point is the calls around the handler.
 */
@Timeout(60)
class StaticFileServerTest
{
    @TempDir
    Path temp;

    private Path root;
    private byte[] big;
    private Pipeline<Object> pipeline;
    private TcpServer server;
    private MiniFileServer files;

    @BeforeEach
    void start() throws IOException
    {
        root = Files.createDirectory(temp.resolve("root"));
        Files.writeString(root.resolve("index.html"), "<h1>hello</h1>");
        Files.writeString(root.resolve(".env"), "SECRET=1");
        big = new byte[8 << 20];
        for (int i = 0; i < big.length; i++)
        {
            big[i] = (byte)(i * 31 >>> 7);
        }
        Files.write(root.resolve("big.bin"), big);
        files = new MiniFileServer(new StaticFiles(root));
        server = TcpServer.builder(files).bind(new InetSocketAddress("127.0.0.1", 0)).sendBufferSize(64 * 1024).build();
        final PipelineBuilder<Object> b = Pipeline.builder();
        final StageRef<Object> noop = b.stage("noop");
        b.handle(noop, (r, ctx) -> Outcome.done());
        pipeline = b.name("static-files").workers(1).idle(Idle.backoff())
            .memory(SlabArena.builder().chunkSize(16 * 1024).slabSize(1 << 20).maxSlabs(16).leakDetector(LeakDetector.paranoid())
                .build())
            .io(server).build().start();
    }

    @AfterEach
    void stop()
    {
        pipeline.shutdown(Duration.ofSeconds(5));
    }

    @Test
    void servesFilesRangesAndHeadOverOneConnectionOpeningTheFileOnce() throws IOException
    {
        try (Socket s = connect())
        {
            for (int i = 0; i < 20; i++)
            {
                final Response r = get(s, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", true);
                assertEquals(200, r.status);
                assertEquals("<h1>hello</h1>", r.text());
                assertEquals("text/html; charset=utf-8", r.headers.get("content-type"));
                assertEquals("bytes", r.headers.get("accept-ranges"));
            }
            final Response range = get(s, "GET /index.html HTTP/1.1\r\nRange: bytes=4-8\r\n\r\n", true);
            assertEquals(206, range.status);
            assertEquals("hello", range.text());
            assertEquals("bytes 4-8/14", range.headers.get("content-range"));

            final Response head = get(s, "HEAD /index.html HTTP/1.1\r\nRange: bytes=4-8\r\n\r\n", false);
            assertEquals(200, head.status, "Range is for GET only");
            assertEquals("14", head.headers.get("content-length"));

            final Response notModified = get(s, "GET /index.html HTTP/1.1\r\nIf-Modified-Since: " +
                range.headers.get("last-modified") + "\r\n\r\n", true);
            assertEquals(304, notModified.status);
            assertEquals(0, notModified.body.length);

            final Response unsatisfiable = get(s, "GET /index.html HTTP/1.1\r\nRange: bytes=14-\r\n\r\n", true);
            assertEquals(416, unsatisfiable.status);
            assertEquals("bytes */14", unsatisfiable.headers.get("content-range"));

            assertEquals(404, get(s, "GET /.env HTTP/1.1\r\n\r\n", true).status);
            assertEquals(404, get(s, "GET /missing HTTP/1.1\r\n\r\n", true).status);
            assertEquals(400, get(s, "GET /../secret HTTP/1.1\r\n\r\n", true).status);
        }
        assertEquals(4, files.misses, "index.html resolved and opened once for 25 requests; .env, missing, ../secret once each");
    }

    @Test
    void anEntryEvictedWhileItsRegionIsQueuedIsSentWholeAndClosedAfterwards() throws IOException, InterruptedException
    {
        try (Socket s = connect())
        {
            // Pipelined: the big file's region is still queued when the second request evicts its entry.
            s.getOutputStream().write("GET /big.bin HTTP/1.1\r\n\r\nGET /index.html HTTP/1.1\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
            final Response first = read(s.getInputStream(), true);
            assertEquals(200, first.status);
            assertArrayEquals(big, first.body, "the evicted entry's channel stayed open until its region was sent");
            final Response second = read(s.getInputStream(), true);
            assertEquals("<h1>hello</h1>", second.text());
            final CachedFile evicted = files.firstEntry;
            assertFalse(evicted.isCached());
            final long deadline = System.nanoTime() + 5_000_000_000L;
            while (evicted.channel().isOpen() && System.nanoTime() < deadline)
            {
                Thread.sleep(5);
            }
            assertFalse(evicted.channel().isOpen(), "closed once evicted and sent");
        }
    }

    private Socket connect() throws IOException
    {
        final Socket s = new Socket("127.0.0.1", server.localAddress().getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    private static Response get(final Socket s, final String request, final boolean hasBody) throws IOException
    {
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        return read(s.getInputStream(), hasBody);
    }

    private record Response(int status, Map<String, String> headers, byte[] body)
    {
        String text()
        {
            return new String(body, StandardCharsets.US_ASCII);
        }
    }

    private static Response read(final InputStream in, final boolean hasBody) throws IOException
    {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n"))
        {
            final int b = in.read();
            if (b < 0)
            {
                throw new IOException("closed in the head: " + head);
            }
            head.write(b);
        }
        final String[] lines = head.toString(StandardCharsets.US_ASCII).split("\r\n");
        final Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++)
        {
            final int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).toLowerCase(java.util.Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        final int length = hasBody && headers.containsKey("content-length") ? Integer.parseInt(headers.get("content-length")) : 0;
        return new Response(Integer.parseInt(lines[0].substring(9, 12)), headers, in.readNBytes(length));
    }

    /**
     * The server core in miniature, on the connection's worker: finds complete request heads in the
     * inbound bytes, asks the handler, writes the head and sends the region.
     */
    private static final class MiniFileServer implements ConnectionHandler
    {
        private final StaticFiles files;
        /** Made on the worker thread, which then owns the cache; one worker here, one each in a real server. */
        private StaticFileHandler handler;
        private final StaticFileResult result = new StaticFileResult();
        private final AsciiView ims = new AsciiView();
        private final AsciiView range = new AsciiView();
        private final byte[] request = new byte[4096];
        private final ByteBuffer head = ByteBuffer.allocate(1024);
        volatile long misses;
        volatile CachedFile firstEntry;

        MiniFileServer(final StaticFiles files)
        {
            this.files = files;
        }

        @Override
        public void onOpen(final Connection c)
        {
            if (handler == null)
            {
                handler = new StaticFileHandler(OpenFileCache.builder(files).maxEntries(1).build());
            }
        }

        @Override
        public void onRead(final Connection c)
        {
            int end;
            while ((end = headEnd(c.inbound())) > 0)
            {
                final int n = take(c.inbound(), end);
                serve(c, n);
            }
        }

        private void serve(final Connection c, final int n)
        {
            // "METHOD /path HTTP/1.1\r\n" then fields; the test sends well-formed heads only.
            final int space = indexOf(request, 0, n, (byte)' ');
            final boolean isHead = space == 4 && request[0] == 'H';
            final int pathStart = space + 2; // after "/"
            final int pathEnd = indexOf(request, pathStart, n, (byte)' ');
            final CharSequence since = field(n, "if-modified-since", ims);
            final CharSequence ranges = isHead ? null : field(n, "range", range);
            handler.handle(request, pathStart, pathEnd - pathStart, since, ranges, null, result);
            misses = handler.cache().misses();
            if (firstEntry == null && result.cachedFile() != null)
            {
                firstEntry = result.cachedFile();
            }
            head.clear();
            head.put(("HTTP/1.1 " + result.status() + " " + ResponseEncoder.reason(result.status()) + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            final long length = result.status() >= 400 && result.status() != 416 ? 0 : result.contentLength();
            if (length >= 0)
            {
                head.put(("Content-Length: " + length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
            result.writeHeaders(head);
            head.put((byte)'\r').put((byte)'\n').flip();
            final BufferAllocator allocator = c.allocator();
            final BufferChain out = allocator.newChain();
            final BufferDescriptor d = allocator.allocate();
            d.put(head);
            out.append(d);
            if (!isHead && result.hasBody())
            {
                c.sendFile(out, result.channel(), result.bodyOffset(), result.bodyLength(), result.takeRegionOwner());
            }
            else
            {
                c.write(out);
                result.clear();
            }
        }

        private CharSequence field(final int n, final String name, final AsciiView view)
        {
            final String text = new String(request, 0, n, StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT);
            final int at = text.indexOf("\r\n" + name + ": ");
            if (at < 0)
            {
                return null;
            }
            final int from = at + name.length() + 4;
            return view.set(request, from, text.indexOf("\r\n", from) - from);
        }

        private static int indexOf(final byte[] bytes, final int from, final int to, final byte b)
        {
            for (int i = from; i < to; i++)
            {
                if (bytes[i] == b)
                {
                    return i;
                }
            }
            return to;
        }

        /** @return the length of the first complete head in {@code in}, or 0 */
        private static int headEnd(final BufferChain in)
        {
            int matched = 0;
            int index = 0;
            for (BufferDescriptor d = in.first(); d != null; d = d.next())
            {
                final ByteBuffer v = d.readableBuffer();
                for (int i = v.position(); i < v.limit(); i++, index++)
                {
                    matched = v.get(i) == "\r\n\r\n".charAt(matched) ? matched + 1 : v.get(i) == '\r' ? 1 : 0;
                    if (matched == 4)
                    {
                        return index + 1;
                    }
                }
            }
            return 0;
        }

        /** Moves {@code n} bytes from the front of {@code in} into {@link #request}. */
        private int take(final BufferChain in, final int n)
        {
            int got = 0;
            while (got < n)
            {
                final BufferDescriptor d = in.first();
                final ByteBuffer v = d.readableBuffer();
                final int k = Math.min(n - got, v.remaining());
                v.get(request, got, k);
                d.skip(k);
                got += k;
                if (d.length() == 0)
                {
                    in.removeFirst().release();
                }
            }
            Arrays.fill(request, n, Math.min(request.length, n + 1), (byte)0);
            return n;
        }
    }
}
