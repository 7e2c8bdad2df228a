package io.millrace.demo;

import io.millrace.http.HttpServerStats;

/**
 * The HTTP layer's counters in the Prometheus text format, after the pipeline's and the transport's.
 */
final class HttpText
{
    private HttpText()
    {
    }

    static void render(final HttpServerStats s, final StringBuilder out)
    {
        family(out, "millrace_http_body_bytes_held", "Pooled memory held by request bodies now, in whole buffer chunks.", "gauge", s.bodyBytesHeld());
        family(out, "millrace_http_body_bytes_limit", "The server-wide budget for request bodies in memory.", "gauge",
            s.bodyBytesLimit());
        family(out, "millrace_http_body_budget_refusals_total", "Requests answered 503 because their body exceeded the budget.",
            "counter", s.bodyBudgetRefusals());
        family(out, "millrace_http_clients_gone_total", "Requests cancelled because their client went away (499).", "counter",
            s.clientsGone());
        family(out, "millrace_http_request_timeouts_total", "Requests that did not arrive whole in time (408).", "counter",
            s.requestTimeouts());
        family(out, "millrace_http_continues_total", "100 Continue interim responses sent.", "counter", s.continues());
        family(out, "millrace_http_handler_errors_total", "Handlers that threw or gave no response (500).", "counter",
            s.handlerErrors());
    }

    private static void family(final StringBuilder out, final String name, final String help, final String type, final long value)
    {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
            .append("# TYPE ").append(name).append(' ').append(type).append('\n')
            .append(name).append(' ').append(value).append('\n');
    }
}
