/**
 * The network transport: a {@link io.millrace.net.TcpServer} whose sockets are polled by the
 * pipeline's own workers, each with its own selector, listening socket ({@code SO_REUSEPORT}) and
 * connections. Reads land in pooled buffer chains; writes are gathering writes and sendfile;
 * queued output is capped per connection (reading pauses above the cap); idle and read-deadline
 * timeouts and a connection limit over all workers bound what a peer can hold, and a refused peer
 * can be told why.
 */
package io.millrace.net;
