/**
 * The network transport: a {@link io.millrace.net.TcpServer} whose sockets are polled by the
 * pipeline's own workers, each with its own selector, listening socket ({@code SO_REUSEPORT}) and
 * connections. Reads land in pooled buffer chains; writes are gathering writes and sendfile;
 * queued output is capped per connection (reading pauses above the cap); idle and read-deadline
 * timeouts and a connection limit over all workers bound what a peer can hold, and a refused peer
 * can be told why.
 *
 * <p>Each worker also opens, pools and polls its own connections to upstreams in the same selector
 * ({@link io.millrace.net.OutboundConnections}, from {@link io.millrace.net.TcpServer#outbound(int)}):
 * non-blocking connects with a timeout on the worker's timers, a keep-alive pool per upstream
 * address, write watermarks and read pausing for backpressure, read timeouts, and the retry signal
 * of a reused connection that failed before any byte came back.
 */
package io.millrace.net;
