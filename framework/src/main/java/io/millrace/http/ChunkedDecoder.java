package io.millrace.http;

import java.nio.ByteBuffer;

import static io.millrace.http.HttpSyntax.CR;
import static io.millrace.http.HttpSyntax.LF;
import static io.millrace.http.HttpSyntax.hexValue;
import static io.millrace.http.HttpSyntax.isFieldByte;
import static io.millrace.http.HttpSyntax.isOws;
import static io.millrace.http.HttpSyntax.isTchar;

/**
 * Decodes the chunked transfer coding (RFC 9112 section 7.1), byte by byte for the framing; chunk
 * data is not copied but reported as body parts (ranges of the caller's buffer), so that input
 * split anywhere decodes the same and a body takes no memory here.
 *
 * <p>Strict where laxness lets two parsers disagree about where a message ends: every line ends in
 * CRLF (a bare LF or CR is an error), chunk data must be followed by exactly CRLF, a chunk size has
 * at most 16 hex digits and must fit a long. Chunk extensions are checked for stray control bytes
 * and otherwise ignored, but their total length is bounded, as is the trailer section, whose fields
 * are validated and dropped.
 */
final class ChunkedDecoder
{
    private static final int SIZE = 0;
    private static final int SIZE_BWS = 1;
    private static final int EXTENSION = 2;
    private static final int SIZE_LF = 3;
    private static final int DATA = 4;
    private static final int DATA_CR = 5;
    private static final int DATA_LF = 6;
    private static final int TRAILER_START = 7;
    private static final int TRAILER_NAME = 8;
    private static final int TRAILER_VALUE = 9;
    private static final int TRAILER_LF = 10;
    private static final int END_LF = 11;
    private static final int DONE = 12;
    private static final int FAILED = 13;

    /** 16 hex digits are 64 bits; more can only be leading zeros or an overflow. */
    private static final int MAX_SIZE_DIGITS = 16;

    private final int maxExtensionBytes;
    private final String bodyTooLarge;
    private int state;
    private long size;
    private int digits;
    private long dataLeft;
    private int extensionBytes;
    private int trailerBytes;
    private int trailerBudget;
    private long maxBody;
    private long received;
    private int partLength;
    private int errorStatus;
    private String errorReason;

    /**
     * @param maxExtensionBytes bound on the chunk extensions of one message, all chunks together
     * @param bodyTooLarge      the reason given when the body passes its bound ({@link #bodyTooLarge()})
     */
    ChunkedDecoder(final int maxExtensionBytes, final String bodyTooLarge)
    {
        this.maxExtensionBytes = maxExtensionBytes;
        this.bodyTooLarge = bodyTooLarge;
    }

    /** @return after an error: whether it was the body's bound (rather than the framing or the trailers) */
    boolean bodyTooLarge()
    {
        return state == FAILED && errorReason == bodyTooLarge;
    }

    /**
     * Starts a new message.
     *
     * @param trailerBudget bytes the trailer section may take, CRLFs included
     * @param maxBodyBytes  bound on the decoded body, all chunks together (413 above it)
     */
    void reset(final int trailerBudget, final long maxBodyBytes)
    {
        this.trailerBudget = trailerBudget;
        this.maxBody = maxBodyBytes;
        received = 0;
        partLength = 0;
        state = SIZE;
        size = 0;
        digits = 0;
        dataLeft = 0;
        extensionBytes = 0;
        trailerBytes = 0;
        errorStatus = 0;
        errorReason = null;
    }

    int errorStatus()
    {
        return errorStatus;
    }

    String errorReason()
    {
        return errorReason;
    }

    /** @return after {@link HttpRequestParser#BODY_PART}: the part's length, just before {@code src}'s position */
    int partLength()
    {
        return partLength;
    }

    /** @return decoded body bytes so far */
    long received()
    {
        return received;
    }

