package io.millrace.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Response header fields encoded once, when routes are built, and copied into every response as
 * bytes: no per-request formatting and no per-request validation. Build the blocks your handlers
 * answer with as constants:
 *
 * <pre>{@code
 * static final HeaderBlock TEXT = HeaderBlock.of("Content-Type", "text/plain; charset=utf-8");
 * ...
 * return x.respond(200, TEXT, HELLO);
 * }</pre>
 *
 * Names must be tokens and values single-line visible US-ASCII (a CR or LF in a value would let
 * whoever controls it add fields or a second response), checked here, once. The fields the server
 * owns ({@code Content-Length}, {@code Transfer-Encoding}, {@code Connection}, {@code Date},
 * {@code Server}) are refused: it writes them itself. A block is also the fixed fields of the
 * requests {@link RequestEncoder} writes, which writes {@code Host} itself and refuses a block
 * that has one. Immutable and shared by all threads.
 */
public final class HeaderBlock
{
    /** Declared first: the constants below are checked against it as the class initializes. */
    private static final String[] SERVER_OWNED = {"content-length", "transfer-encoding", "connection", "date", "server"};

    /** No fields. */
    public static final HeaderBlock EMPTY = new HeaderBlock(new byte[0]);
    /** {@code Content-Type: text/plain; charset=utf-8}. */
    public static final HeaderBlock TEXT_PLAIN = contentType("text/plain; charset=utf-8");

    private final byte[] bytes;
    /** Whether a line is a Host field, which a request encoder writes itself; found once, here. */
    private final boolean host;

    private HeaderBlock(final byte[] bytes)
    {
        this.bytes = bytes;
        boolean found = false;
        for (int line = 0; line < bytes.length && !found; line = HttpSyntax.indexOf(bytes, line, bytes.length, '\n') + 1)
        {
            found = HttpSyntax.equalsIgnoreCase(bytes, line, HttpSyntax.indexOf(bytes, line, bytes.length, ':'), "host");
        }
        this.host = found;
    }

    /**
     * @param namesAndValues field name, value, name, value...
     * @return the fields, each as {@code name: value CRLF}
     * @throws IllegalArgumentException if a name is not a token, a value is not single-line
     *                                  visible US-ASCII, the count is odd, or a field is one the
     *                                  server writes itself
     */
    public static HeaderBlock of(final String... namesAndValues)
    {
        if (namesAndValues.length % 2 != 0)
        {
            throw new IllegalArgumentException("HeaderBlock.of takes name, value pairs; got " + namesAndValues.length +
                " strings: " + Arrays.toString(namesAndValues));
        }
        final StringBuilder lines = new StringBuilder();
        for (int i = 0; i < namesAndValues.length; i += 2)
        {
            final String name = checkName(namesAndValues[i]);
            final String value = checkValue(name, namesAndValues[i + 1]);
            lines.append(name).append(": ").append(value).append("\r\n");
        }
        return new HeaderBlock(lines.toString().getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * @param mediaType a Content-Type value such as {@code application/json}
     * @return a block of that one field
     */
    public static HeaderBlock contentType(final String mediaType)
    {
        return of("Content-Type", mediaType);
    }

    /**
     * @param more further fields
     * @return a block with this block's fields, then {@code more}'s
     */
    public HeaderBlock and(final HeaderBlock more)
    {
        final byte[] joined = Arrays.copyOf(bytes, bytes.length + more.bytes.length);
        System.arraycopy(more.bytes, 0, joined, bytes.length, more.bytes.length);
        return new HeaderBlock(joined);
    }

    /** @return the encoded field lines; do not modify */
    byte[] bytes()
    {
        return bytes;
    }

    /** @return whether one of the fields is {@code Host} */
    boolean hasHost()
    {
        return host;
    }

    /** @return encoded length in bytes */
    public int length()
    {
        return bytes.length;
    }

    @Override
    public String toString()
    {
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    static String checkName(final String name)
    {
        if (name == null || name.isEmpty())
        {
            throw new IllegalArgumentException("a header field name must not be null or empty");
        }
        for (int i = 0; i < name.length(); i++)
        {
            final char c = name.charAt(i);
            if (c > 0x7F || !HttpSyntax.isTchar(c))
            {
                throw new IllegalArgumentException("header field name '" + name + "' is not a token (RFC 9110 5.1)");
            }
        }
        final String lower = name.toLowerCase(Locale.ROOT);
        for (final String owned : SERVER_OWNED)
        {
            if (owned.equals(lower))
            {
                throw new IllegalArgumentException(name + " is written by the server itself; do not set it");
            }
        }
        return name;
    }

    static String checkValue(final String name, final String value)
    {
        if (value == null)
        {
            throw new IllegalArgumentException("the value of " + name + " must not be null");
        }
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            if (c >= 0x7F || c < ' ' && c != '\t')
            {
                throw new IllegalArgumentException("the value of " + name + " must be single-line visible US-ASCII, got '" +
                    value + "'");
            }
        }
        return value;
    }
}
