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
    private static final String[] KNOWN = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"};
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
     * @return the method in {@code bytes[start, end)} (already checked to be a token)
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
        return new String(bytes, start, end - start, StandardCharsets.US_ASCII);
    }

    /**
     * @param target a request-target of visible US-ASCII
     * @param method the request's method
     * @return the path: for origin-form the target up to {@code ?}; for absolute-form the part after
     *         the authority ({@code /} if empty); for authority-form (CONNECT) and asterisk-form
     *         (OPTIONS) the target itself; null if the target has none of the four forms or a fragment
     */
    static String path(final String target, final String method)
    {
        if (target.indexOf('#') >= 0)
        {
            return null;
        }
        if ("CONNECT".equals(method))
        {
            return target.indexOf('/') < 0 && target.indexOf('?') < 0 ? target : null;
        }
        if ("*".equals(target))
        {
            return "OPTIONS".equals(method) ? target : null;
        }
        final int queryAt = target.indexOf('?');
        final String beforeQuery = queryAt < 0 ? target : target.substring(0, queryAt);
        if (beforeQuery.startsWith("/"))
        {
            return beforeQuery;
        }
        final int scheme = schemeEnd(beforeQuery);
        if (scheme < 0)
        {
            return null;
        }
        final int pathAt = beforeQuery.indexOf('/', scheme + 3);
        return pathAt < 0 ? "/" : beforeQuery.substring(pathAt);
    }

    /**
     * @return what follows the first {@code ?}, or null
     */
    static String query(final String target)
    {
        final int queryAt = target.indexOf('?');
        return queryAt < 0 ? null : target.substring(queryAt + 1);
    }

    /** @return the index of {@code "://"} after a valid scheme, or -1 */
    private static int schemeEnd(final String s)
    {
        final int at = s.indexOf("://");
        if (at <= 0 || !Character.isLetter(s.charAt(0)))
        {
            return -1;
        }
        for (int i = 1; i < at; i++)
        {
            final char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'))
            {
                return -1;
            }
        }
        return at;
    }
}
