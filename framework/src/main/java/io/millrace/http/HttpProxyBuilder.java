package io.millrace.http;

import io.millrace.balance.BalancePolicy;
import io.millrace.balance.UpstreamGroup;
import io.millrace.net.OutboundOptions;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of an {@link HttpProxy}, validated here, with the defaults in one place:
 *
 * <ul>
 *   <li>{@link #policy}: {@code round-robin};</li>
 *   <li>{@link #tries}: 3 attempts in all (nginx {@code proxy_next_upstream_tries}), each on an
 *       upstream this request has not tried;</li>
 *   <li>{@link #nextUpstreamTimeout}: 10 s after the first attempt began, no new attempt starts
 *       (nginx {@code proxy_next_upstream_timeout});</li>
 *   <li>{@link #retryOn}: no status (connect errors, timeouts and broken responses are always retried
 *       while the rules allow; nginx's {@code error timeout});</li>
 *   <li>{@link #retryNonIdempotent}: off (nginx {@code non_idempotent});</li>
 *   <li>{@link #outbound}: {@link OutboundOptions#defaults()};</li>
 *   <li>{@link #via}: {@code millrace};</li>
 *   <li>{@link #healthPath}: none, so active probes (if the group has them) are TCP connects;</li>
 *   <li>{@link #requestBuffering}: 64 KiB: bodies up to that length are read whole first (and may be
 *       retried), longer ones and chunked ones stream.</li>
 * </ul>
 *
 * <p>Threading: one thread builds.
 */
public final class HttpProxyBuilder
{
    /** The default {@link #requestBuffering} limit. */
    public static final long DEFAULT_REQUEST_BUFFER_BYTES = 64 * 1024;

    final UpstreamGroup group;
    BalancePolicy policy = BalancePolicy.named(BalancePolicy.ROUND_ROBIN);
    int tries = 3;
    long nextUpstreamNanos = Duration.ofSeconds(10).toNanos();
    boolean retry502;
    boolean retry503;
    boolean retry504;
    boolean retryNonIdempotent;
    OutboundOptions outbound = OutboundOptions.defaults();
    String via = "millrace";
    String healthPath;
    long requestBufferBytes = DEFAULT_REQUEST_BUFFER_BYTES;

    HttpProxyBuilder(final UpstreamGroup group)
    {
        this.group = Objects.requireNonNull(group, "HttpProxy.builder(null): pass the UpstreamGroup to proxy to");
    }

    /** @param value how each worker's balancer picks; @return this builder */
    public HttpProxyBuilder policy(final BalancePolicy value)
    {
        policy = Objects.requireNonNull(value, "policy(null): pass BalancePolicy.named(\"round-robin\") for the default");
        return this;
    }

    /**
     * @param value attempts per request in all, at least 1 (1: no retries). Ribbon's
     *              {@code MaxAutoRetriesNextServer = n} is {@code tries(n + 1)}
     * @return this builder
     */
    public HttpProxyBuilder tries(final int value)
    {
        if (value < 1 || value > 100)
        {
            throw new IllegalArgumentException("tries must be 1 (no retry) to 100, got " + value);
        }
        tries = value;
        return this;
    }

    /** @param value after this long since the first attempt no further attempt starts; @return this builder */
    public HttpProxyBuilder nextUpstreamTimeout(final Duration value)
    {
        if (value == null || value.isNegative() || value.isZero())
        {
            throw new IllegalArgumentException("nextUpstreamTimeout must be positive, got " + value);
        }
        nextUpstreamNanos = value.toNanos();
        return this;
    }

    /**
     * Retries responses with these statuses on the next upstream (nginx {@code http_502} ...), while
     * nothing of them went to the client: only 502, 503 and 504 are accepted.
     *
     * @param statuses some of 502, 503, 504; none turns status retries off
     * @return this builder
     */
    public HttpProxyBuilder retryOn(final int... statuses)
    {
        retry502 = false;
        retry503 = false;
        retry504 = false;
        for (final int s : statuses)
        {
            switch (s)
            {
                case 502 -> retry502 = true;
                case 503 -> retry503 = true;
                case 504 -> retry504 = true;
                default -> throw new IllegalArgumentException("retryOn takes 502, 503 and 504 only, got " + s);
            }
        }
        return this;
    }

    /** @param value whether POST and PATCH may go to another upstream after they were sent; @return this builder */
    public HttpProxyBuilder retryNonIdempotent(final boolean value)
    {
        retryNonIdempotent = value;
        return this;
    }

    /** @param value the upstream connections' timeouts and pool limits (the server copies them when built); @return this builder */
    public HttpProxyBuilder outbound(final OutboundOptions value)
    {
        outbound = Objects.requireNonNull(value, "outbound(null): pass OutboundOptions.defaults() for the defaults");
        return this;
    }

    /** @param value the pseudonym this proxy adds to {@code Via}, a token; @return this builder */
    public HttpProxyBuilder via(final String value)
    {
        new ProxyHeaders(value); // validates it
        via = value;
        return this;
    }

    /**
     * Active probes, when the group has them ({@code UpstreamGroupBuilder.probes}), are an HTTP GET of
     * this path, healthy on a 2xx or 3xx answer; without a path they are TCP connects.
     *
     * @param path an origin-form path such as {@code /health}, or null for TCP connects
     * @return this builder
     */
    public HttpProxyBuilder healthPath(final String path)
    {
        if (path != null && (path.isEmpty() || path.charAt(0) != '/' || path.chars().anyMatch(c -> c <= ' ' || c >= 0x7F || c == '#')))
        {
            throw new IllegalArgumentException("healthPath must be a path such as /health (visible US-ASCII, no '#'), got '" +
                path + "'");
        }
        healthPath = path;
        return this;
    }

    /**
     * Which request bodies are read whole before the first attempt and which stream to the upstream as
     * they arrive (nginx {@code proxy_request_buffering on | off}, decided per request here). A body
     * whose Content-Length is at most {@code maxBytes} is read whole first, within the server's
     * {@code maxBodyBytes} and body-memory budget, and kept, so a failed attempt can go to another
     * upstream. A longer body, or a chunked one (its length is unknown), enters the proxy at its head
     * and streams with backpressure both ways, holding a bounded amount of memory whatever its size; it
     * can go to another upstream only until its first streamed byte was sent (a refused or timed-out
     * connect is still retried), and after that a failed upstream gives the client a 502 (or a cut
     * connection if the response began). The server's {@code maxBodyBytes} still bounds every body.
     *
     * @param maxBytes 0 to stream every body; {@link Long#MAX_VALUE} to read every body whole (nginx's
     *                 {@code on}, without a spill to disk); default {@value #DEFAULT_REQUEST_BUFFER_BYTES}
     * @return this builder
     */
    public HttpProxyBuilder requestBuffering(final long maxBytes)
    {
        if (maxBytes < 0)
        {
            throw new IllegalArgumentException("requestBuffering takes 0 (stream every body) up to Long.MAX_VALUE (buffer " +
                "every body), got " + maxBytes);
        }
        requestBufferBytes = maxBytes;
        return this;
    }

    /** @return the proxy, to pass to {@link HttpServerBuilder#proxy} */
    public HttpProxy build()
    {
        return new HttpProxy(this);
    }
}
