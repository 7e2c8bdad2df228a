package io.millrace.demo;

import io.millrace.balance.BalancePolicy;
import io.millrace.balance.RefreshResult;
import io.millrace.balance.UpstreamGroup;
import io.millrace.balance.UpstreamGroupBuilder;
import io.millrace.balance.UpstreamSpec;
import io.millrace.http.HttpProxy;
import io.millrace.http.HttpProxyBuilder;
import io.millrace.net.OutboundOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The demo as a reverse proxy: the {@link UpstreamGroup} and the {@link HttpProxy} made from
 * {@link ProxySettings}, and the upstream file's reload.
 *
 * <p>The group is the {@code --upstream} flags' upstreams followed by the {@code --upstream-file}'s.
 * {@link #reload()} re-reads the file and makes the group that list again with
 * {@link UpstreamGroup#update}: a new name joins, a missing one drains (no new requests; those in
 * flight finish, then it is removed), one still listed keeps its statistics and takes its new
 * settings. A file that cannot be read or parsed changes nothing. {@code DemoServer} calls it on
 * SIGHUP.
 *
 * <p>A draining upstream is removed by the balancer that ends its last request; a daemon thread
 * ({@code demo-upstream-reaper}) also calls {@link UpstreamGroup#reapDrained()} once a second, for an
 * end that raced with the drain (the library asks for such a timer).
 *
 * <p>Threading: {@link #reload()} may run on any thread (the signal handler's, a test's); reloads are
 * serialised by this object's lock, and the group serialises its own changes.
 */
final class ProxyMode implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ProxyMode.class);

    private final ProxySettings settings;
    private final UpstreamGroup group;
    private final HttpProxy proxy;
    private final ScheduledExecutorService reaper;

    private ProxyMode(final ProxySettings settings, final UpstreamGroup group, final HttpProxy proxy)
    {
        this.settings = settings;
        this.group = group;
        this.proxy = proxy;
        this.reaper = Executors.newSingleThreadScheduledExecutor(r ->
        {
            final Thread t = new Thread(r, "demo-upstream-reaper");
            t.setDaemon(true);
            return t;
        });
        reaper.scheduleWithFixedDelay(this::reap, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * Makes the group (reading the upstream file) and the proxy.
     *
     * @param settings the proxy flags
     * @param workers  the server's workers: one balancer each
     * @return the proxy mode, its reaper running
     * @throws IllegalArgumentException for a bad upstream file, naming the file and line
     * @throws UncheckedIOException     if the upstream file cannot be read
     */
    static ProxyMode create(final ProxySettings settings, final int workers)
    {
        final UpstreamGroupBuilder b = UpstreamGroup.builder().name("upstreams").workers(workers)
            .passive(settings.maxFails(), Duration.ofMillis(settings.failTimeoutMs()))
            .maxEjection(Duration.ofMillis(settings.maxEjectionMs()))
            .maxEjectionPercent(settings.maxEjectionPercent())
            .slowStart(Duration.ofMillis(settings.slowStartMs()))
            .latencyDecay(Duration.ofMillis(settings.latencyDecayMs()))
            .statsView(settings.statsView())
            .add(upstreams(settings));
        if (settings.probes())
        {
            b.probes(Duration.ofMillis(settings.probeIntervalMs()), settings.rise(), settings.fall());
        }
        final UpstreamGroup group = b.build();
        final OutboundOptions outbound = OutboundOptions.defaults()
            .connectTimeout(Duration.ofMillis(settings.connectTimeoutMs()))
            .readTimeout(Duration.ofMillis(settings.readTimeoutMs()))
            .idleTimeout(Duration.ofMillis(settings.idleTimeoutMs()))
            .maxIdlePerUpstream(settings.keepalive())
            .maxRequestsPerConnection(settings.keepaliveRequests())
            .maxConnectionsPerUpstream(settings.maxConns());
        final HttpProxyBuilder p = HttpProxy.builder(group)
            .policy(BalancePolicy.named(settings.balance()))
            .tries(settings.retries() + 1)
            .nextUpstreamTimeout(Duration.ofMillis(settings.nextUpstreamTimeoutMs()))
            .retryOn(settings.retryOn().stream().mapToInt(Integer::intValue).toArray())
            .retryNonIdempotent(settings.retryNonIdempotent())
            .via(settings.via())
            .healthPath(settings.healthPath())
            .outbound(outbound);
        return new ProxyMode(settings, group, p.build());
    }

    /** The flags' upstreams, then the file's; a name in both is an error. */
    private static List<UpstreamSpec> upstreams(final ProxySettings settings)
    {
        final List<UpstreamSpec> all = new ArrayList<>(settings.upstreams());
        if (settings.upstreamFile() != null)
        {
            final List<UpstreamSpec> fromFile;
            try
            {
                fromFile = UpstreamSpec.readFile(settings.upstreamFile());
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException("--upstream-file: cannot read " + settings.upstreamFile().toAbsolutePath() +
                    ": " + e, e);
            }
            catch (final IllegalArgumentException e)
            {
                throw new IllegalArgumentException("--upstream-file: " + e.getMessage(), e);
            }
            for (final UpstreamSpec spec : fromFile)
            {
                if (all.stream().anyMatch(s -> s.name().equals(spec.name())))
                {
                    throw new IllegalArgumentException("--upstream-file " + settings.upstreamFile() + " lists " + spec.name() +
                        ", which an --upstream flag gives already; give each upstream once");
                }
                all.add(spec);
            }
        }
        return all;
    }

    /**
     * Re-reads the upstream file and applies it (see the class comment). Without a file the group
     * stays as it is.
     *
     * @return what changed
     * @throws IllegalArgumentException if the file is malformed (nothing changed)
     * @throws UncheckedIOException     if it cannot be read (nothing changed)
     */
    synchronized RefreshResult reload()
    {
        if (settings.upstreamFile() == null)
        {
            return new RefreshResult(0, 0, group.upstreams().size(), 0);
        }
        final RefreshResult result = group.update(upstreams(settings));
        group.reapDrained();
        return result;
    }

    /** The SIGHUP handler's body: {@link #reload()}, logged, never thrown. */
    void reloadLogged()
    {
        if (settings.upstreamFile() == null)
        {
            LOG.info("SIGHUP: there is no --upstream-file to re-read; the upstreams stay as they were");
            return;
        }
        try
        {
            final RefreshResult r = reload();
            LOG.info("re-read {}: {} added, {} changed, {} unchanged, {} draining", settings.upstreamFile(), r.added(),
                r.changed(), r.unchanged(), r.draining());
        }
        catch (final RuntimeException e)
        {
            LOG.warn("the upstream file was not applied; the upstreams stay as they were: {}", e.getMessage());
        }
    }

    private void reap()
    {
        try
        {
            group.reapDrained();
        }
        catch (final RuntimeException e)
        {
            LOG.warn("reaping drained upstreams failed", e);
        }
    }

    /** @return the upstream group */
    UpstreamGroup group()
    {
        return group;
    }

    /** @return the proxy, for {@code HttpServerBuilder.proxy} */
    HttpProxy proxy()
    {
        return proxy;
    }

    /** @return the settings it was made from */
    ProxySettings settings()
    {
        return settings;
    }

    /** Stops the reaper. */
    @Override
    public void close()
    {
        reaper.shutdownNow();
    }
}
