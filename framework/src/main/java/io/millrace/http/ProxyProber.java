package io.millrace.http;

import io.millrace.balance.Upstream;
import io.millrace.balance.UpstreamGroup;
import io.millrace.memory.BufferChain;
import io.millrace.memory.BufferDescriptor;
import io.millrace.net.ConnectFailure;
import io.millrace.net.OutboundCloseCause;
import io.millrace.net.OutboundConnection;
import io.millrace.net.OutboundHandler;
import io.millrace.stage.WorkerTimers;
import io.millrace.worker.Fatal;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Active health probes for an {@link HttpProxy}'s group, run on one worker's timers (HAProxy's
 * {@code inter}/{@code rise}/{@code fall}; the state machine and schedule are the group's): each
 * tick claims the probes that are due ({@link UpstreamGroup#claimDueProbes}, exactly one worker wins
 * each), and runs each as an HTTP {@code GET} of the health path on a connection from this worker's
 * pool (a 2xx or 3xx answer is a success), or, without a path, as a TCP connect. Every worker that
 * serves proxied requests runs one; the claim keeps them from probing twice.
 *
 * <p>Threading: its worker's thread only (timer callbacks and outbound callbacks).
 */
final class ProxyProber implements WorkerTimers.Callback
{
    /** The longest wait between two looks at the schedule: a group change is seen within it. */
    private static final long MAX_WAIT_NANOS = 1_000_000_000L;

    private final ProxyWorker w;
    private final WorkerTimers timers;
    private final UpstreamGroup group;
    private final String path;

    ProxyProber(final ProxyWorker w, final WorkerTimers timers, final String path)
    {
        this.w = w;
        this.timers = timers;
        this.group = w.proxy.group;
        this.path = path;
        timers.scheduleAfter(1_000_000L, this);
    }

    @Override
    public void onTimer(final long timerId, final long nowNanos)
    {
        try
        {
            final List<Upstream> due = group.claimDueProbes(group.now());
            for (int i = 0; i < due.size(); i++)
            {
                start(due.get(i));
            }
        }
        catch (final Throwable ex)
        {
            Fatal.rethrowIfFatal(ex);
            w.proxy.countError(); // a probe that cannot start (an address that does not resolve) is left to the next tick
        }
        final long wait = group.nanosUntilNextProbe(group.now());
        timers.scheduleAfter(wait < 0 ? MAX_WAIT_NANOS : Math.max(1_000_000L, Math.min(MAX_WAIT_NANOS, wait)), this);
    }

    private void start(final Upstream u)
    {
        final Probe probe = new Probe(u); // rare (once per interval per upstream): allocation is fine here
        final OutboundConnection c = w.out.acquire(w.address(u), probe);
        if (c == null)
        {
            u.probeFailed(); // no connection to be had: the upstream cannot take traffic from this worker either
        }
    }

    /** One probe's connection handler. */
    private final class Probe implements OutboundHandler
    {
        private final Upstream upstream;
        private final HttpResponseParser parser = new HttpResponseParser();
        private boolean reported;
        private boolean retried;

        Probe(final Upstream upstream)
        {
            this.upstream = upstream;
        }

        private void report(final boolean ok)
        {
            if (!reported)
            {
                reported = true;
                if (ok)
                {
                    upstream.probeSucceeded();
                }
                else
                {
                    upstream.probeFailed();
                }
            }
        }

        @Override
        public void onConnected(final OutboundConnection c)
        {
            if (path == null)
            {
                report(true);
                w.out.release(c, true);
                return;
            }
            parser.reset("GET");
            final ByteBuffer head = w.head.clear();
            RequestEncoder.head(head, "GET", path, upstream.name(), HeaderBlock.EMPTY, RequestEncoder.NO_BODY, false, null);
            final BufferChain out = c.allocator().newChain();
            final BufferDescriptor d = c.allocator().allocate();
            out.append(d);
            head.flip();
            d.put(head);
            c.write(out);
        }

        @Override
        public void onConnectFailed(final OutboundConnection c, final ConnectFailure cause, final Exception detail)
        {
            report(false);
        }

        @Override
        public void onData(final OutboundConnection c)
        {
            final BufferChain in = c.inbound();
            BufferDescriptor d;
            while ((d = in.first()) != null)
            {
                final ByteBuffer v = d.readableBuffer();
                final int base = v.position();
                final int result = parser.feed(v);
                final int used = v.position() - base;
                if (used == d.length())
                {
                    in.removeFirst().release();
                }
                else
                {
                    d.skip(used);
                }
                if (result == HttpResponseParser.ERROR)
                {
                    report(false);
                    c.abort();
                    return;
                }
                if (result == HttpResponseParser.COMPLETE || parser.isComplete())
                {
                    report(parser.status() >= 200 && parser.status() < 400);
                    w.out.release(c, parser.keepAlive());
                    return;
                }
                if (used == 0)
                {
                    return;
                }
            }
        }

        @Override
        public void onClosed(final OutboundConnection c, final OutboundCloseCause cause, final boolean staleReuse)
        {
            if (staleReuse && !retried)
            {
                retried = true; // the keep-alive race, not the upstream's health: once more on a fresh connection
                if (w.out.acquire(w.address(upstream), this) != null)
                {
                    return;
                }
            }
            if (cause == OutboundCloseCause.PEER_CLOSED && parser.headComplete() && parser.endOfInput() == HttpResponseParser.COMPLETE)
            {
                report(parser.status() >= 200 && parser.status() < 400);
                return;
            }
            report(false);
        }
    }

}
