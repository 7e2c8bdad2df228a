package io.millrace.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static io.millrace.http.HttpResponseParser.BODY_PART;
import static io.millrace.http.HttpResponseParser.COMPLETE;
import static io.millrace.http.HttpResponseParser.ERROR;
import static io.millrace.http.HttpResponseParser.FINAL_HEAD;
import static io.millrace.http.HttpResponseParser.INTERIM_HEAD;
import static io.millrace.http.HttpResponseParser.NEED_MORE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Feeds a stream of responses to {@link HttpResponseParser} as a client connection would, in
 * pieces of given lengths, checking the parser's contract at every call, and describes what it
 * reported as lines that do not depend on the split: heads, whole bodies, verdicts and where they
 * came. A parser whose lines depend on how the bytes were split frames responses differently
 * depending on the network, which is how a proxy's connection pool gets desynchronized.
 */
final class ResponseHarness
{
    private ResponseHarness()
    {
    }

    static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Parses {@code stream}: response after response, each {@code reset(method)}, while the last
     * one kept the connection; then {@code endOfInput()} if {@code eof}.
     *
     * @return one line per head, verdict and end of input; {@code LEFT n} for bytes left after the
     *         last response the connection could carry
     */
    static List<String> parse(final HttpResponseParser p, final String method, final byte[] stream, final int[] pieces,
        final boolean eof)
    {
        final List<String> events = new ArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        p.reset(method);
        int from = 0;
        for (final int piece : pieces)
        {
            final ByteBuffer src = ByteBuffer.wrap(stream, from, piece);
            from += piece;
            while (true)
            {
                final int before = src.position();
                final boolean wasComplete = p.isComplete();
                final int result = p.feed(src);
                final int at = src.position();
                assertTrue(at >= before && at <= from, "position moved outside the piece");
                if (wasComplete)
                {
                    assertEquals(COMPLETE, result, "a complete response stays complete");
                }
                switch (result)
                {
                    case NEED_MORE -> assertFalse(src.hasRemaining(), "NEED_MORE must consume all it is given");
                    case INTERIM_HEAD ->
                    {
                        assertTrue(p.status() >= 100 && p.status() < 200 && p.status() != 101, () -> "interim status " + p.status());
                        assertFalse(p.headComplete(), "an interim head is not the final head");
                        events.add("INTERIM " + head(p) + " at " + at);
                    }
                    case FINAL_HEAD ->
                    {
                        assertTrue(p.headComplete(), "FINAL_HEAD with the head incomplete");
                        assertTrue(p.status() == 101 || p.status() >= 200 && p.status() <= 599, () -> "final status " + p.status());
                        assertEquals(p.status() == 101 || "CONNECT".equals(method) && p.status() < 300, p.upgraded(), "upgraded()");
                        assertFalse(p.upgraded() && p.keepAlive(), "a tunnel kept as HTTP");
                        assertFalse(p.closeDelimited() && p.keepAlive(), "a close-delimited body kept the connection");
                        events.add("FINAL " + head(p) + " " + framing(p) + " at " + at);
                    }
                    case BODY_PART ->
                    {
                        final int n = p.partLength();
                        assertTrue(n > 0 && n <= at - before, () -> "a body part of " + n + " bytes, " + (at - before) + " consumed");
                        body.write(stream, at - n, n);
                        assertEquals(body.size(), p.bodyReceived(), "body parts must sum to bodyReceived()");
                    }
                    case COMPLETE ->
                    {
                        complete(p, body, events, "COMPLETE at " + at);
                        assertEquals(at, src.position());
                        assertEquals(COMPLETE, p.feed(src), "feed after COMPLETE");
                        assertEquals(at, src.position(), "feed after COMPLETE consumed bytes");
                        if (!p.keepAlive())
                        {
                            events.add("LEFT " + (stream.length - at));
                            return events;
                        }
                        body.reset();
                        p.reset(method);
                    }
                    case ERROR ->
                    {
                        error(p, events, "ERROR at " + at);
                        assertEquals(ERROR, p.feed(src), "feed after ERROR");
                        assertEquals(at, src.position(), "feed after ERROR consumed bytes");
                        return events;
                    }
                    default -> fail("feed returned " + result);
                }
                if (result == NEED_MORE)
                {
                    break;
                }
            }
        }
        if (eof)
        {
            final int result = p.endOfInput();
            if (result == COMPLETE)
            {
                complete(p, body, events, "EOF COMPLETE");
            }
            else
            {
                assertEquals(ERROR, result, "endOfInput");
                error(p, events, "EOF ERROR");
            }
            assertEquals(result, p.endOfInput(), "endOfInput twice");
            assertEquals(result, p.feed(ByteBuffer.allocate(1)), "feed after endOfInput");
        }
        return events;
    }

