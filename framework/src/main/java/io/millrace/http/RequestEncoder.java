package io.millrace.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes an HTTP/1.1 request head into a buffer, the client side's mirror of
 * {@link ResponseEncoder}: request line, {@code Host}, the fixed fields of a {@link HeaderBlock}
 * (encoded and checked once), the framing field, {@code Connection: close} if asked, then further
 * field lines already checked (the lines {@link ProxyHeaders} copied from a received message), and
 * the empty line. The body is not written here: the caller sends it after the head, as it comes,
 * as is for a Content-Length or through {@link ChunkedEncoder} for {@link #CHUNKED}.
 *
 * <p>Allocates nothing and writes nothing if it throws. Method, target and host are checked on
 * every call (a CR, LF or space in any of them would let whoever controls it rewrite the request),
 * a byte loop over each; the block and the extra lines are copied as they are. Stateless; safe
 * from any thread.
 */
public final class RequestEncoder
{
    /** {@code bodyLength}: no body and no framing field (a GET, a HEAD). */
    public static final long NO_BODY = -1;
    /** {@code bodyLength}: a body of unknown length, sent with {@code Transfer-Encoding: chunked}. */
    public static final long CHUNKED = -2;

    private static final byte[] VERSION_LINE = ascii(" HTTP/1.1\r\nHost: ");
    private static final byte[] CONTENT_LENGTH = ascii("Content-Length: ");
    private static final byte[] TRANSFER_ENCODING_CHUNKED = ascii("Transfer-Encoding: chunked\r\n");
    private static final byte[] CLOSE_LINE = ascii("Connection: close\r\n");

    private RequestEncoder()
    {
    }

    /**
     * Writes a request head and leaves {@code dst}'s position after it.
     *
     * @param dst        where to write
     * @param method     a token, e.g. {@code GET}
     * @param target     the request-target as it goes on the wire: {@code /path?query} (percent-encoded),
     *                   or an absolute URI, {@code host:port} for CONNECT, {@code *} for OPTIONS
     * @param host       the Host field's value, {@code name[:port]}; empty only for a URI without authority
     * @param fields     fixed fields; must not contain {@code Host}
     * @param bodyLength the body's length for a Content-Length field (0 included: a POST with an empty
     *                   body should say so), {@link #CHUNKED}, or {@link #NO_BODY}
     * @param close      whether to send {@code Connection: close} (the connection is not reused after the response)
     * @param extra      further field lines, each ending in CRLF, from its position to its limit (a
     *                   heap buffer), copied as they are; or null. They must not hold Host,
     *                   Content-Length, Transfer-Encoding or Connection
     * @return bytes written
     * @throws IllegalArgumentException if an argument is invalid or the head does not fit {@code dst}
     */
    public static int head(final ByteBuffer dst, final String method, final CharSequence target, final CharSequence host,
        final HeaderBlock fields, final long bodyLength, final boolean close, final ByteBuffer extra)
    {
        checkMethod(method);
        checkTarget(target);
        checkHost(host);
        if (fields.hasHost())
        {
            throw new IllegalArgumentException("the HeaderBlock holds a Host field; pass the host as the host argument instead: " +
                "the encoder writes Host first, once");
        }
        if (bodyLength < 0 && bodyLength != NO_BODY && bodyLength != CHUNKED)
        {
            throw new IllegalArgumentException("bodyLength must be a length, RequestEncoder.CHUNKED or RequestEncoder.NO_BODY, got " +
                bodyLength);
        }
        final int extraBytes = extra == null ? 0 : extra.remaining();
        final long size = method.length() + 1L + target.length() + VERSION_LINE.length + host.length() + 2 + fields.length() +
            (bodyLength >= 0 ? CONTENT_LENGTH.length + digits(bodyLength) + 2 : bodyLength == CHUNKED ? TRANSFER_ENCODING_CHUNKED.length : 0) +
            (close ? CLOSE_LINE.length : 0) + extraBytes + 2;
        if (size > dst.remaining())
        {
            throw new IllegalArgumentException("a request head of " + size + " bytes does not fit the " + dst.remaining() +
                " bytes left in the buffer; give it more room");
        }
        final int start = dst.position();
        putChars(dst, method);
        dst.put((byte)' ');
        putChars(dst, target);
        dst.put(VERSION_LINE);
        putChars(dst, host);
        crlf(dst);
        dst.put(fields.bytes());
        if (bodyLength >= 0)
        {
            dst.put(CONTENT_LENGTH);
            ResponseEncoder.digits(dst, bodyLength);
            crlf(dst);
        }
        else if (bodyLength == CHUNKED)
        {
            dst.put(TRANSFER_ENCODING_CHUNKED);
        }
        if (close)
        {
            dst.put(CLOSE_LINE);
        }
        if (extraBytes > 0)
        {
            dst.put(extra.array(), extra.arrayOffset() + extra.position(), extraBytes);
        }
        crlf(dst);
        return dst.position() - start;
    }

    private static void checkMethod(final String method)
    {
        if (method == null || method.isEmpty())
        {
            throw new IllegalArgumentException("a request needs a method, such as GET");
        }
        for (int i = 0; i < method.length(); i++)
        {
            final char c = method.charAt(i);
            if (c > 0x7F || !HttpSyntax.isTchar(c))
            {
                throw new IllegalArgumentException("method '" + method + "' is not a token (RFC 9110 9.1)");
            }
        }
    }

    /** Visible US-ASCII without '#': the characters a request-target may have (RFC 9112 3.2). */
    private static void checkTarget(final CharSequence target)
    {
        if (target == null || target.isEmpty())
        {
            throw new IllegalArgumentException("a request needs a target, such as /");
        }
        for (int i = 0; i < target.length(); i++)
        {
            final char c = target.charAt(i);
            if (c <= ' ' || c >= 0x7F || c == '#')
            {
                throw new IllegalArgumentException("request target '" + target +
                    "' must be visible US-ASCII without spaces or '#'; percent-encode the rest");
            }
        }
    }

    /** {@code uri-host [":" port]}: the same bytes the server's parser accepts in a Host. */
    private static void checkHost(final CharSequence host)
    {
        if (host == null)
        {
            throw new IllegalArgumentException("HTTP/1.1 requests need a Host; pass the upstream's name[:port] (or \"\" for none)");
        }
        for (int i = 0; i < host.length(); i++)
        {
            final char c = host.charAt(i);
            if (c <= ' ' || c >= 0x7F || c == ',' || c == '/' || c == '@')
            {
                throw new IllegalArgumentException("Host '" + host + "' must be name[:port] in visible US-ASCII");
            }
        }
    }

    static int digits(final long value)
    {
        int n = 1;
        for (long v = value; v >= 10; v /= 10)
        {
            n++;
        }
        return n;
    }

    private static void putChars(final ByteBuffer dst, final CharSequence s)
    {
        for (int i = 0; i < s.length(); i++)
        {
            dst.put((byte)s.charAt(i));
        }
    }

    private static void crlf(final ByteBuffer dst)
    {
        dst.put((byte)'\r').put((byte)'\n');
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
