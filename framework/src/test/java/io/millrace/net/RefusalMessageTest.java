package io.millrace.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static io.millrace.net.SyncEchoServer.awaitTrue;
import static io.millrace.net.SyncEchoServer.connect;
import static io.millrace.net.SyncEchoServer.readExactly;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A connection refused for the limit reads the refusal message and then end of stream, not a reset. */
@Timeout(60)
class RefusalMessageTest
{
    private static final byte[] BUSY = ("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n" +
        "Retry-After: 1\r\n\r\nbusy\n").getBytes(StandardCharsets.US_ASCII);

    @Test
    void aRefusedPeerReadsTheMessageThenEndOfStream() throws Exception
    {
        try (SyncEchoServer echo = new SyncEchoServer(1, new SyncEchoServer.Handler(), b -> b.maxConnections(1).refusalMessage(BUSY));
             Socket admitted = connect(echo.port()))
        {
            admitted.getOutputStream().write('a');
            assertArrayEquals(new byte[] {'a'}, readExactly(admitted.getInputStream(), 1), "the first is served");
            try (Socket refused = connect(echo.port()))
            {
                assertArrayEquals(BUSY, readToEnd(refused.getInputStream()), "exactly the message, then end of stream");
            }
            assertEquals(1, echo.server.stats().refused());
            assertEquals(1, echo.server.stats().accepted());
        }
    }

    @Test
    void aRefusedPeerThatSentARequestFirstReadsTheMessageThenEndOfStreamAndIsNotReset() throws Exception
    {
        // Closing a socket with unread input makes the kernel send a reset, which some stacks answer
        // by dropping what the peer had not read yet, the message included. The refusal drains the
        // request first. Accept waits a little so that the request is surely in the server's buffer
        // when the refusal runs; a reset, once received, makes the client's next write fail, while
        // after an orderly close its first write still goes out.
        final Acceptor.AcceptCall slowAccept = listener ->
        {
            final java.nio.channels.SocketChannel channel = listener.accept();
            if (channel != null)
            {
                sleep(50);
            }
            return channel;
        };
        final byte[] request = ("PUT /kv/x HTTP/1.1\r\nHost: h\r\nContent-Length: 20000\r\n\r\n" + "x".repeat(20_000))
            .getBytes(StandardCharsets.US_ASCII);
        try (SyncEchoServer echo = new SyncEchoServer(1, new SyncEchoServer.Handler(),
            b -> b.maxConnections(1).refusalMessage(BUSY).acceptCall(slowAccept));
             Socket admitted = connect(echo.port()))
        {
            admitted.getOutputStream().write('a');
            readExactly(admitted.getInputStream(), 1);
            for (int i = 0; i < 5; i++)
            {
                try (Socket refused = connect(echo.port()))
                {
                    refused.getOutputStream().write(request);
                    assertArrayEquals(BUSY, readToEnd(refused.getInputStream()), "refusal " + i + ": the message, then end of stream");
                    sleep(50); // a reset sent with the close would have arrived by now
                    refused.getOutputStream().write('y'); // throws "Broken pipe" / "Connection reset" after a reset
                }
            }
            awaitTrue(() -> echo.server.stats().refused() == 5, "all five counted: " + echo.server.stats());
            admitted.getOutputStream().write('b');
            assertArrayEquals(new byte[] {'b'}, readExactly(admitted.getInputStream(), 1), "the admitted one is still served");
        }
    }

    @Test
    void withoutAMessageARefusedPeerSeesAPlainClose() throws Exception
    {
        try (SyncEchoServer echo = new SyncEchoServer(1, new SyncEchoServer.Handler(), b -> b.maxConnections(1).refusalMessage(new byte[0]));
             Socket admitted = connect(echo.port()))
        {
            admitted.getOutputStream().write('a');
            readExactly(admitted.getInputStream(), 1);
            try (Socket refused = connect(echo.port()))
            {
                assertEquals(-1, refused.getInputStream().read(), "closed with nothing said (the default)");
            }
            assertEquals(1, echo.server.stats().refused());
        }
    }

    @Test
    void aMessageTooLongForOneWriteOrNullFailsFast()
    {
        final TcpServerBuilder b = TcpServer.builder(new SyncEchoServer.Handler());
        final IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> b.refusalMessage(new byte[4097]));
        assertTrue(tooLong.getMessage().contains("4097") && tooLong.getMessage().contains("4096"), tooLong.getMessage());
        final NullPointerException none = assertThrows(NullPointerException.class, () -> b.refusalMessage(null));
        assertTrue(none.getMessage().contains("empty array"), none.getMessage());
    }

    @Test
    void theMessageIsCopiedSoLaterChangesToTheArrayDoNotLeak() throws Exception
    {
        final byte[] message = "busy\n".getBytes(StandardCharsets.US_ASCII);
        try (SyncEchoServer echo = new SyncEchoServer(1, new SyncEchoServer.Handler(), b -> b.maxConnections(1).refusalMessage(message));
             Socket admitted = connect(echo.port()))
        {
            message[0] = 'X';
            admitted.getOutputStream().write('a');
            readExactly(admitted.getInputStream(), 1);
            try (Socket refused = connect(echo.port()))
            {
                assertArrayEquals("busy\n".getBytes(StandardCharsets.US_ASCII), readToEnd(refused.getInputStream()));
            }
        }
    }

    private static void sleep(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Everything until end of stream; a reset fails the test (that is what the refusal avoids). */
    private static byte[] readToEnd(final InputStream in) throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf)) >= 0)
        {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
