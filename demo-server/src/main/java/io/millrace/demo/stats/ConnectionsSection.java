package io.millrace.demo.stats;

import io.millrace.http.HttpServerStats;
import io.millrace.net.TransportStats;

import java.util.function.Supplier;

/**
 * The transport's and the HTTP layer's counters: connections, bytes, timeouts, errors, and the
 * request-body memory budget.
 *
 * <p>Stateless apart from its two sources; safe from any thread.
 */
public final class ConnectionsSection implements StatsSection
{
    private final Supplier<TransportStats> transport;
    private final Supplier<HttpServerStats> http;

    /**
     * @param transport the transport's counters, e.g. {@code server::transportStats}
     * @param http      the HTTP layer's counters, e.g. {@code server::stats}
     */
    public ConnectionsSection(final Supplier<TransportStats> transport, final Supplier<HttpServerStats> http)
    {
        this.transport = transport;
        this.http = http;
    }

    @Override
    public String title()
    {
        return "Connections";
    }

    @Override
    public void render(final StatsFrame frame, final StringBuilder html)
    {
        final TransportStats t = transport.get();
        html.append("<table>\n");
        Html.row(html, "th", 0, "open", "accepted", "refused", "closed", "idle timeouts", "request timeouts", "I/O errors",
            "read pauses", "read", "written", "queued output", "most queued on one");
        Html.row(html, "td", 0, Units.count(t.open()), Units.count(t.accepted()), Units.count(t.refused()),
            Units.count(t.closed()), Units.count(t.idleTimeouts()), Units.count(t.readTimeouts()), Units.count(t.ioErrors()),
            Units.count(t.readPauses()), Units.bytes(t.bytesRead()), Units.bytes(t.bytesWritten()),
            Units.bytes(t.pendingOutputBytes()), Units.bytes(t.maxPendingOutputBytes()));
        html.append("</table>\n");
        final HttpServerStats h = http.get();
        final double bodyFill = h.bodyBytesLimit() <= 0 ? 0 : (double)h.bodyBytesHeld() / h.bodyBytesLimit();
        html.append("<table>\n");
        Html.row(html, "th", 0, "request bodies held", "refused for body memory", "clients gone (499)",
            "request timeouts (408)", "100 Continue sent", "handler errors (500)");
        Html.row(html, "td", 0, Html.bar(bodyFill, Units.bytes(h.bodyBytesHeld()) + " of " + Units.bytes(h.bodyBytesLimit()),
                bodyFill > 0.8), Units.count(h.bodyBudgetRefusals()), Units.count(h.clientsGone()),
            Units.count(h.requestTimeouts()), Units.count(h.continues()), Units.count(h.handlerErrors()));
        html.append("</table>\n");
    }
}