    /**
     * Consumes from {@code src} up to the end of the message and no further, stopping after each
     * run of chunk data so that the caller can take it.
     *
     * @return {@link HttpRequestParser#NEED_MORE}, {@link HttpRequestParser#BODY_PART},
     *         {@link HttpRequestParser#COMPLETE} or {@link HttpRequestParser#ERROR}
     */
    int feed(final ByteBuffer src)
    {
        while (src.hasRemaining())
        {
            if (state == DATA)
            {
                final int n = (int)Math.min(src.remaining(), dataLeft);
                src.position(src.position() + n);
                dataLeft -= n;
                received += n;
                partLength = n;
                if (dataLeft == 0)
                {
                    state = DATA_CR;
                }
                return HttpRequestParser.BODY_PART;
            }
            if (state == DONE || state == FAILED)
            {
                break;
            }
            final int b = src.get() & 0xFF;
            if (state >= TRAILER_START && ++trailerBytes > trailerBudget)
            {
                return fail(431, "trailer section too large");
            }
            if (!step(b))
            {
                return HttpRequestParser.ERROR;
            }
            if (state == DONE)
            {
                return HttpRequestParser.COMPLETE;
            }
        }
        return state == DONE ? HttpRequestParser.COMPLETE
            : state == FAILED ? HttpRequestParser.ERROR : HttpRequestParser.NEED_MORE;
    }

    private boolean step(final int b)
    {
        switch (state)
        {
            case SIZE:
                final int hex = hexValue(b);
                if (hex >= 0)
                {
                    // The top nibble must be clear before a shift, or the size would not fit a long.
                    if (++digits > MAX_SIZE_DIGITS || (size >>> 59) != 0)
                    {
                        return failed(400, "chunk size too large");
                    }
                    size = (size << 4) | hex;
                    return true;
                }
                if (digits == 0)
                {
                    return failed(400, "missing chunk size");
                }
                return afterSize(b);
            case SIZE_BWS:
                return afterSize(b);
            case EXTENSION:
                if (b == CR)
                {
                    state = SIZE_LF;
                    return true;
                }
                if (!isFieldByte(b))
                {
                    return failed(400, "invalid byte in chunk extension");
                }
                if (++extensionBytes > maxExtensionBytes)
                {
                    return failed(413, "chunk extensions too long");
                }
                return true;
            case SIZE_LF:
                return b == LF ? startChunk() : failed(400, "bare CR in chunk size line");
            case DATA_CR:
                return expect(b, CR, DATA_LF, "chunk data not followed by CRLF");
            case DATA_LF:
                size = 0;
                digits = 0;
                return expect(b, LF, SIZE, "chunk data not followed by CRLF");
            case TRAILER_START:
                if (b == CR)
                {
                    state = END_LF;
                    return true;
                }
                if (isOws(b))
                {
                    return failed(400, "obsolete line folding in trailer section");
                }
                return isTchar(b) ? move(TRAILER_NAME) : failed(400, "invalid trailer field name");
            case TRAILER_NAME:
                if (b == ':')
                {
                    return move(TRAILER_VALUE);
                }
                return isTchar(b) ? true : failed(400, "invalid trailer field name");
            case TRAILER_VALUE:
                if (b == CR)
                {
                    return move(TRAILER_LF);
                }
                return isFieldByte(b) ? true : failed(400, "invalid byte in trailer field");
            case TRAILER_LF:
                return expect(b, LF, TRAILER_START, "bare CR in trailer section");
            case END_LF:
                return expect(b, LF, DONE, "bare CR after trailer section");
            default:
                throw new IllegalStateException("state " + state);
        }
    }

    /** After the size's digits: optional whitespace, then extensions or the end of the line. */
    private boolean afterSize(final int b)
    {
        if (b == CR)
        {
            // "1 \r\n" has whitespace that no extension follows: not in the grammar.
            return state == SIZE ? move(SIZE_LF) : failed(400, "invalid chunk size line");
        }
        if (b == ';')
        {
            return move(EXTENSION);
        }
        if (isOws(b))
        {
            return move(SIZE_BWS);
        }
        return failed(400, b == LF ? "bare LF in chunk size line" : "invalid chunk size");
    }

    private boolean startChunk()
    {
        if (size == 0)
        {
            return move(TRAILER_START);
        }
        // Only the limit is checked: nothing is reserved for the announced size, which a client may never send.
        if (size > maxBody - received)
        {
            return failed(413, bodyTooLarge);
        }
        dataLeft = size;
        return move(DATA);
    }

    private boolean expect(final int b, final int wanted, final int next, final String reason)
    {
        return b == wanted ? move(next) : failed(400, reason);
    }

    private boolean move(final int next)
    {
        state = next;
        return true;
    }

    private boolean failed(final int status, final String reason)
    {
        state = FAILED;
        errorStatus = status;
        errorReason = reason;
        return false;
    }

    private int fail(final int status, final String reason)
    {
        failed(status, reason);
        return HttpRequestParser.ERROR;
    }
}
