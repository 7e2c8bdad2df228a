package io.millrace.net;

import io.millrace.ShutdownReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.millrace.net.SyncEchoServer.assertClosedByServer;
import static io.millrace.net.SyncEchoServer.assertEchoes;
import static io.millrace.net.SyncEchoServer.awaitTrue;
import static io.millrace.net.SyncEchoServer.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A connection whose registration with the selector fails gives back what it took, its slot of the
 * connection limit included, and is refused.
 */
@Timeout(60)
class RegistrationFailureTest
{
    @Test
    void aConnectionThatFailsToRegisterReleasesItsBuffersAndClosesItsSocket() throws Exception
    {
        // The first accepted channel is closed between accept and registration (as a concurrent
        // close or a peer that vanishes would), so channel.register throws ClosedChannelException
        // after the connection has taken its two buffer chains.
        final AtomicBoolean first = new AtomicBoolean(true);
        final Acceptor.AcceptCall accept = listener ->
        {
            final SocketChannel real = listener.accept();
            return real != null && first.compareAndSet(true, false) ? new ClosesBeforeRegistration(real) : real;
        };
        final SyncEchoServer.Handler handler = new SyncEchoServer.Handler();
        // One connection at a time: the next is served only if the failed one gave its slot back.
        final SyncEchoServer echo = new SyncEchoServer(1, handler, b -> b.acceptCall(accept).maxConnections(1));
        try
        {
            try (Socket refused = connect(echo.port()))
            {
                assertClosedByServer(refused);
            }
            awaitTrue(() -> echo.server.stats().refused() == 1, "the connection was refused: " + echo.server.stats());
            assertEchoes(echo.port(), "the next connection is served");
            awaitTrue(() -> echo.server.stats().open() == 0, "the served connection closed");
        }
        finally
        {
            final ShutdownReport report = echo.shutdown();
            assertTrue(report.clean(), report.toString());
        }
        assertNotNull(handler.allocator, "the served connection saw its worker's allocator");
        assertEquals(0, handler.allocator.chainStats().live(),
            "every chain went back to the worker's pool, the refused connection's inbound and outbound included");
        assertEquals(0, echo.chunksInUse());
        assertEquals(0, echo.leaks.leaksReported());
        assertEquals(1, echo.server.stats().accepted(), "only the served connection counts as accepted");
        assertEquals(1, echo.server.stats().refused(), "the next connection was not refused: the slot went back");
        assertEquals(0, echo.server.connectionsInUse(), "every slot went back, none twice");
    }

    /**
     * A real accepted channel that closes itself when the transport asks for the peer's address,
     * which it does just before making the connection and registering it.
     */
    private static final class ClosesBeforeRegistration extends SocketChannel
    {
        private final SocketChannel real;

        ClosesBeforeRegistration(final SocketChannel real)
        {
            super(real.provider());
            this.real = real;
        }

        @Override
        public SocketAddress getRemoteAddress() throws IOException
        {
            final SocketAddress remote = real.getRemoteAddress();
            close();
            return remote;
        }

        @Override
        protected void implCloseSelectableChannel() throws IOException
        {
            real.close();
        }

        @Override
        protected void implConfigureBlocking(final boolean block) throws IOException
        {
            real.configureBlocking(block);
        }

        @Override
        public <T> SocketChannel setOption(final SocketOption<T> name, final T value) throws IOException
        {
            real.setOption(name, value);
            return this;
        }

        @Override
        public <T> T getOption(final SocketOption<T> name) throws IOException
        {
            return real.getOption(name);
        }

        @Override
        public Set<SocketOption<?>> supportedOptions()
        {
            return real.supportedOptions();
        }

        @Override
        public SocketChannel bind(final SocketAddress local)
        {
            throw new UnsupportedOperationException("the test double stands for an accepted channel, which is never bound or connected");
        }

        @Override
        public SocketChannel shutdownInput() throws IOException
        {
            real.shutdownInput();
            return this;
        }

        @Override
        public SocketChannel shutdownOutput() throws IOException
        {
            real.shutdownOutput();
            return this;
        }

        @Override
        public Socket socket()
        {
            return real.socket();
        }

        @Override
        public boolean isConnected()
        {
            return real.isConnected();
        }

        @Override
        public boolean isConnectionPending()
        {
            return false;
        }

        @Override
        public boolean connect(final SocketAddress remote)
        {
            throw new UnsupportedOperationException("the test double stands for an accepted channel, which is never bound or connected");
        }

        @Override
        public boolean finishConnect()
        {
            throw new UnsupportedOperationException("the test double stands for an accepted channel, which is never bound or connected");
        }

        @Override
        public int read(final ByteBuffer dst) throws IOException
        {
            return real.read(dst);
        }

        @Override
        public long read(final ByteBuffer[] dsts, final int offset, final int length) throws IOException
        {
            return real.read(dsts, offset, length);
        }

        @Override
        public int write(final ByteBuffer src) throws IOException
        {
            return real.write(src);
        }

        @Override
        public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException
        {
            return real.write(srcs, offset, length);
        }

        @Override
        public SocketAddress getLocalAddress() throws IOException
        {
            return real.getLocalAddress();
        }
    }}
