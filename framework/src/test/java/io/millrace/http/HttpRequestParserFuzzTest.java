package io.millrace.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.millrace.memory.BufferAllocator;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.LeakReport;
import io.millrace.memory.SlabArena;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ScatteringByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.millrace.http.HttpRequestParser.BODY_PART;
import static io.millrace.http.HttpRequestParser.COMPLETE;
import static io.millrace.http.HttpRequestParser.ERROR;
import static io.millrace.http.HttpRequestParser.NEED_MORE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes {@link HttpRequestParser} with Jazzer: without {@code JAZZER_FUZZ} each target runs once
 * per file of its seed corpus ({@code src/test/resources/io/millrace/http/HttpRequestParserFuzzTestInputs/<method>/})
 * as a regression test; with {@code JAZZER_FUZZ=1} it fuzzes (see docs/testing.md).
 *
 * <p>An input is one plan byte followed by the bytes a client sends. The plan byte's two low bits
 * pick the parser's limits ({@code '@'} the defaults, {@code 'A'} 64-byte heads and no body,
 * {@code 'B'} 128/16, {@code 'C'} 512/300: small limits reach the 413, 414 and 431 paths), its bit
 * 2 picks how the pooled read path keeps a body (a kept chain or a streaming listener), and the whole
 * byte with the input's length seeds the plan's split points. So a seed is a request with one
 * printable character in front.
 *
 * <p>The stream is parsed as a connection would: request after request, each one's leftover bytes
 * fed on after {@link HttpRequestParser#reset()}, until an error (the server closes) or the end.
 * What each request came to (its verdict, where it ended, its head and its body) must not depend on
 * how the bytes were split: whole, one byte at a time, at the plan's points, or in pooled chunks.
 * A parser whose framing depends on the split is one a request can be smuggled past.
 */
class HttpRequestParserFuzzTest
{
    /** The statuses the parser may answer with; anything else is a bug. */
    private static final Set<Integer> STATUSES = Set.of(400, 413, 414, 417, 431, 501, 505);
    /** {maxHeaderBytes, maxBodyBytes} for each value of the plan's two low bits. */
    private static final int[][] LIMITS = {
        {HttpRequestParser.DEFAULT_MAX_HEADER_BYTES, HttpRequestParser.DEFAULT_MAX_BODY_BYTES},
        {64, 0},
        {128, 16},
        {512, 300},
    };
    /** Inputs longer than this are cut: the fuzzer's own are far shorter; this bounds a hand-made seed's cost. */
    private static final int MAX_STREAM = 1 << 16;
    private static final byte[] NEXT_REQUEST = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** Small chunks, so that heads and bodies cross descriptors; every buffer tracked. */
    private static final LeakDetector LEAKS = LeakDetector.paranoid();
    private static final List<LeakReport> LEAK_REPORTS = new CopyOnWriteArrayList<>();
    private static final SlabArena ARENA = SlabArena.builder()
        .chunkSize(128).slabSize(128 * 64).initialSlabs(1).maxSlabs(4096)
        .leakDetector(LEAKS.onLeak(LEAK_REPORTS::add))
        .build();
    /** An allocator belongs to the first thread that uses it; JUnit and the fuzzer may use more than one. */
    private static final ThreadLocal<BufferAllocator> ALLOCATOR =
        ThreadLocal.withInitial(() -> ARENA.newAllocator("fuzz-" + Thread.currentThread().getName()));

    /**
     * The parser alone on heap buffers: the stream fed whole, one byte at a time and at the plan's
     * split points must come to the same requests; a parser reused after {@code reset()} must
     * parse what follows a request as a new parser does.
     */
    @FuzzTest(maxDuration = "10s")
    void parser(final byte[] input)
    {
        if (input == null || input.length == 0)
        {
            return;
        }
        final int plan = input[0] & 0xFF;
        final byte[] stream = Arrays.copyOfRange(input, 1, Math.min(input.length, 1 + MAX_STREAM));
        final int[] limits = LIMITS[plan & 3];

        final List<String> whole = parse(stream, limits, new int[] {stream.length});
        assertEquals(whole, parse(stream, limits, oneByteEach(stream.length)), "fed one byte at a time");
        assertEquals(whole, parse(stream, limits, splits(plan, stream.length)), "fed at the plan's split points");

        // Pipelining: after the first request, a reset parser reads the rest as a new one does.
        if (whole.size() > 1 && whole.get(0).startsWith("COMPLETE"))
        {
            final int first = requestLength(whole.get(0));
            final byte[] rest = Arrays.copyOfRange(stream, first, stream.length);
            assertEquals(whole.subList(1, whole.size()), parse(rest, limits, new int[] {rest.length}),
                "the bytes after the first request, parsed by a new parser");
        }
    }

    /**
     * The server's read path: the stream arrives in a connection's inbound chain of pooled chunks
     * (read through {@link BufferChain#readFrom}, in reads of the plan's sizes) and is parsed
     * descriptor by descriptor as {@link RequestReader} does, body parts sliced or copied into a
     * chain of their own or handed to a streaming listener. The requests must come out as on the
     * heap, and once everything is released no chunk, descriptor or chain may be held and the
     * paranoid leak detector must have nothing to report.
     */
    @FuzzTest(maxDuration = "10s")
    void pooledReadPath(final byte[] input)
    {
        if (input == null || input.length == 0)
        {
            return;
        }
        final int plan = input[0] & 0xFF;
        final byte[] stream = Arrays.copyOfRange(input, 1, Math.min(input.length, 1 + MAX_STREAM));
        final int[] limits = LIMITS[plan & 3];
        final boolean streaming = (plan & 4) != 0;
        final BufferAllocator allocator = ALLOCATOR.get();

        final List<String> expected = parse(stream, limits, new int[] {stream.length});
        final List<String> pooled = new PooledConnection(allocator, limits, streaming).run(stream, splits(plan, stream.length));
        assertEquals(expected, pooled, "parsed from pooled chunks");

        assertEquals(0, allocator.chunkStats().live(), () -> "chunks held after the input: " + allocator.chunkStats());
        assertEquals(0, allocator.descriptorStats().live(), () -> "descriptors held: " + allocator.descriptorStats());
        assertEquals(0, allocator.chainStats().live(), () -> "chains held: " + allocator.chainStats());
        assertEquals(0, LEAKS.tracked(), "tracked buffers not released");
        LEAKS.poll();
        assertEquals(0, LEAKS.leaksReported(), () -> "leaks: " + LEAK_REPORTS);
    }

    // ---- the heap harness ------------------------------------------------------------------

    /**
     * Feeds {@code stream} in pieces of the given lengths (0 allowed) to one parser, request after
     * request, checking the parser's contract at every call.
     *
     * @return one line per request: its verdict, length, head and body; a last line for a request
     *         cut short by the end of the stream
     */
    static List<String> parse(final byte[] stream, final int[] limits, final int[] pieces)
    {
        final HttpRequestParser parser = new HttpRequestParser(limits[0], limits[1]);
        final List<String> requests = new ArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        int requestStart = 0;
        int from = 0;
        for (final int piece : pieces)
        {
            final ByteBuffer src = ByteBuffer.wrap(stream, from, piece);
            from += piece;
            while (true)
            {
                final int before = src.position();
                final int result = parser.feed(src);
                final int after = src.position();
                assertTrue(after >= before && after <= from, "position moved outside the piece");
                if (result == NEED_MORE)
                {
                    assertFalse(src.hasRemaining(), "NEED_MORE must consume everything");
                    assertFalse(parser.isComplete(), "NEED_MORE on a complete request");
                    break;
                }
                if (result == BODY_PART)
                {
                    final int n = parser.partLength();
                    assertTrue(n > 0 && n <= after - before, () -> "part of " + n + " bytes after consuming " + (after - before));
                    assertTrue(parser.headComplete(), "a body part before the head is complete");
                    body.write(stream, after - n, n);
                    assertEquals(body.size(), parser.bodyReceived(), "body parts must sum to bodyReceived()");
                    assertTrue(parser.bodyReceived() <= limits[1], "body over the limit");
                    continue;
                }
                if (result == COMPLETE)
                {
                    assertIdle(parser, src, COMPLETE);
                    assertFraming(stream, requestStart, after - requestStart, parser, limits);
                    requests.add(complete(parser, after - requestStart, body.toByteArray()));
                    parser.reset();
                    body.reset();
                    requestStart = after;
                    continue;
                }
                assertEquals(ERROR, result, "feed's result");
                assertIdle(parser, src, ERROR);
                if (parser.errorStatus() == 414 || parser.errorStatus() == 431)
                {
                    assertTrue(after - requestStart > limits[0], "a head (or head and trailers) within the limit, refused as too large");
                }
                requests.add("ERROR " + parser.errorStatus() + " after " + (after - requestStart) + " bytes: " + parser.errorReason());
                return requests; // the server answers and closes: nothing after an error is read
            }
        }
        if (from != requestStart || parser.headComplete())
        {
            requests.add("PARTIAL " + (from - requestStart) + " bytes, head " + parser.headComplete() + ", body " +
                hex(body.toByteArray()));
        }
        return requests;
    }

    /** After COMPLETE or ERROR the parser consumes nothing and answers the same until reset. */
    private static void assertIdle(final HttpRequestParser parser, final ByteBuffer src, final int verdict)
    {
        final int position = src.position();
        assertEquals(verdict, parser.feed(src), "the verdict again");
        assertEquals(position, src.position(), "fed again after its verdict, the parser consumed bytes");
        final ByteBuffer more = ByteBuffer.wrap(NEXT_REQUEST);
        assertEquals(verdict, parser.feed(more), "the verdict again, with more bytes");
        assertEquals(0, more.position(), "fed more bytes after its verdict, the parser consumed some");
        if (verdict == ERROR)
        {
            assertTrue(STATUSES.contains(parser.errorStatus()), () -> "error status " + parser.errorStatus());
            assertNotNull(parser.errorReason(), "an error without a reason");
            assertFalse(parser.keepAlive(), "keep-alive after an error");
            assertFalse(parser.isComplete(), "complete and failed");
        }
        else
        {
            assertEquals(0, parser.errorStatus(), "an error status on a complete request");
            assertTrue(parser.isComplete() && parser.headComplete(), "COMPLETE but not complete");
        }
    }

    /**
     * The framing, worked out independently of the parser: a head ends at the first CRLF CRLF after
     * the empty lines that may precede it (a bare CR or LF is refused, so no other line break can
     * end it), a body with a Content-Length is exactly that long, and a chunked body ends with the
     * CRLF after its last chunk or trailer field.
     */
    private static void assertFraming(final byte[] s, final int start, final int length, final HttpRequestParser p,
        final int[] limits)
    {
        final int end = start + length;
        int i = start;
        while (i + 1 < end && s[i] == '\r' && s[i + 1] == '\n')
        {
            i += 2;
        }
        int headEnd = -1;
        for (int j = i; j + 3 < end; j++)
        {
            if (s[j] == '\r' && s[j + 1] == '\n' && s[j + 2] == '\r' && s[j + 3] == '\n')
            {
                headEnd = j + 4;
                break;
            }
        }
        assertTrue(headEnd > 0, "a complete request without the CRLF CRLF that ends its head");
        assertTrue(headEnd - start <= limits[0], "a head over the limit, accepted");
        if (p.chunked())
        {
            assertTrue(end - headEnd >= 5 && s[end - 4] == '\r' && s[end - 3] == '\n' && s[end - 2] == '\r' && s[end - 1] == '\n',
                "a chunked body that does not end in CRLF CRLF");
        }
        else
        {
            assertEquals(headEnd + Math.max(0, p.contentLength()), end, "request length other than head + Content-Length");
        }
    }

    /** Checks a complete request's accessors and describes it. */
    private static String complete(final HttpRequestParser p, final int length, final byte[] body)
    {
        assertEquals(body.length, p.bodyReceived(), "body parts must sum to bodyReceived()");
        if (p.chunked())
        {
            assertEquals(-1, p.contentLength(), "chunked with a Content-Length");
            assertEquals(1, p.versionMinor(), "chunked in HTTP/1.0");
        }
        else
        {
            assertEquals(Math.max(0, p.contentLength()), p.bodyReceived(), "a body other than its Content-Length");
        }
        assertEquals(p.bodyReceived() > 0, p.hasBody(), "hasBody()");
        assertNotNull(p.method(), "method");
        assertTrue(p.versionMinor() == 0 || p.versionMinor() == 1, "version");
        final String path = p.path();
        assertEquals(path, new String(p.pathArray(), p.pathStart(), p.pathEnd() - p.pathStart(), StandardCharsets.ISO_8859_1),
            "path() and pathArray() disagree");
        if (!"CONNECT".equals(p.method()) && !"*".equals(p.target()))
        {
            assertTrue(path.startsWith("/"), () -> "path " + path);
        }
        if (p.target().startsWith("/"))
        {
            assertEquals(p.target(), path + (p.query() == null ? "" : "?" + p.query()), "origin-form target, path and query");
        }
        if (p.versionMinor() == 1)
        {
            assertNotNull(p.header("host"), "HTTP/1.1 without Host");
        }
        final StringBuilder sb = new StringBuilder("COMPLETE ").append(length).append(" bytes: ")
            .append(p.method()).append(' ').append(p.target()).append(" HTTP/1.").append(p.versionMinor())
            .append(" path=").append(path).append(" query=").append(p.query())
            .append(" keepAlive=").append(p.keepAlive()).append(" chunked=").append(p.chunked())
            .append(" contentLength=").append(p.contentLength()).append(" continue=").append(p.expectsContinue());
        for (int i = 0; i < p.headerCount(); i++)
        {
            final String name = p.headerName(i);
            int first = 0;
            while (!p.headerName(first).equalsIgnoreCase(name))
            {
                first++;
            }
            assertEquals(p.headerValue(first), p.header(name), "header(name) is the first field of that name");
            sb.append(" [").append(name).append(": ").append(p.headerValue(i)).append(']');
        }
        return sb.append(" body=").append(hex(body)).toString();
    }

    private static int requestLength(final String line)
    {
        return Integer.parseInt(line.substring("COMPLETE ".length(), line.indexOf(' ', "COMPLETE ".length())));
    }

    private static int[] oneByteEach(final int length)
    {
        final int[] pieces = new int[length];
        Arrays.fill(pieces, 1);
        return pieces;
    }

    /**
     * The plan's pieces: lengths up to a bound the plan picks (1 to 512 bytes), a few of them
     * empty, adding up to {@code length}.
     */
    static int[] splits(final int plan, final int length)
    {
        final SplittableRandom random = new SplittableRandom(plan * 0x9E3779B97F4A7C15L + length);
        final int[] bounds = {1, 2, 3, 5, 8, 16, 64, 512};
        final int bound = bounds[(plan >>> 3) & 7];
        final List<Integer> pieces = new ArrayList<>();
        int left = length;
        while (left > 0)
        {
            final int n = random.nextInt(8) == 0 ? 0 : Math.min(left, 1 + random.nextInt(bound));
            pieces.add(n);
            left -= n;
        }
        return pieces.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String hex(final byte[] bytes)
    {
        final StringBuilder sb = new StringBuilder(bytes.length * 2 + 8).append(bytes.length).append(':');
        for (final byte b : bytes)
        {
            sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return sb.toString();
    }

    // ---- the pooled read path --------------------------------------------------------------

    /**
     * One connection's inbound side as the server has it: reads land in a pooled chain through
     * {@link BufferChain#readFrom}, and {@link #readRequest()} is {@link RequestReader#read}'s
     * loop (which needs a live connection) with the same slicing and copying of body parts.
     */
    private static final class PooledConnection
    {
        private final BufferAllocator allocator;
        private final int[] limits;
        private final boolean streaming;
        private final HttpRequestParser parser;
        private final BufferChain inbound;
        private final List<String> requests = new ArrayList<>();
        /** The kept body, as RequestReader's keep() builds it: a slice of the input, then copies. */
        private BufferChain requestBody;
        /** What a streaming listener was handed. */
        private final ByteArrayOutputStream streamed = new ByteArrayOutputStream();
        private long consumed;

        PooledConnection(final BufferAllocator allocator, final int[] limits, final boolean streaming)
        {
            this.allocator = allocator;
            this.limits = limits;
            this.streaming = streaming;
            this.parser = new HttpRequestParser(limits[0], limits[1]);
            this.inbound = allocator.newChain().touch("fuzzed inbound");
        }

        List<String> run(final byte[] stream, final int[] reads)
        {
            try
            {
                final Source source = new Source(stream);
                for (final int n : reads)
                {
                    if (n == 0)
                    {
                        continue;
                    }
                    source.allow(n);
                    for (int left = n; left > 0; )
                    {
                        // One read fills at most 64 descriptors, as on a socket.
                        final long read = inbound.readFrom(source, allocator, left);
                        assertTrue(read > 0, "a read of a non-empty stream");
                        left -= (int)read;
                    }
                    if (!drain())
                    {
                        return requests;
                    }
                }
                if (consumed != 0 || parser.headComplete())
                {
                    requests.add("PARTIAL " + consumed + " bytes, head " + parser.headComplete() + ", body " + hex(body()));
                }
                return requests;
            }
            catch (final java.io.IOException ex)
            {
                throw new AssertionError(ex);
            }
            finally
            {
                if (requestBody != null)
                {
                    requestBody.release();
                }
                inbound.release();
            }
        }

        /** Parses requests while whole ones are there. @return false after an error: the connection closes */
        private boolean drain()
        {
            while (true)
            {
                final int answer = readRequest();
                if (answer == NEED_MORE)
                {
                    return true;
                }
                if (answer == ERROR)
                {
                    requests.add("ERROR " + parser.errorStatus() + " after " + consumed + " bytes: " + parser.errorReason());
                    return false;
                }
                // The server reuses the parser for the next request on the connection.
                requests.add(complete(parser, (int)consumed, body()));
                if (requestBody != null)
                {
                    requestBody.release();
                    requestBody = null;
                }
                streamed.reset();
                parser.reset();
                consumed = 0;
            }
        }

        /** RequestReader.read without the routing. @return NEED_MORE, COMPLETE or ERROR */
        private int readRequest()
        {
            BufferDescriptor d;
            int turns = 0;
            while ((d = inbound.first()) != null)
            {
                if (++turns > 1_000_000)
                {
                    fail("the read path does not advance");
                }
                if (d.length() == 0)
                {
                    inbound.removeFirst().release();
                    continue;
                }
                final ByteBuffer view = d.readableBuffer();
                final int base = view.position();
                final int result = parser.feed(view);
                final int used = view.position() - base;
                consumed += used;
                if (result == BODY_PART)
                {
                    final int n = parser.partLength();
                    takePart(d, view, base, base + used - n, n);
                    view.limit(base + (int)d.length()).position(base + used);
                }
                if (used == d.length())
                {
                    inbound.removeFirst().release();
                }
                else
                {
                    d.skip(used);
                }
                if (result == COMPLETE || parser.isComplete())
                {
                    return COMPLETE;
                }
                if (result == ERROR)
                {
                    return ERROR;
                }
            }
            return NEED_MORE;
        }

        /** RequestReader.takePart, stream() and keep(), without the budget. */
        private void takePart(final BufferDescriptor d, final ByteBuffer view, final int base, final int at, final int n)
        {
            if (streaming)
            {
                final BufferChain part = allocator.newChain();
                try
                {
                    part.append(allocator.slice(d, at - base, n));
                    final ByteBuffer b = part.first().readableBuffer();
                    final byte[] bytes = new byte[b.remaining()];
                    b.get(bytes);
                    streamed.writeBytes(bytes);
                }
                finally
                {
                    part.release();
                }
                return;
            }
            if (requestBody == null)
            {
                requestBody = allocator.newChain().touch("fuzzed request body");
                requestBody.append(allocator.slice(d, at - base, n));
                return;
            }
            view.limit(at + n).position(at);
            while (view.hasRemaining())
            {
                BufferDescriptor last = requestBody.last();
                if (last.writableBytes() == 0)
                {
                    last = allocator.allocate();
                    requestBody.append(last);
                }
                last.put(view);
            }
        }

        private byte[] body()
        {
            if (streaming)
            {
                return streamed.toByteArray();
            }
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (BufferDescriptor d = requestBody == null ? null : requestBody.first(); d != null; d = d.next())
            {
                final ByteBuffer b = d.readableBuffer();
                final byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.writeBytes(bytes);
            }
            assertTrue(out.size() <= limits[1], "kept body over the limit");
            return out.toByteArray();
        }
    }

    /** A socket that delivers the stream, at most {@link #allow} bytes per read. */
    private static final class Source implements ScatteringByteChannel
    {
        private final byte[] stream;
        private int position;
        private int allowed;

        Source(final byte[] stream)
        {
            this.stream = stream;
        }

        void allow(final int n)
        {
            allowed = n;
        }

        @Override
        public long read(final ByteBuffer[] dsts, final int offset, final int length)
        {
            if (position == stream.length)
            {
                return -1;
            }
            long total = 0;
            for (int i = offset; i < offset + length && allowed > 0 && position < stream.length; i++)
            {
                final int n = Math.min(Math.min(allowed, dsts[i].remaining()), stream.length - position);
                dsts[i].put(stream, position, n);
                position += n;
                allowed -= n;
                total += n;
            }
            return total;
        }

        @Override
        public long read(final ByteBuffer[] dsts)
        {
            return read(dsts, 0, dsts.length);
        }

        @Override
        public int read(final ByteBuffer dst)
        {
            return (int)read(new ByteBuffer[] {dst}, 0, 1);
        }

        @Override
        public boolean isOpen()
        {
            return true;
        }

        @Override
        public void close()
        {
        }
    }
}
