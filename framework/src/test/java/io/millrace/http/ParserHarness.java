package io.millrace.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Feeds requests to a parser whole, split at every position, or one byte at a time. */
final class ParserHarness
{
    private ParserHarness()
    {
    }

    static ByteBuffer ascii(final String text)
    {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Feeds the whole text at once; returns the parser's verdict. */
    static int feedWhole(final HttpRequestParser parser, final String text)
    {
        return feed(parser, ascii(text));
    }

    private static final java.util.Map<HttpRequestParser, java.io.ByteArrayOutputStream> BODIES =
        java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

    /**
     * Feeds a heap buffer as the server's read path does: every body part the parser hands out is
     * collected (see {@link #body}) and feeding goes on.
     *
     * @return the first verdict other than BODY_PART
     */
    static int feed(final HttpRequestParser parser, final ByteBuffer src)
    {
        while (true)
        {
            final int r = parser.feed(src);
            if (r != HttpRequestParser.BODY_PART)
            {
                return r;
            }
            collect(parser, src);
        }
    }

    private static void collect(final HttpRequestParser parser, final ByteBuffer src)
    {
        final int n = parser.partLength();
        if (parser.bodyReceived() == n)
        {
            BODIES.remove(parser); // the first part of a new body
        }
        BODIES.computeIfAbsent(parser, p -> new java.io.ByteArrayOutputStream())
            .write(src.array(), src.arrayOffset() + src.position() - n, n);
    }

    /**
     * Feeds one byte at a time. Every byte before the verdict must give NEED_MORE and be consumed;
     * the verdict must come exactly at the byte that decides it.
     *
     * @return the verdict and how many bytes it took, as {@code {verdict, consumed}}
     */
    static int[] feedByteAtATime(final HttpRequestParser parser, final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < bytes.length; i++)
        {
            final ByteBuffer one = ByteBuffer.wrap(bytes, i, 1);
            final int result = feed(parser, one);
            if (result != HttpRequestParser.NEED_MORE)
            {
                return new int[] {result, i + (one.hasRemaining() ? 0 : 1)};
            }
            assertFalse(one.hasRemaining(), "NEED_MORE must consume the byte at " + i);
        }
        return new int[] {HttpRequestParser.NEED_MORE, bytes.length};
    }

    /**
     * Feeds the text in two pieces split at {@code at}, checking that the first piece alone does not
     * complete the request early.
     */
    static int feedSplit(final HttpRequestParser parser, final String text, final int at)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        final ByteBuffer first = ByteBuffer.wrap(bytes, 0, at);
        final int r1 = feed(parser, first);
        if (r1 != HttpRequestParser.NEED_MORE)
        {
            return r1;
        }
        assertEquals(0, first.remaining(), "NEED_MORE must consume everything");
        return feed(parser, ByteBuffer.wrap(bytes, at, bytes.length - at));
    }

    /** @return the body of the parser's last request, as fed through this harness */
    static String body(final HttpRequestParser parser)
    {
        final java.io.ByteArrayOutputStream b = parser.bodyReceived() == 0 ? null : BODIES.get(parser);
        return b == null ? "" : b.toString(StandardCharsets.ISO_8859_1);
    }
}
