package io.millrace.net;

/**
 * Why an {@link OutboundConnection} could not be established; passed to
 * {@link OutboundHandler#onConnectFailed} and counted per value in
 * {@link OutboundStats#connectFailures(ConnectFailure)}. Every one of them means no byte reached the
 * upstream, so the request may go to another upstream whatever its method.
 */
public enum ConnectFailure
{
    /** The upstream's host answered with a reset: nothing listens on that port ({@code ECONNREFUSED}). */
    REFUSED,
    /**
     * No answer within {@link OutboundOptions#connectTimeout}: the host is down, a firewall drops the
     * SYN, or the upstream's accept queue is full (Linux then drops SYNs rather than refusing).
     */
    TIMEOUT,
    /** No route to the host or network ({@code EHOSTUNREACH}, {@code ENETUNREACH}). */
    UNREACHABLE,
    /** Any other failure to open or connect the socket, such as running out of file descriptors. */
    ERROR,
    /** The worker's transport closed (the pipeline stopped) while the connect was in progress. */
    SHUTDOWN
}
