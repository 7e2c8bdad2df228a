package io.millrace.net;

/**
 * A snapshot of a {@link TcpServer}'s counters, summed over its workers. Counters only grow;
 * {@code open} and {@code pendingOutputBytes} are gauges. Each value is untorn and recent, but
 * they are not read at one instant.
 *
 * @param open                connections open now
 * @param accepted            connections accepted
 * @param refused             connections closed at once (after the refusal message, if one is set): over the
 *                            server-wide connection limit, accepted while stopping, or failing to register
 * @param closed              connections closed, for any reason
 * @param idleTimeouts        connections closed because nothing was read or written for the idle timeout
 *                            while they were not processing a request (or while closing after flush)
 * @param readTimeouts        read deadlines that passed (e.g. a slow request head); each was handed to
 *                            {@link ConnectionHandler#onReadTimeout}, which closes by default
 * @param handlerErrors       connections closed because a handler callback threw
 * @param ioErrors            connections closed because a read or write failed (e.g. reset by the peer)
 * @param acceptErrors        times accepting failed (e.g. "Too many open files"); each pauses that
 *                            listener for a back-off of 10 ms, doubling up to 1 s, reset by a successful accept
 * @param bytesRead           bytes read from sockets
 * @param bytesWritten        bytes written to sockets, file regions included
 * @param readPauses          times reading from a connection paused for backpressure (queued output or unconsumed input at its cap)
 * @param pendingOutputBytes  bytes queued for writing now, over all connections
 * @param maxPendingOutputBytes the most bytes ever queued on one connection at once
 */
public record TransportStats(
    long open,
    long accepted,
    long refused,
    long closed,
    long idleTimeouts,
    long readTimeouts,
    long handlerErrors,
    long ioErrors,
    long acceptErrors,
    long bytesRead,
    long bytesWritten,
    long readPauses,
    long pendingOutputBytes,
    long maxPendingOutputBytes)
{
}
