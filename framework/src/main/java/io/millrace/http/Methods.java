package io.millrace.http;

import java.util.Locale;

/**
 * The methods the server implements, as bit positions for a route's method set. The parser answers
 * any other method with 501 before routing, and returns these as shared String constants, so
 * finding a method's bit is a few reference comparisons.
 */
final class Methods
{
    static final String[] NAMES = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"};
    static final int GET = 1;
    static final int HEAD = 1 << 1;

    private Methods()
    {
    }

    /**
     * @param method a method from the parser (one of the shared constants)
     * @return its bit, or 0 if it is not one of {@link #NAMES}
     */
    static int bit(final String method)
    {
        for (int i = 0; i < NAMES.length; i++)
        {
            if (NAMES[i] == method)
            {
                return 1 << i;
            }
        }
        for (int i = 0; i < NAMES.length; i++)
        {
            if (NAMES[i].equals(method))
            {
                return 1 << i;
            }
        }
        return 0;
    }

    /**
     * @param list methods separated by spaces or commas, such as {@code "GET, PUT"}
     * @return their bits; GET brings HEAD with it (RFC 9110 9.3.2)
     * @throws IllegalArgumentException naming an unknown method
     */
    static int parse(final String list)
    {
        int bits = 0;
        for (final String token : list.split("[ ,]+"))
        {
            if (token.isEmpty())
            {
                continue;
            }
            final int bit = bit(token.toUpperCase(Locale.ROOT));
            if (bit == 0 || !token.equals(token.toUpperCase(Locale.ROOT)))
            {
                throw new IllegalArgumentException("unknown method '" + token + "' in \"" + list + "\"; use upper case " +
                    String.join(", ", NAMES));
            }
            bits |= bit;
        }
        if (bits == 0)
        {
            throw new IllegalArgumentException("no method in \"" + list + "\"; name at least one, such as \"GET\"");
        }
        return (bits & GET) != 0 ? bits | HEAD : bits;
    }

    /** @return the methods of {@code bits} as an Allow field value */
    static String allow(final int bits)
    {
        final StringBuilder s = new StringBuilder();
        for (int i = 0; i < NAMES.length; i++)
        {
            if ((bits & (1 << i)) != 0)
            {
                s.append(s.isEmpty() ? "" : ", ").append(NAMES[i]);
            }
        }
        return s.toString();
    }
}
