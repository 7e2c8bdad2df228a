package io.millrace.demo;

import io.millrace.net.TransportStats;

/**
 * The transport's counters as Prometheus text exposition 0.0.4 families, appended after the
 * pipeline's (each family has one HELP and one TYPE line and one unlabelled sample). The stats page
 * shows them through {@code io.millrace.demo.stats.ConnectionsSection}.
 */
final class TransportText
{
    private TransportText()
    {
    }

    static void render(final TransportStats s, final StringBuilder out)
    {
        gauge(out, "millrace_connections_open", "Connections open now.", s.open());
        counter(out, "millrace_connections_accepted_total", "Connections accepted.", s.accepted());
        counter(out, "millrace_connections_refused_total", "Connections closed at once because of the connection limit.", s.refused());
        counter(out, "millrace_connections_closed_total", "Connections closed for any reason.", s.closed());
        counter(out, "millrace_connection_idle_timeouts_total", "Connections closed after the idle timeout.", s.idleTimeouts());
        counter(out, "millrace_connection_read_timeouts_total", "Connections closed because a request did not arrive in time.", s.readTimeouts());
        counter(out, "millrace_connection_io_errors_total", "Connections closed after a read or write error.", s.ioErrors());
        counter(out, "millrace_connection_handler_errors_total", "Connections closed because a handler threw.", s.handlerErrors());
        counter(out, "millrace_transport_accept_errors_total", "Failed accepts (e.g. out of file descriptors); each pauses accepting for a back-off.",
            s.acceptErrors());
        counter(out, "millrace_transport_read_bytes_total", "Bytes read from sockets.", s.bytesRead());
        counter(out, "millrace_transport_written_bytes_total", "Bytes written to sockets, sendfile included.", s.bytesWritten());
        counter(out, "millrace_transport_read_pauses_total", "Times reading paused because a peer did not drain its output.", s.readPauses());
        gauge(out, "millrace_transport_pending_output_bytes", "Bytes queued for writing now.", s.pendingOutputBytes());
    }

    private static void counter(final StringBuilder out, final String name, final String help, final long value)
    {
        family(out, name, help, "counter", value);
    }

    private static void gauge(final StringBuilder out, final String name, final String help, final long value)
    {
        family(out, name, help, "gauge", value);
    }

    private static void family(final StringBuilder out, final String name, final String help, final String type, final long value)
    {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        out.append(name).append(' ').append(value).append('\n');
    }
}