    private static void complete(final HttpResponseParser p, final ByteArrayOutputStream body, final List<String> events,
        final String what)
    {
        assertTrue(p.isComplete() && p.headComplete(), "complete");
        assertNull(p.error());
        if (p.contentLength() >= 0 && p.hasBody() && !p.chunked())
        {
            assertEquals(p.contentLength(), body.size(), "a body other than its Content-Length");
        }
        if (!p.hasBody())
        {
            assertEquals(0, body.size(), "a body where there is none");
        }
        events.add(what + " body=" + text(body.toByteArray()));
    }

    private static void error(final HttpResponseParser p, final List<String> events, final String what)
    {
        assertNotNull(p.error(), "ERROR without a kind");
        assertNotNull(p.errorReason(), "ERROR without a reason");
        assertFalse(p.keepAlive(), "keepAlive after an error");
        events.add(what + " " + p.error() + ": " + p.errorReason());
    }

    static String head(final HttpResponseParser p)
    {
        final StringBuilder sb = new StringBuilder().append(p.status()).append(" HTTP/1.").append(p.versionMinor())
            .append(" '").append(p.reason()).append('\'');
        for (int i = 0; i < p.headerCount(); i++)
        {
            sb.append(" [").append(p.headerName(i)).append(": ").append(p.headerValue(i)).append(']');
        }
        return sb.toString();
    }

    static String framing(final HttpResponseParser p)
    {
        final String how = p.upgraded() ? "tunnel" : p.chunked() ? "chunked" : p.closeDelimited() ? "close"
            : p.hasBody() ? "length" : "none";
        return how + " cl=" + p.contentLength() + " keepAlive=" + p.keepAlive();
    }

    static String text(final byte[] bytes)
    {
        final StringBuilder sb = new StringBuilder();
        for (final byte b : bytes)
        {
            final int c = b & 0xFF;
            if (c >= 0x20 && c < 0x7F && c != '\\')
            {
                sb.append((char)c);
            }
            else
            {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    static int[] whole(final int length)
    {
        return new int[] {length};
    }

    static int[] oneByteEach(final int length)
    {
        final int[] pieces = new int[length];
        Arrays.fill(pieces, 1);
        return pieces;
    }

    static int[] splitAt(final int at, final int length)
    {
        return new int[] {at, length - at};
    }

    /** Pieces of 0 to {@code bound} bytes (a few empty) adding up to {@code length}, from a seed. */
    static int[] randomPieces(final long seed, final int bound, final int length)
    {
        final SplittableRandom random = new SplittableRandom(seed);
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

    /**
     * Parses {@code text} whole, one byte at a time, split in two at every position and in seeded
     * random pieces, each with a fresh parser of the given limits, and checks that all give the same.
     *
     * @return what the whole text gave
     */
    static List<String> splitInvariant(final String method, final String text, final boolean eof, final int maxHeaderBytes,
        final long maxBodyBytes)
    {
        final byte[] stream = bytes(text);
        final List<String> whole = parse(new HttpResponseParser(maxHeaderBytes, maxBodyBytes), method, stream,
            whole(stream.length), eof);
        assertEquals(whole, parse(new HttpResponseParser(maxHeaderBytes, maxBodyBytes), method, stream,
            oneByteEach(stream.length), eof), () -> "fed one byte at a time: " + text);
        final HttpResponseParser reused = new HttpResponseParser(maxHeaderBytes, maxBodyBytes);
        for (int at = 0; at <= stream.length; at++)
        {
            final int split = at;
            assertEquals(whole, parse(reused, method, stream, splitAt(at, stream.length), eof),
                () -> "split at " + split + ": " + text);
        }
        for (long seed = 1; seed <= 20; seed++)
        {
            final long s = seed;
            assertEquals(whole, parse(reused, method, stream, randomPieces(seed, 1 + (int)(seed % 7) * 3, stream.length), eof),
                () -> "random pieces, seed " + s + ": " + text);
        }
        return whole;
    }

    static List<String> splitInvariant(final String method, final String text, final boolean eof)
    {
        return splitInvariant(method, text, eof, HttpResponseParser.DEFAULT_MAX_HEADER_BYTES,
            HttpResponseParser.DEFAULT_MAX_BODY_BYTES);
    }
}
