package io.millrace.net;

/**
 * What the holder of a lease on an {@link OutboundConnection} is told. Pass one to
 * {@link OutboundConnections#acquire}; it receives the callbacks of that lease only, until the lease
 * ends (its {@link #onConnectFailed} or {@link #onClosed}, or the holder's own
 * {@link OutboundConnections#release}, {@link OutboundConnection#close()} or
 * {@link OutboundConnection#abort()}, after which no callback comes). A handler per request (a
 * proxy's exchange) is the natural shape; one handler may also serve many leases and tell them apart
 * by {@link OutboundConnection#attachment()}.
 *
 * <p>Every callback runs on the worker that owns the connection, inside its loop, never inside a call
 * the handler made: a pooled connection handed out by {@code acquire}, or a connect that failed at
 * once, is reported later in the same worker turn, after {@code acquire} returned. A callback must not
 * block.
 *
 * <p>Anything a callback throws (an {@code Error} such as {@code StackOverflowError} included; only
 * fatal VM errors propagate, see {@link io.millrace.worker.Fatal}) closes that connection, is counted
 * in {@link OutboundStats#handlerErrors()} and logged with its stack trace at most once per second
 * per worker; the handler then gets {@link #onClosed} with {@link OutboundCloseCause#HANDLER_ERROR}
 * (unless the callback that threw was {@code onConnectFailed} or {@code onClosed}), and the worker
 * serves on.
 */
public interface OutboundHandler
{
    /**
     * The connection is ready for a request: freshly connected, or taken from the pool
     * ({@link OutboundConnection#reused()} tells which). Bytes written before this (allowed while
     * connecting) are on their way.
     *
     * @param connection the leased connection
     */
    void onConnected(OutboundConnection connection);

    /**
     * The connect failed; the connection is closed and the lease is over. No byte reached the upstream.
     *
     * @param connection the failed connection, closed; its {@link OutboundConnection#address()} says where
     * @param cause      why
     * @param detail     the exception behind it, or null for {@link ConnectFailure#TIMEOUT} and
     *                   {@link ConnectFailure#SHUTDOWN}
     */
    void onConnectFailed(OutboundConnection connection, ConnectFailure cause, Exception detail);

    /**
     * New bytes were appended to {@link OutboundConnection#inbound()}. Consume what forms whole messages
     * and leave the rest: reading pauses while the unconsumed bytes exceed
     * {@link OutboundOptions#maxInboundBytes}, and goes on once you consume them and call
     * {@link OutboundConnection#resumeReading()}. When the response is complete, give the connection back
     * with {@link OutboundConnections#release} (here is fine).
     *
     * @param connection the connection that read
     */
    void onData(OutboundConnection connection);

    /**
     * Queued output fell to the low watermark after {@link OutboundConnection#isWritable()} had turned
     * false at the high one: a proxy that stopped reading its client may read again.
     *
     * @param connection the connection that drained
     */
    default void onWritable(final OutboundConnection connection)
    {
    }

    /**
     * The connection closed during the lease for a reason the holder did not choose: the upstream
     * closed or reset it, a read timed out, a callback threw, or the transport shut down. The lease is
     * over. {@link OutboundConnection#inbound()} still holds the bytes not yet consumed during this call
     * (for a close-delimited response, its last bytes); take what you need, as they are released after.
     *
     * <p>{@code staleReuse} is the keep-alive race: the connection came from the pool, and the upstream
     * closed or reset it before a single byte came back in this lease, most likely because it closed the
     * idle connection while the request was on its way. Such a request did not reach the upstream's
     * application in any usual server, so it may be retried on a fresh connection (nginx and most
     * clients retry idempotent requests there; whether to retry others is the caller's policy).
     *
     * @param connection the closed connection
     * @param cause      one of {@link OutboundCloseCause#PEER_CLOSED}, {@link OutboundCloseCause#IO_ERROR},
     *                   {@link OutboundCloseCause#READ_TIMEOUT}, {@link OutboundCloseCause#HANDLER_ERROR},
     *                   {@link OutboundCloseCause#SHUTDOWN}
     * @param staleReuse true if the connection was reused and the cause is {@code PEER_CLOSED} or
     *                   {@code IO_ERROR} with no byte received in this lease
     */
    void onClosed(OutboundConnection connection, OutboundCloseCause cause, boolean staleReuse);
}
