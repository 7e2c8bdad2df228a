package io.millrace.http;

import io.millrace.balance.Balancer;
import io.millrace.balance.Tried;
import io.millrace.balance.Upstream;
import io.millrace.net.OutboundConnections;
import io.millrace.net.OutboundPoolListener;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;

/**
 * One worker's share of an {@link HttpProxy}: its balancer, its outbound pool, the scratch buffers
 * heads are encoded in, the resolved upstream addresses, and a free list of {@link ProxyCall}s (one
 * per request in flight on this worker, reused). It listens to the worker's outbound pool and
 * reports each upstream's connections to the balancer ({@code connectionOpened} ...), so that the
 * {@code max-conns} circuit breaker counts what is really open; connections to an address that is not
 * one of the group's are not counted.
 *
 * <p>Threading: made and used on its worker's thread only ({@link #thread}).
 */
final class ProxyWorker implements OutboundPoolListener
{
    final HttpProxy proxy;
    final OutboundConnections out;
    final Balancer balancer;
    final ProxyHeaders headers;
    final Thread thread = Thread.currentThread();
    /** A request or response head; a head's fields fit twice the parser's limit and 1 KiB. */
    final ByteBuffer head = ByteBuffer.allocate(ResponseEncoder.MAX_HEAD_BYTES + 4 * HttpRequestParser.DEFAULT_MAX_HEADER_BYTES);
    /** Forwarded field lines, passed as the encoders' {@code extra}. */
    final ByteBuffer fields = ByteBuffer.allocate(2 * HttpRequestParser.DEFAULT_MAX_HEADER_BYTES + 1024);
    /** Chunk framing for a body relayed chunked. */
    final ByteBuffer framing = ByteBuffer.allocate(32);
    /** This worker's share of the active probes; set once, right after construction. */
    ProxyProber prober;
    private final ArrayDeque<ProxyCall> free = new ArrayDeque<>();
    private final IdentityHashMap<Upstream, InetSocketAddress> addresses = new IdentityHashMap<>();
    /** The reverse of {@link #addresses}: the member a pool event's address belongs to (the latest one resolved). */
    private final HashMap<InetSocketAddress, Upstream> members = new HashMap<>();

    ProxyWorker(final HttpProxy proxy, final OutboundConnections out, final Balancer balancer, final String via)
    {
        this.proxy = proxy;
        this.out = out;
        this.balancer = balancer;
        this.headers = new ProxyHeaders(via);
        out.addListener(this);
    }

    ProxyCall obtain()
    {
        final ProxyCall call = free.poll();
        return call != null ? call : new ProxyCall(this);
    }

    void giveBack(final ProxyCall call)
    {
        if (free.size() < 1024) // more calls than that in flight at once on a worker are left to the GC
        {
            free.push(call);
        }
    }

    Upstream pick(final Tried tried, final String clientAddress)
    {
        return balancer.needsKey() ? balancer.pick(clientAddress, tried) : balancer.pick(tried);
    }

    /**
     * The upstream's socket address, resolved once per worker and upstream (the group keeps the
     * same {@code Upstream} for as long as it stays, so the map holds one entry per member ever seen).
     */
    InetSocketAddress address(final Upstream u)
    {
        InetSocketAddress a = addresses.get(u);
        if (a == null)
        {
            final Object endpoint = u.spec().endpoint();
            a = endpoint instanceof InetSocketAddress e ? e : new InetSocketAddress(u.spec().host(), u.spec().port());
            if (a.isUnresolved())
            {
                throw new IllegalStateException("upstream " + u.name() + " does not resolve");
            }
            if (addresses.size() > 4096)
            {
                addresses.clear(); // removed members are not kept forever
            }
            addresses.put(u, a);
            members.put(a, u); // an address re-added to the group maps to its new member
        }
        return a;
    }

    // ------------------------------------------------------------------ the pool's events, to the balancer

    @Override
    public void connectionOpened(final InetSocketAddress upstream)
    {
        final Upstream u = members.get(upstream);
        if (u != null)
        {
            balancer.connectionOpened(u);
        }
    }

    @Override
    public void connectionIdle(final InetSocketAddress upstream)
    {
        final Upstream u = members.get(upstream);
        if (u != null)
        {
            balancer.connectionIdle(u);
        }
    }

    @Override
    public void connectionReused(final InetSocketAddress upstream)
    {
        final Upstream u = members.get(upstream);
        if (u != null)
        {
            balancer.connectionReused(u);
        }
    }

    @Override
    public void connectionClosed(final InetSocketAddress upstream, final boolean wasIdle)
    {
        final Upstream u = members.get(upstream);
        if (u != null)
        {
            balancer.connectionClosed(u, wasIdle);
        }
    }

    @Override
    public String toString()
    {
        return "proxy worker " + balancer.worker() + " of " + proxy;
    }
}
