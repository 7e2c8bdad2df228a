package io.millrace.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test helper: a blocking keep-alive HTTP/1.1 upstream on loopback, a thread per connection. It
 * records every request head it reads and answers through {@link Answer}, which may also write
 * nothing and close (to play a failing upstream).
 */
final class ProxyTestBackend implements AutoCloseable
{
    /** How to answer one request: write to {@code out}; return false to close the connection instead of reading on. */
    interface Answer
    {
        boolean answer(String head, byte[] body, OutputStream out) throws IOException;
    }

    final List<String> heads = new CopyOnWriteArrayList<>();
    final AtomicInteger requests = new AtomicInteger();
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    ProxyTestBackend(final Answer answer) throws IOException
    {
        this(0, answer);
    }

    /** On a given port, as a restarted upstream comes back on its old one. */
    ProxyTestBackend(final int port, final Answer answer) throws IOException
    {
        this(port, 50, answer);
    }

    /** With a listen backlog of its own: a deep one for many connections at once. */
    ProxyTestBackend(final int port, final int backlog, final Answer answer) throws IOException
    {
        listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), backlog);
        acceptor = new Thread(() ->
        {
            while (!listener.isClosed())
            {
                try
                {
                    final Socket s = listener.accept();
                    sockets.add(s);
                    final Thread t = new Thread(() -> serve(s, answer), "backend-conn");
                    t.setDaemon(true);
                    t.start();
                }
                catch (final IOException closed)
                {
                    return;
                }
            }
        }, "backend-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static ProxyTestBackend text(final String body) throws IOException
    {
        return new ProxyTestBackend((head, b, out) ->
        {
            out.write(ok(body));
            return true;
        });
    }

    static byte[] ok(final String body)
    {
        final byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return ("HTTP/1.1 200 OK\r\nContent-Length: " + b.length + "\r\nContent-Type: text/plain\r\n\r\n" + body)
            .getBytes(StandardCharsets.UTF_8);
    }

    int port()
    {
        return listener.getLocalPort();
    }

    private void serve(final Socket s, final Answer answer)
    {
        try (s)
        {
            final InputStream in = s.getInputStream();
            final OutputStream out = s.getOutputStream();
            while (true)
            {
                final String head = readHead(in);
                if (head == null)
                {
                    return;
                }
                int length = 0;
                for (final String line : head.split("\r\n"))
                {
                    if (line.toLowerCase(Locale.ROOT).startsWith("content-length:"))
                    {
                        length = Integer.parseInt(line.substring(15).trim());
                    }
                }
                final byte[] body = in.readNBytes(length);
                heads.add(head);
                requests.incrementAndGet();
                if (!answer.answer(head, body, out))
                {
                    return;
                }
                out.flush();
            }
        }
        catch (final IOException gone)
        {
            // the proxy closed or reset: the test looks at what was recorded
        }
    }

    private static String readHead(final InputStream in) throws IOException
    {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        int state = 0;
        while ((c = in.read()) != -1)
        {
            b.write(c);
            state = c == '\r' && (state == 0 || state == 2) ? state + 1 : c == '\n' && (state == 1 || state == 3) ? state + 1 : 0;
            if (state == 4)
            {
                return b.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException
    {
        listener.close();
        for (final Socket s : sockets)
        {
            s.close();
        }
    }
}
