package io.millrace.net;

/**
 * What a server does with its connections. Every callback runs on the worker thread that owns the
 * connection, inside that worker's loop; a callback must not block. One handler serves all
 * connections of a {@link TcpServer}, so per-connection state goes in
 * {@link Connection#attach(Object)}.
 *
 * <p>Anything a callback throws, an {@code Error} such as {@code AssertionError} or
 * {@code StackOverflowError} included, closes that connection, is counted in
 * {@link TransportStats#handlerErrors()} and is logged with its stack trace at most once per second
 * per worker; the worker lives on and serves its other connections. Only fatal VM errors
 * ({@code OutOfMemoryError}, {@code InternalError}; see {@link io.millrace.worker.Fatal}) propagate
 * and fail the pipeline.
 */
public interface ConnectionHandler
{
    /**
     * A connection was accepted and registered with its worker.
     *
     * @param connection the new connection
     */
    default void onOpen(final Connection connection)
    {
    }

    /**
     * New bytes were appended to {@link Connection#inbound()}. Consume what forms whole messages
     * and leave the rest: reading stops while the unconsumed bytes exceed
     * {@link TcpServerBuilder#maxInboundBytes(int)}, and starts again once you consume them and call
     * {@link Connection#resumeReading()} (or write).
     *
     * @param connection the connection that read
     */
    void onRead(Connection connection);

    /**
     * The peer shut down its output (end of stream); bytes read before are in
     * {@link Connection#inbound()} and {@link #onRead} has seen them. The connection stays open so
     * that answers to what was read can still be sent: close it when they are. The default closes
     * once queued output is sent, which suits a handler that answers synchronously in onRead.
     *
     * @param connection the connection whose input ended
     */
    default void onInputEnded(final Connection connection)
    {
        connection.closeAfterFlush();
    }

    /**
     * Queued output fell below the cap again after {@link Connection#isWritable()} had turned
     * false: a handler that held back work (such as the next pipelined request) can go on.
     *
     * @param connection the connection that drained
     */
    default void onWritable(final Connection connection)
    {
    }

    /**
     * The connection's {@linkplain Connection#readDeadline(long) read deadline} passed. The
     * transport has counted it in {@link TransportStats#readTimeouts()} and disarmed the deadline.
     * Decide the connection's end here: {@link Connection#close()} (the default), or write a last
     * answer and {@link Connection#closeAfterFlush()} (the HTTP layer sends 408 this way), or arm a
     * new deadline to give it more time. If this returns with the connection open, not closing after
     * flush and with no deadline armed, the transport closes it: a timed-out connection is never left
     * with nothing watching it.
     *
     * @param connection the connection whose read deadline passed
     */
    default void onReadTimeout(final Connection connection)
    {
        connection.close();
    }

    /**
     * The connection closed, by either side or by a timeout. Its buffers are already released;
     * do not use it any more.
     *
     * @param connection the closed connection
     */
    default void onClose(final Connection connection)
    {
    }
}
