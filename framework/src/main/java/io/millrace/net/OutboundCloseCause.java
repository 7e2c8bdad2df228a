package io.millrace.net;

/**
 * Why an established {@link OutboundConnection} closed; counted per value in
 * {@link OutboundStats#closes(OutboundCloseCause)}. Only the first five reach a handler, through
 * {@link OutboundHandler#onClosed}: they end a lease the handler did not end itself. The others
 * close connections that no handler holds (idle in the pool) or that the holder gave up.
 */
public enum OutboundCloseCause
{
    /**
     * The upstream ended its output (end of stream) while the connection was leased. For a
     * close-delimited response this is its end; {@link OutboundConnection#inbound()} still holds
     * the bytes not yet consumed while {@link OutboundHandler#onClosed} runs.
     */
    PEER_CLOSED,
    /** A read or write failed (typically a reset by the upstream), or no buffer was left for a read. */
    IO_ERROR,
    /** No byte arrived within the lease's {@linkplain OutboundConnection#readTimeout(long) read timeout}. */
    READ_TIMEOUT,
    /** A callback of the lease's {@link OutboundHandler} threw. */
    HANDLER_ERROR,
    /** The worker's transport closed (the pipeline stopped) while the connection was leased. */
    SHUTDOWN,
    /** The holder closed it ({@link OutboundConnection#close()}, {@link OutboundConnection#abort()}) or released it as not reusable. */
    CLOSED_BY_HOLDER,
    /**
     * Released as reusable, but not clean: unconsumed input, unsent output, its input ended, or the
     * transport is closing. A keep-alive connection carries its next request only from a clean state.
     */
    NOT_REUSABLE,
    /** Released after serving {@link OutboundOptions#maxRequestsPerConnection} leases. */
    MAX_REQUESTS,
    /** Older than {@link OutboundOptions#maxLifetime} when released or taken from the pool. */
    MAX_LIFETIME,
    /**
     * Idle in the pool when it was full: the least recently used idle connection makes room (as nginx
     * does); or released as reusable while {@link OutboundOptions#maxIdlePerUpstream} is 0 (no pooling).
     */
    POOL_FULL,
    /** Idle in the pool for {@link OutboundOptions#idleTimeout}. */
    IDLE_TIMEOUT,
    /**
     * Found closed (end of stream, a reset) or sending unrequested bytes while idle in the pool, and
     * dropped before any request was sent on it (nginx's keep-alive close handler does the same).
     */
    STALE_IN_POOL
}
