package io.millrace.http;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * What a reverse proxy forwards of a message's fields: the field lines of a request it received (to
 * go to the upstream) or of a response it received (to go back to the client), copied as bytes into
 * a buffer without the hop-by-hop fields, and with the proxy's own additions. The lines it writes
 * are meant as the {@code extra} lines of {@link RequestEncoder#head} (or of a response head), whose
 * framing fields the proxy writes itself; the body goes separately, part by part
 * ({@link HttpRequestParser#BODY_PART}, {@link HttpResponseParser#BODY_PART}), re-framed with
 * Content-Length or {@link ChunkedEncoder}.
 *
 * <p>Dropped in both directions (RFC 9110 section 7.6.1 and RFC 9112 section 9.6, plus the fields
 * nginx's {@code proxy_pass} clears): {@code Connection} and every field its value names,
 * {@code Keep-Alive}, {@code TE}, {@code Transfer-Encoding}, {@code Upgrade}, {@code Trailer},
 * every {@code Proxy-*} field ({@code Proxy-Connection}, {@code Proxy-Authorization}...), and
 * {@code Content-Length}, since the proxy frames the body again.
 * <ul>
 *   <li>Requests also lose {@code Host} (the encoder writes the upstream's), {@code Expect} (the
 *       proxy answered {@code 100-continue} itself) and {@code X-Forwarded-Proto} (replaced), and
 *       gain {@code X-Forwarded-For} (earlier values, then the client's address, on one line, as
 *       nginx's {@code $proxy_add_x_forwarded_for}), {@code X-Forwarded-Proto}, {@code Forwarded}
 *       (RFC 7239: earlier elements, then {@code for=client;proto=...;host=...}) and {@code Via}
 *       (earlier entries, then {@code 1.1 pseudonym}).</li>
 *   <li>Responses also lose {@code Date} and {@code Server}, which the proxy's response encoder
 *       writes (nginx hides the upstream's by default too), and gain {@code Via}.</li>
 * </ul>
 * Field lines are copied in their order, names as sent, values trimmed, one line each
 * ({@code name: value CRLF}); their bytes were checked by the parser. The fields of a 101 answer's
 * {@code Upgrade} are dropped like any other: relaying an upgrade is the proxy's own business.
 *
 * <p>Allocates nothing. Not thread-safe (it keeps the Connection names of the message being
 * copied): one per worker.
 */
public final class ProxyHeaders
{
    /** Hop-by-hop in any message; {@code proxy-*} is matched as a prefix. */
    private static final String[] HOP_BY_HOP = {"connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer"};
    private static final byte[] COLON_SP = {':', ' '};
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] COMMA_SP = {',', ' '};
    private static final byte[] X_FORWARDED_FOR = ascii("X-Forwarded-For: ");
    private static final byte[] X_FORWARDED_PROTO_HTTP = ascii("X-Forwarded-Proto: http\r\n");
    private static final byte[] X_FORWARDED_PROTO_HTTPS = ascii("X-Forwarded-Proto: https\r\n");
    private static final byte[] FORWARDED = ascii("Forwarded: ");
    private static final byte[] FOR = ascii("for=");
    private static final byte[] PROTO_HTTP = ascii(";proto=http");
    private static final byte[] PROTO_HTTPS = ascii(";proto=https");
    private static final byte[] HOST = ascii(";host=");
    private static final byte[] VIA = ascii("Via: ");

    private static final int REQUEST = 0;
    private static final int RESPONSE = 1;

    private final byte[] pseudonym;
    private final TokenSet connectionNames = new TokenSet();

    /**
     * @param pseudonym how this proxy names itself in {@code Via} (RFC 9110 section 7.6.3), a token
     *                  such as {@code millrace}; a host name is possible but tells the world more
     * @throws IllegalArgumentException if it is not a token
     */
    public ProxyHeaders(final String pseudonym)
    {
        if (pseudonym == null || pseudonym.isEmpty() || !isToken(pseudonym))
        {
            throw new IllegalArgumentException("the Via pseudonym must be a token (letters, digits, !#$%&'*+-.^_`|~), got '" +
                pseudonym + "'");
        }
        this.pseudonym = ascii(pseudonym);
    }

    /**
     * Copies the forwardable fields of a request the server received, and adds the forwarding fields.
     *
     * @param received      the exchange's request, during its handler
     * @param clientAddress the client's IP address as text, without port ({@code 192.0.2.7}, {@code 2001:db8::7})
     * @param https         whether the client came over TLS (to a TLS terminator in front): the {@code proto}
     * @param dst           where the lines go, from its position; a heap buffer
     * @return bytes written
     * @throws IllegalArgumentException if the address is not one, or the lines do not fit {@code dst}
     *                                  (then nothing is written); twice the server's {@code maxHeaderBytes}
     *                                  and 1 KiB is always enough
     */
    public int copyRequestFields(final HttpExchange received, final CharSequence clientAddress, final boolean https,
        final ByteBuffer dst)
    {
        return copyRequestFields(received.parser, clientAddress, https, dst);
    }

    /**
     * As {@link #copyRequestFields(HttpExchange, CharSequence, boolean, ByteBuffer)}, from a parser
     * whose head is complete.
     */
    public int copyRequestFields(final HttpRequestParser received, final CharSequence clientAddress, final boolean https,
        final ByteBuffer dst)
    {
        if (!received.headComplete())
        {
            throw new IllegalStateException("copyRequestFields needs a parsed request head; the parser has none");
        }
        checkAddress(clientAddress);
        final RequestHead head = received.head();
        final byte[] bytes = head.bytes();
        final HeaderFields fields = head.fields();
        final int start = dst.position();
        try
        {
            copy(bytes, fields, REQUEST, dst);
            dst.put(X_FORWARDED_FOR);
            if (joinPrior(bytes, fields, "x-forwarded-for", dst))
            {
                dst.put(COMMA_SP);
            }
            putChars(dst, clientAddress);
            dst.put(CRLF);
            dst.put(https ? X_FORWARDED_PROTO_HTTPS : X_FORWARDED_PROTO_HTTP);
            dst.put(FORWARDED);
            if (joinPrior(bytes, fields, "forwarded", dst))
            {
                dst.put(COMMA_SP);
            }
            dst.put(FOR);
            putNode(dst, clientAddress);
            dst.put(https ? PROTO_HTTPS : PROTO_HTTP);
            final int host = fields.find(bytes, "host");
            if (host >= 0 && fields.valueEnd(host) > fields.valueStart(host))
            {
                dst.put(HOST);
                putParameterValue(dst, bytes, fields.valueStart(host), fields.valueEnd(host));
            }
            dst.put(CRLF);
            via(bytes, fields, head.versionMinor(), dst);
            return dst.position() - start;
        }
        catch (final BufferOverflowException ex)
        {
            dst.position(start);
            throw tooSmall(dst, start);
        }
    }

    /**
     * Copies the forwardable fields of a response an upstream sent (the final head, or an interim
     * one such as 103 Early Hints while it is the parser's current head), and adds {@code Via}.
     *
     * @param received a parser that has reported {@link HttpResponseParser#FINAL_HEAD} or {@link HttpResponseParser#INTERIM_HEAD}
     * @param dst      where the lines go, from its position; a heap buffer
     * @return bytes written
     * @throws IllegalArgumentException if the lines do not fit {@code dst} (then nothing is written);
     *                                  twice the parser's {@code maxHeaderBytes} and 1 KiB is always enough
     */
    public int copyResponseFields(final HttpResponseParser received, final ByteBuffer dst)
    {
        final ResponseHead head = received.head();
        if (head.status() == 0)
        {
            throw new IllegalStateException("copyResponseFields needs a parsed response head; the parser has none");
        }
        final int start = dst.position();
        try
        {
            copy(head.bytes(), head.fields(), RESPONSE, dst);
            via(head.bytes(), head.fields(), head.versionMinor(), dst);
            return dst.position() - start;
        }
        catch (final BufferOverflowException ex)
        {
            dst.position(start);
            throw tooSmall(dst, start);
        }
    }

    /**
     * @param name a field name
     * @return whether it is hop-by-hop whatever a Connection field says: Connection, Keep-Alive, TE,
     *         Transfer-Encoding, Upgrade, Trailer or a Proxy-* field (any case)
     */
    public static boolean isHopByHop(final CharSequence name)
    {
        for (final String h : HOP_BY_HOP)
        {
            if (h.length() == name.length() && startsWithIgnoringCase(name, h))
            {
                return true;
            }
        }
        return name.length() > 6 && startsWithIgnoringCase(name, "proxy-");
    }

    private static boolean startsWithIgnoringCase(final CharSequence s, final String lowerPrefix)
    {
        for (int i = 0; i < lowerPrefix.length(); i++)
        {
            final char c = s.charAt(i);
            if ((c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c) != lowerPrefix.charAt(i))
            {
                return false;
            }
        }
        return true;
    }

    private static boolean hopByHop(final byte[] b, final int start, final int end)
    {
        for (final String name : HOP_BY_HOP)
        {
            if (HttpSyntax.equalsIgnoreCase(b, start, end, name))
            {
                return true;
            }
        }
        return end - start > 6 && HttpSyntax.equalsIgnoreCase(b, start, start + 6, "proxy-");
    }

    /** Writes every field the direction forwards as it is, in order. */
    private void copy(final byte[] bytes, final HeaderFields fields, final int direction, final ByteBuffer dst)
    {
        connectionNames.clear(bytes);
        for (int i = 0; i < fields.count(); i++)
        {
            if (fields.is(bytes, i, "connection"))
            {
                addTokens(bytes, fields.valueStart(i), fields.valueEnd(i));
            }
        }
        for (int i = 0; i < fields.count(); i++)
        {
            final int ns = fields.nameStart(i);
            final int ne = fields.nameEnd(i);
            if (hopByHop(bytes, ns, ne) || connectionNames.contains(bytes, ns, ne) || rewritten(bytes, ns, ne, direction))
            {
                continue;
            }
            dst.put(bytes, ns, ne - ns).put(COLON_SP);
            dst.put(bytes, fields.valueStart(i), fields.valueEnd(i) - fields.valueStart(i)).put(CRLF);
        }
    }

    /** @return whether the direction drops the field, to write it itself or not at all */
    private static boolean rewritten(final byte[] b, final int s, final int e, final int direction)
    {
        if (HttpSyntax.equalsIgnoreCase(b, s, e, "content-length") || HttpSyntax.equalsIgnoreCase(b, s, e, "via"))
        {
            return true;
        }
        if (direction == RESPONSE)
        {
            return HttpSyntax.equalsIgnoreCase(b, s, e, "date") || HttpSyntax.equalsIgnoreCase(b, s, e, "server");
        }
        return HttpSyntax.equalsIgnoreCase(b, s, e, "host") || HttpSyntax.equalsIgnoreCase(b, s, e, "expect") ||
            HttpSyntax.equalsIgnoreCase(b, s, e, "x-forwarded-for") || HttpSyntax.equalsIgnoreCase(b, s, e, "x-forwarded-proto") ||
            HttpSyntax.equalsIgnoreCase(b, s, e, "forwarded");
    }

    private void addTokens(final byte[] bytes, final int start, final int end)
    {
        int i = start;
        while (i <= end)
        {
            int comma = HttpSyntax.indexOf(bytes, i, end, ',');
            comma = comma < 0 ? end : comma;
            final int s = HttpSyntax.skipOws(bytes, i, comma);
            final int e = HttpSyntax.trimOws(bytes, s, comma);
            if (e > s)
            {
                connectionNames.add(s, e);
            }
            i = comma + 1;
        }
    }

    /**
     * Writes the values of every field called {@code name} (unless Connection named it), joined by
     * commas: a list field's lines are one list (RFC 9110 section 5.3).
     *
     * @return whether anything was written
     */
    private boolean joinPrior(final byte[] bytes, final HeaderFields fields, final String name, final ByteBuffer dst)
    {
        boolean any = false;
        for (int i = 0; i < fields.count(); i++)
        {
            final int vs = fields.valueStart(i);
            final int ve = fields.valueEnd(i);
            if (ve > vs && fields.is(bytes, i, name) && !connectionNames.contains(bytes, fields.nameStart(i), fields.nameEnd(i)))
            {
                if (any)
                {
                    dst.put(COMMA_SP);
                }
                dst.put(bytes, vs, ve - vs);
                any = true;
            }
        }
        return any;
    }

    /** {@code Via: earlier, 1.x pseudonym}: the version is the one the proxy received (RFC 9110 section 7.6.3). */
    private void via(final byte[] bytes, final HeaderFields fields, final int versionMinor, final ByteBuffer dst)
    {
        dst.put(VIA);
        if (joinPrior(bytes, fields, "via", dst))
        {
            dst.put(COMMA_SP);
        }
        dst.put((byte)'1').put((byte)'.').put((byte)('0' + versionMinor)).put((byte)' ').put(pseudonym).put(CRLF);
    }

    /**
     * A Forwarded node (RFC 7239 section 6): a token as it is, an IPv6 address bracketed and
     * quoted ({@code for="[2001:db8::7]"}).
     */
    private static void putNode(final ByteBuffer dst, final CharSequence address)
    {
        if (isToken(address))
        {
            putChars(dst, address);
            return;
        }
        final boolean bracket = address.charAt(0) != '[';
        dst.put((byte)'"');
        if (bracket)
        {
            dst.put((byte)'[');
        }
        putChars(dst, address);
        if (bracket)
        {
            dst.put((byte)']');
        }
        dst.put((byte)'"');
    }

    /** A Forwarded parameter value: a token, or a quoted-string with {@code "} and {@code \} escaped. */
    private static void putParameterValue(final ByteBuffer dst, final byte[] b, final int start, final int end)
    {
        boolean token = true;
        for (int i = start; i < end && token; i++)
        {
            token = HttpSyntax.isTchar(b[i] & 0xFF);
        }
        if (token)
        {
            dst.put(b, start, end - start);
            return;
        }
        dst.put((byte)'"');
        for (int i = start; i < end; i++)
        {
            if (b[i] == '"' || b[i] == '\\')
            {
                dst.put((byte)'\\');
            }
            dst.put(b[i]);
        }
        dst.put((byte)'"');
    }

    private static void checkAddress(final CharSequence address)
    {
        if (address == null || address.isEmpty())
        {
            throw new IllegalArgumentException("the client address must be an IP address as text, got '" + address + "'");
        }
        for (int i = 0; i < address.length(); i++)
        {
            final char c = address.charAt(i);
            final boolean ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
                c == '.' || c == ':' || c == '[' || c == ']' || c == '%' || c == '_' || c == '-';
            if (!ok)
            {
                throw new IllegalArgumentException("the client address must be an IP address as text (no port, no list), got '" +
                    address + "'");
            }
        }
    }

    private static boolean isToken(final CharSequence s)
    {
        for (int i = 0; i < s.length(); i++)
        {
            final char c = s.charAt(i);
            if (c > 0x7F || !HttpSyntax.isTchar(c))
            {
                return false;
            }
        }
        return true;
    }

    private static void putChars(final ByteBuffer dst, final CharSequence s)
    {
        for (int i = 0; i < s.length(); i++)
        {
            dst.put((byte)s.charAt(i));
        }
    }

    private static IllegalArgumentException tooSmall(final ByteBuffer dst, final int start)
    {
        return new IllegalArgumentException("the forwarded fields do not fit the " + (dst.limit() - start) +
            " bytes left in the buffer; give it twice the parser's maxHeaderBytes and 1 KiB");
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
