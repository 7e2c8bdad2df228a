package io.millrace.http;

import io.millrace.Pipeline;
import io.millrace.ShutdownReport;
import io.millrace.memory.SlabArena;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.net.TcpServer;
import io.millrace.net.TransportStats;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * An HTTP/1.1 server on a Millrace pipeline: connections are read and parsed on their worker,
 * routed as soon as a head is complete, and each whole request goes through the route's stage (your
 * code, placed where you say) and back to its connection's worker to be answered.
 *
 * <pre>
 *  socket read + parse (worker W, in the transport's callback: a request still arriving holds no permit)
 *     -> route   [onWorker W]   continue at the stage the head was routed to
 *     -> your stages            inline, partitioned, blocking...
 *     -> respond [onWorker W]   head + body gathered into one write, or head + sendfile;
 *                               the next pipelined request is parsed in the same dispatch
 * </pre>
 *
 * Build one with {@link #builder()}. Thread-safe: every method may be called from any thread
 * other than a pipeline thread (see {@link #shutdown}).
 */
public final class HttpServer implements AutoCloseable
{
    private final Pipeline<HttpExchange> pipeline;
    private final TcpServer transport;
    private final SlabArena arena;
    private final HttpServerCore core;
    private final List<StaticFileStage> fileStages;

    HttpServer(final Pipeline<HttpExchange> pipeline, final TcpServer transport, final SlabArena arena, final HttpServerCore core,
        final List<StaticFileStage> fileStages)
    {
        this.fileStages = fileStages;
        this.pipeline = pipeline;
        this.transport = transport;
        this.arena = arena;
        this.core = core;
    }

    /**
     * @return a builder with the defaults listed on {@link HttpServerBuilder}
     */
    public static HttpServerBuilder builder()
    {
        return new HttpServerBuilder();
    }

    void start()
    {
        pipeline.start();
    }

    /** @return where it listens, with the real port */
    public InetSocketAddress address()
    {
        return transport.localAddress();
    }

    /** @return the pipeline's metrics: stages, workers, latency */
    public MetricsSnapshot metrics()
    {
        return pipeline.metrics();
    }

    /** @return the HTTP layer's own counters and gauges */
    public HttpServerStats stats()
    {
        return new HttpServerStats(core.budget.used(), core.budget.limit(), core.budget.refusals(), core.clientsGone.get(),
            core.requestTimeouts.get(), core.continues.get(), core.handlerErrors.get());
    }

    /** @return the transport's counters */
    public TransportStats transportStats()
    {
        return transport.stats();
    }

    /** @return the outbound connections' counters, summed over the workers (all zero without a proxy) */
    public io.millrace.net.OutboundStats outboundStats()
    {
        return transport.outboundStats();
    }

    /** @return the arena the workers' buffers come from */
    public SlabArena arena()
    {
        return arena;
    }

    /** @return the pipeline, for its failure state and metrics */
    public Pipeline<HttpExchange> pipeline()
    {
        return pipeline;
    }

    /**
     * Stops accepting, drains requests in flight until the deadline, and closes.
     *
     * @param deadline how long the drain may take
     * @return what was drained and dropped
     */
    public ShutdownReport shutdown(final Duration deadline)
    {
        final ShutdownReport report = pipeline.shutdown(deadline);
        // The workers have ended: their open-file caches close the files they kept and let go of their memory.
        for (final StaticFileStage files : fileStages)
        {
            files.workersStopped();
        }
        return report;
    }

    @Override
    public void close()
    {
        shutdown(Duration.ofSeconds(10));
    }
}
