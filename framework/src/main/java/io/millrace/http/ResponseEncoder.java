package io.millrace.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes an HTTP/1.1 response head (status line and fields) as US-ASCII into a buffer. The head
 * is built directly in the caller's buffer, with no intermediate String or byte[].
 *
 * <p>A head never exceeds {@link #MAX_HEAD_BYTES}, so a buffer of that size always fits one; the
 * exact size is {@link #headSize}. Every value is checked for CR, LF and non-ASCII characters
 * before anything is written, because a value that could end a line would let whoever controls it
 * add fields or a whole second response.
 */
public final class ResponseEncoder
{
    /** The most bytes {@link #head} writes; larger heads are refused. */
    public static final int MAX_HEAD_BYTES = 1024;

    private static final String SERVER = "Server: Millrace\r\n";

    /** {@link #head(ByteBuffer, int, HeaderBlock, long, int, ByteBuffer)}: no Connection field. */
    public static final int CONNECTION_DEFAULT = 0;
    /** Send {@code Connection: close}. */
    public static final int CONNECTION_CLOSE = 1;
    /** Send {@code Connection: keep-alive} (an HTTP/1.0 client that asked for it). */
    public static final int CONNECTION_KEEP_ALIVE = 2;

    private static final byte[] SERVER_LINE = SERVER.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CONTENT_LENGTH = "Content-Length: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE_LINE = "Connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] KEEP_ALIVE_LINE = "Connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);
    /** {@code HTTP/1.1 NNN Reason CRLF} for every status from 100 to 999, encoded once. */
    private static final byte[][] STATUS_LINES = new byte[1000][];
    /** Room the fixed parts of a head take at most: status line, Date, Server, Content-Length, Connection, CRLF. */
    private static final int FIXED_PART_MAX = 64 + 37 + 18 + 16 + 20 + 2 + 24 + 2;

    static
    {
        for (int status = 100; status < 1000; status++)
        {
            STATUS_LINES[status] = ("HTTP/1.1 " + status + " " + reason(status) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        }
    }

    private ResponseEncoder()
    {
    }

    /**
     * Writes a response head and leaves {@code dst}'s position after it. Writes nothing if it throws.
     *
     * @param dst           where to write
     * @param status        100 to 999
     * @param contentType   the Content-Type value, or null for none
     * @param contentLength the body's length; negative for no Content-Length field (then the
     *                      body is delimited by closing, or by a Transfer-Encoding in
     *                      {@code extraHeaders}); never sent for 1xx and 204 responses, which have no body
     * @param close         whether to send {@code Connection: close}
     * @param extraHeaders  further field lines, each ending in CRLF, written verbatim; or null
     * @throws IllegalArgumentException if the head would exceed {@link #MAX_HEAD_BYTES} or
     *                                  {@code dst.remaining()}, or a value is not single-line US-ASCII
     */
    public static void head(final ByteBuffer dst, final int status, final String contentType, final long contentLength,
        final boolean close, final String extraHeaders)
    {
        final int size = headSize(status, contentType, contentLength, close, extraHeaders);
        if (size > dst.remaining())
        {
            throw new IllegalArgumentException("response head of " + size + " bytes does not fit the " +
                dst.remaining() + " bytes left in the buffer");
        }
        final String reason = reason(status);
        ascii(dst, "HTTP/1.1 ");
        digits(dst, status);
        dst.put((byte)' ');
        ascii(dst, reason);
        crlf(dst);
        ascii(dst, "Date: ");
        ascii(dst, HttpDate.now());
        crlf(dst);
        ascii(dst, SERVER);
        if (contentType != null)
        {
            ascii(dst, "Content-Type: ");
            ascii(dst, contentType);
            crlf(dst);
        }
        if (sendsLength(status, contentLength))
        {
            ascii(dst, "Content-Length: ");
            digits(dst, contentLength);
            crlf(dst);
        }
        if (close)
        {
            ascii(dst, "Connection: close\r\n");
        }
        if (extraHeaders != null)
        {
            ascii(dst, extraHeaders);
        }
        crlf(dst);
    }

    /**
     * Writes a response head from parts encoded ahead of time: the status line from a table, the
     * Date line cached per second, the handler's {@link HeaderBlock}, Content-Length digits written
     * straight into {@code dst} and the extra lines a handler added (already validated). Allocates
     * nothing and checks no byte twice. Writes nothing if it throws.
     *
     * @param dst           where to write
     * @param status        100 to 999
     * @param fixed         fields encoded when the route was built
     * @param contentLength the body's length; negative for none (never sent for 1xx, 204 and 304)
     * @param connection    {@link #CONNECTION_DEFAULT}, {@link #CONNECTION_CLOSE} or {@link #CONNECTION_KEEP_ALIVE}
     * @param extra         further field lines (each ending in CRLF) from its position to its limit, or null
     * @return bytes written
     * @throws IllegalArgumentException if the status is out of range or the head does not fit
     */
    public static int head(final ByteBuffer dst, final int status, final HeaderBlock fixed, final long contentLength,
        final int connection, final ByteBuffer extra)
    {
        if (status < 100 || status > 999)
        {
            throw new IllegalArgumentException("status must have three digits, got " + status);
        }
        final int extraBytes = extra == null ? 0 : extra.remaining();
        if (FIXED_PART_MAX + fixed.length() + extraBytes > dst.remaining())
        {
            throw new IllegalArgumentException("a response head with " + fixed.length() + " + " + extraBytes +
                " bytes of fields does not fit the " + dst.remaining() + " bytes left for it");
        }
        final int start = dst.position();
        dst.put(STATUS_LINES[status]);
        dst.put(HttpDate.dateLine());
        dst.put(SERVER_LINE);
        dst.put(fixed.bytes());
        if (contentLength >= 0 && status >= 200 && status != 204 && status != 304)
        {
            dst.put(CONTENT_LENGTH);
            digits(dst, contentLength);
            crlf(dst);
        }
        if (connection == CONNECTION_CLOSE)
        {
            dst.put(CLOSE_LINE);
        }
        else if (connection == CONNECTION_KEEP_ALIVE)
        {
            dst.put(KEEP_ALIVE_LINE);
        }
        if (extraBytes > 0)
        {
            dst.put(extra.array(), extra.arrayOffset() + extra.position(), extraBytes);
        }
        crlf(dst);
        return dst.position() - start;
    }

    /**
     * @return the exact number of bytes {@link #head} writes for these arguments
     * @throws IllegalArgumentException if that exceeds {@link #MAX_HEAD_BYTES} or an argument is invalid
     */
    public static int headSize(final int status, final String contentType, final long contentLength, final boolean close,
        final String extraHeaders)
    {
        if (status < 100 || status > 999)
        {
            throw new IllegalArgumentException("status must have three digits, got " + status);
        }
        if (contentType != null)
        {
            checkValue("Content-Type", contentType);
        }
        if (extraHeaders != null)
        {
            checkFieldLines(extraHeaders);
        }
        long size = "HTTP/1.1 200 ".length() + reason(status).length() + 2
            + "Date: ".length() + 29 + 2
            + SERVER.length()
            + (contentType == null ? 0 : "Content-Type: ".length() + contentType.length() + 2)
            + (sendsLength(status, contentLength) ? "Content-Length: ".length() + Long.toString(contentLength).length() + 2 : 0)
            + (close ? "Connection: close\r\n".length() : 0)
            + (extraHeaders == null ? 0 : extraHeaders.length())
            + 2;
        if (size > MAX_HEAD_BYTES)
        {
            throw new IllegalArgumentException("response head of " + size + " bytes exceeds " + MAX_HEAD_BYTES);
        }
        return (int)size;
    }

    /**
     * @param status a status code
     * @return its reason phrase; empty for codes without one here (the status line keeps its space)
     */
    public static String reason(final int status)
    {
        return switch (status)
        {
            case 100 -> "Continue";
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 206 -> "Partial Content";
            case 301 -> "Moved Permanently";
            case 302 -> "Found";
            case 304 -> "Not Modified";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 416 -> "Range Not Satisfiable";
            case 417 -> "Expectation Failed";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            case 505 -> "HTTP Version Not Supported";
            case 507 -> "Insufficient Storage";
            default -> "";
        };
    }

    private static boolean sendsLength(final int status, final long contentLength)
    {
        // RFC 9110 section 8.6: no Content-Length in 1xx or 204 responses.
        return contentLength >= 0 && status >= 200 && status != 204;
    }

    private static void checkValue(final String what, final String value)
    {
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            if (c >= 0x7F || c < ' ' && c != '\t')
            {
                throw new IllegalArgumentException(what + " must be single-line US-ASCII, got '" + value + "'");
            }
        }
    }

    /** Field lines ending in CRLF, no bare CR or LF, no empty line (which would end the head early). */
    private static void checkFieldLines(final String lines)
    {
        int lineStart = 0;
        for (int i = 0; i < lines.length(); i++)
        {
            final char c = lines.charAt(i);
            if (c == '\r')
            {
                if (i + 1 >= lines.length() || lines.charAt(i + 1) != '\n' || i == lineStart)
                {
                    throw new IllegalArgumentException("extra headers must be non-empty lines each ending in CRLF, got '" +
                        lines + "'");
                }
                i++;
                lineStart = i + 1;
            }
            else if (c >= 0x7F || c < ' ' && c != '\t')
            {
                throw new IllegalArgumentException("extra headers must be US-ASCII lines each ending in CRLF, got '" +
                    lines + "'");
            }
        }
        if (lineStart != lines.length())
        {
            throw new IllegalArgumentException("extra headers must end in CRLF, got '" + lines + "'");
        }
    }

    private static void ascii(final ByteBuffer dst, final String s)
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

    static void digits(final ByteBuffer dst, final long value)
    {
        long divisor = 1;
        while (value / divisor >= 10)
        {
            divisor *= 10;
        }
        for (; divisor > 0; divisor /= 10)
        {
            dst.put((byte)('0' + value / divisor % 10));
        }
    }
}
