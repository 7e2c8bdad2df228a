package io.millrace.http;

import java.util.Arrays;

/**
 * Byte classes and small scanners of RFC 9110/9112, shared by both directions' parsers, the chunked
 * decoder and the proxy's field filter. Tables rather than branches because the parser asks per byte.
 */
final class HttpSyntax
{
    static final int CR = '\r';
    static final int LF = '\n';
    static final int SP = ' ';
    static final int HTAB = '\t';
    /** {@link #connectionOptions}: the value lists {@code close}. */
    static final int CONNECTION_CLOSE = 1;
    /** {@link #connectionOptions}: the value lists {@code keep-alive}. */
    static final int CONNECTION_KEEP_ALIVE = 2;

    private static final boolean[] TCHAR = new boolean[256];
    private static final byte[] HEX = new byte[256];

    static
    {
        for (int c = '0'; c <= '9'; c++)
        {
            TCHAR[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++)
        {
            TCHAR[c] = true;
            TCHAR[c - 'a' + 'A'] = true;
        }
        for (final char c : "!#$%&'*+-.^_`|~".toCharArray())
        {
            TCHAR[c] = true;
        }
        Arrays.fill(HEX, (byte)-1);
        for (int c = 0; c < 10; c++)
        {
            HEX['0' + c] = (byte)c;
        }
        for (int c = 0; c < 6; c++)
        {
            HEX['a' + c] = (byte)(10 + c);
            HEX['A' + c] = (byte)(10 + c);
        }
    }

    private HttpSyntax()
    {
    }

    /**
     * @param b an unsigned byte
     * @return whether it may appear in a token (method, field name)
     */
    static boolean isTchar(final int b)
    {
        return TCHAR[b];
    }

    /**
     * @param b an unsigned byte
     * @return whether it may appear in a field line: VCHAR, obs-text, SP or HTAB (no other control)
     */
    static boolean isFieldByte(final int b)
    {
        return b >= SP ? b != 0x7F : b == HTAB;
    }

    /**
     * @param b an unsigned byte
     * @return whether it may appear in a request line: visible US-ASCII or SP
     */
    static boolean isRequestLineByte(final int b)
    {
        return b >= SP && b < 0x7F;
    }

    /**
     * @param b an unsigned byte
     * @return its value as a hex digit, or -1
     */
    static int hexValue(final int b)
    {
        return HEX[b];
    }

    /**
     * @param b an unsigned byte
     * @return whether it is optional whitespace
     */
    static boolean isOws(final int b)
    {
        return b == SP || b == HTAB;
    }

    /**
     * @return whether {@code bytes[start, end)} equals the US-ASCII {@code text}, ignoring ASCII case
     */
    static boolean equalsIgnoreCase(final byte[] bytes, final int start, final int end, final String text)
    {
        if (end - start != text.length())
        {
            return false;
        }
        for (int i = 0; i < text.length(); i++)
        {
            if (lower(bytes[start + i] & 0xFF) != lower(text.charAt(i)))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return the first index of {@code b} in {@code bytes[start, end)}, or -1
     */
    static int indexOf(final byte[] bytes, final int start, final int end, final int b)
    {
        for (int i = start; i < end; i++)
        {
            if (bytes[i] == (byte)b)
            {
                return i;
            }
        }
        return -1;
    }

    /**
     * Parses {@code 1*DIGIT}: no sign, no whitespace, no comma list.
     *
     * @return the value, or -1 if the range is empty, holds another character or overflows a long
     */
    static long parseDigits(final byte[] bytes, final int start, final int end)
    {
        if (start >= end)
        {
            return -1;
        }
        long value = 0;
        for (int i = start; i < end; i++)
        {
            final int d = bytes[i] - '0';
            if (d < 0 || d > 9 || value > (Long.MAX_VALUE - d) / 10)
            {
                return -1;
            }
            value = value * 10 + d;
        }
        return value;
    }

    /** @return the first index in {@code [from, to)} that is not optional whitespace, or {@code to} */
    static int skipOws(final byte[] bytes, final int from, final int to)
    {
        int s = from;
        while (s < to && isOws(bytes[s]))
        {
            s++;
        }
        return s;
    }

    /** @return the end of {@code [from, to)} with trailing optional whitespace dropped */
    static int trimOws(final byte[] bytes, final int from, final int to)
    {
        int e = to;
        while (e > from && isOws(bytes[e - 1]))
        {
            e--;
        }
        return e;
    }

    /**
     * The options of a Connection field value that decide persistence (RFC 9112 section 9.3): a
     * comma-separated list of tokens, any case, with optional whitespace and empty members.
     *
     * @return {@link #CONNECTION_CLOSE} and {@link #CONNECTION_KEEP_ALIVE} bits for the options in {@code bytes[start, end)}
     */
    static int connectionOptions(final byte[] bytes, final int start, final int end)
    {
        int options = 0;
        int i = start;
        while (i <= end)
        {
            int comma = indexOf(bytes, i, end, ',');
            comma = comma < 0 ? end : comma;
            final int s = skipOws(bytes, i, comma);
            final int e = trimOws(bytes, s, comma);
            if (equalsIgnoreCase(bytes, s, e, "close"))
            {
                options |= CONNECTION_CLOSE;
            }
            else if (equalsIgnoreCase(bytes, s, e, "keep-alive"))
            {
                options |= CONNECTION_KEEP_ALIVE;
            }
            i = comma + 1;
        }
        return options;
    }

    private static int lower(final int c)
    {
        return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }
}
