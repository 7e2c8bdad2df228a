package io.millrace.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The request line's method and target taken apart (RFC 9112 section 3.2): which form the target
 * has, its path and its query.
 */
final class RequestTarget
{
    /** The common methods, so that their Strings are shared instead of made per request. */
    private static final String[] KNOWN = Methods.NAMES;
    private static final byte[][] KNOWN_BYTES = new byte[KNOWN.length][];

    static
    {
        for (int i = 0; i < KNOWN.length; i++)
        {
            KNOWN_BYTES[i] = KNOWN[i].getBytes(StandardCharsets.US_ASCII);
        }
    }

    private RequestTarget()
    {
    }

    /**
     * @return the method in {@code bytes[start, end)} (already checked to be a token); null if it is not one of the known ones
     */
    static String method(final byte[] bytes, final int start, final int end)
    {
        for (int i = 0; i < KNOWN.length; i++)
        {
            if (Arrays.equals(bytes, start, end, KNOWN_BYTES[i], 0, KNOWN_BYTES[i].length))
            {
                return KNOWN[i];
            }
        }
        return null; // not a method this server implements: 501
    }

    /**
     * @return the index of {@code "://"} after a valid scheme at {@code bytes[start]}, or -1
     */
    static int schemeEnd(final byte[] bytes, final int start, final int end)
    {
        int at = -1;
        for (int i = start; i + 2 < end; i++)
        {
            if (bytes[i] == ':' && bytes[i + 1] == '/' && bytes[i + 2] == '/')
            {
                at = i;
                break;
            }
        }
        if (at <= start || !isLetter(bytes[start]))
        {
            return -1;
        }
        for (int i = start + 1; i < at; i++)
        {
            final int c = bytes[i];
            if (!(isLetter(bytes[i]) || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'))
            {
                return -1;
            }
        }
        return at;
    }

    private static boolean isLetter(final byte c)
    {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }
}
