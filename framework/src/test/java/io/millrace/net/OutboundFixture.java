package io.millrace.net;

import io.millrace.Idle;
import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.SubmitResult;
import io.millrace.memory.LeakDetector;
import io.millrace.memory.SlabArena;
import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Test fixture for outbound connections: a {@link TcpServer} (its inbound side unused) in a pipeline
 * whose one stage runs a task on the worker the task names, with that worker's
 * {@link OutboundConnections}: the way a proxy stage uses them. The test thread waits for the task's
 * result; the handlers' callbacks then run on the same worker.
 */
final class OutboundFixture implements AutoCloseable
{
    /** A task for one worker. */
    static final class Task
    {
        final int worker;
        final Function<OutboundConnections, Object> action;
        final CompletableFuture<Object> result = new CompletableFuture<>();

        Task(final int worker, final Function<OutboundConnections, Object> action)
        {
            this.worker = worker;
            this.action = action;
        }
    }

    final LeakDetector leaks = LeakDetector.paranoid();
    final TcpServer server;
    final Pipeline<Task> pipeline;
    final Thread[] workerThreads;

    OutboundFixture(final int workers, final OutboundOptions options)
    {
        server = TcpServer.builder(Connection::close).bind(SyncEchoServer.ANY_PORT).outbound(options).build();
        final PipelineBuilder<Task> b = Pipeline.builder();
        final StageRef<Task> run = b.stage("run", Placement.onWorker(t -> t.worker));
        b.handle(run, (t, ctx) ->
        {
            try
            {
                if (ctx.workerIndex() != t.worker)
                {
                    throw new AssertionError("task for worker " + t.worker + " ran on worker " + ctx.workerIndex());
                }
                t.result.complete(t.action.apply(server.outbound(ctx.workerIndex())));
            }
            catch (final Throwable ex)
            {
                t.result.completeExceptionally(ex);
            }
            return Outcome.done();
        });
        pipeline = b.name("outbound").workers(workers).idle(Idle.backoff())
            .memory(SlabArena.builder().chunkSize(16 * 1024).slabSize(1 << 20).maxSlabs(64).leakDetector(leaks).build())
            .io(server)
            .build().start();
        workerThreads = new Thread[workers];
        for (int i = 0; i < workers; i++)
        {
            final int w = i;
            workerThreads[i] = (Thread)call(i, out -> Thread.currentThread());
            if (server.outbound(w).workerIndex() != w)
            {
                throw new AssertionError("outbound(" + w + ") is another worker's");
            }
        }
    }

    /** Runs {@code action} on worker {@code worker} and returns what it returned; rethrows what it threw. */
    @SuppressWarnings("unchecked")
    <T> T call(final int worker, final Function<OutboundConnections, T> action)
    {
        final Task t = new Task(worker, (Function<OutboundConnections, Object>)action);
        if (pipeline.submit(t) != SubmitResult.ACCEPTED)
        {
            throw new AssertionError("could not submit a task");
        }
        try
        {
            return (T)t.result.get(10, TimeUnit.SECONDS);
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof RuntimeException re)
            {
                throw re;
            }
            throw new AssertionError("the task failed", ex.getCause());
        }
        catch (final Exception ex)
        {
            throw new AssertionError("the task did not finish", ex);
        }
    }

    OutboundStats stats()
    {
        return server.outboundStats();
    }

    /** Chunks held by buffers now, over all workers; exact once the pipeline stopped. */
    long chunksInUse()
    {
        long live = 0;
        for (final WorkerMetrics w : pipeline.metrics().workers())
        {
            live += w.bufferChunks().live();
        }
        return live;
    }

    /** Stops the pipeline, which closes every outbound connection, and checks every buffer came back. */
    @Override
    public void close()
    {
        pipeline.shutdown(Duration.ofSeconds(10));
        if (stats().open() != 0 || stats().idle() != 0 || stats().pendingOutputBytes() != 0)
        {
            throw new AssertionError("connections left after shutdown: " + stats());
        }
        if (chunksInUse() != 0 || leaks.leaksReported() != 0)
        {
            throw new AssertionError(chunksInUse() + " chunks in use and " + leaks.leaksReported() + " leaks after shutdown");
        }
    }
}
