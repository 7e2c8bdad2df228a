package io.millrace.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Test helper (a copy of the demo's RawHttp): a raw socket client that writes crafted bytes and reads responses one by one. */
final class RawHttpClient implements AutoCloseable
{
    /** One parsed response. */
    record Response(int status, Map<String, String> headers, byte[] body)
    {
        String text()
        {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(final String name)
        {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    final Socket socket;
    private final InputStream in;

    RawHttpClient(final int port) throws IOException
    {
        this.socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        this.in = socket.getInputStream();
    }

    RawHttpClient send(final String ascii) throws IOException
    {
        socket.getOutputStream().write(ascii.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        return this;
    }

    /** Reads one response with a Content-Length body (the demo never answers chunked). */
    Response read() throws IOException
    {
        return read(false);
    }

    /**
     * Reads one response; for the answer to a HEAD request ({@code headOnly}) no body bytes are
     * read whatever its Content-Length says, so that the next response on the stream parses.
     */
    Response read(final boolean headOnly) throws IOException
    {
        final String statusLine = line();
        if (statusLine == null)
        {
            throw new IOException("connection closed before a response");
        }
        final int status = Integer.parseInt(statusLine.split(" ")[1]);
        final Map<String, String> headers = new LinkedHashMap<>();
        for (String h = line(); h != null && !h.isEmpty(); h = line())
        {
            final int colon = h.indexOf(':');
            headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        final int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        final byte[] body = headOnly || status == 304 ? new byte[0] : in.readNBytes(length);
        return new Response(status, headers, body);
    }

    /** @return true if the server closed the connection (EOF or reset) within the socket timeout */
    boolean closedByServer() throws IOException
    {
        try
        {
            return in.read() == -1;
        }
        catch (final java.net.SocketException reset)
        {
            return true;
        }
    }

    private String line() throws IOException
    {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1)
        {
            if (c == '\n')
            {
                final byte[] bytes = b.toByteArray();
                final int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException
    {
        socket.close();
    }
}
