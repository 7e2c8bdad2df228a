package io.millrace.demo;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Test helper: a keep-alive HTTP/1.1 client over one buffered socket, one request at a time, binary bodies. */
final class DemoClient implements AutoCloseable
{
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    DemoClient(final int port) throws IOException
    {
        this.socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        socket.setTcpNoDelay(true);
        this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    /**
     * Sends one request and reads its response.
     *
     * @param body the body, or null for none
     */
    RawHttp.Response request(final String method, final String target, final byte[] body) throws IOException
    {
        final StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: t\r\n");
        if (body != null)
        {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null)
        {
            out.write(body);
        }
        out.flush();
        return read("HEAD".equals(method));
    }

    RawHttp.Response get(final String target) throws IOException
    {
        return request("GET", target, null);
    }

    private RawHttp.Response read(final boolean headOnly) throws IOException
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
        if (!headOnly && status != 304 && body.length < length)
        {
            throw new IOException("connection closed inside a body: " + body.length + " of " + length + " bytes");
        }
        return new RawHttp.Response(status, headers, body);
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
        return null;
    }

    @Override
    public void close() throws IOException
    {
        socket.close();
    }
}
