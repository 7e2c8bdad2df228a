package io.millrace;

import io.millrace.stage.CancelToken;
import java.util.concurrent.CompletableFuture;

import io.millrace.memory.SlabArena;
import io.millrace.worker.WorkerIoProvider;

import io.millrace.metrics.MetricsSnapshot;
import io.millrace.worker.PipelineRuntime;

import java.time.Duration;

/**
 * A running staged pipeline: requests enter at the entry stage and move from stage to stage on a
 * fixed set of worker threads, one per core by default.
 *
 * <pre>{@code
 * Pipeline<Order> pipeline = builder.build().start();
 * if (pipeline.submit(order) != SubmitResult.ACCEPTED) { shed(order); }
 * ...
 * ShutdownReport report = pipeline.shutdown(Duration.ofSeconds(5));
 * }</pre>
 *
 * <p>Thread-safe: any thread may submit, read metrics and shut down.
 *
 * @param <R> the user's request type
 */
public final class Pipeline<R> implements AutoCloseable
{
    /** Deadline used by {@link #close()}. */
    public static final Duration DEFAULT_SHUTDOWN_DEADLINE = Duration.ofSeconds(30);

    private final PipelineRuntime<R> runtime;
    private final int preallocatePerWorker;
    private final SlabArena arena;
    private final WorkerIoProvider io;

    Pipeline(final PipelineRuntime<R> runtime, final int preallocatePerWorker, final SlabArena arena,
        final WorkerIoProvider io)
    {
        this.runtime = runtime;
        this.preallocatePerWorker = preallocatePerWorker;
        this.arena = arena;
        this.io = io;
    }

    /**
     * Starts a pipeline definition.
     *
     * @param <R> the request type
     * @return a new builder
     */
    public static <R> PipelineBuilder<R> builder()
    {
        return new PipelineBuilder<>();
    }

    /**
     * Starts the worker threads and opens intake; first opens the attached I/O (binds the
     * transport's sockets), so that an address in use fails here.
     *
     * @return this pipeline
     * @throws IllegalStateException if already started
     * @throws java.io.UncheckedIOException if the attached I/O could not be opened
     */
    public Pipeline<R> start()
    {
        runtime.start(preallocatePerWorker, arena, io);
        return this;
    }

    /**
     * Offers a request to the entry stage. Never blocks: when the pipeline is at its in-flight bound
     * or the target ring is full the request is refused, and the caller decides what to do (retry,
     * shed, answer 503). An accepted request is completed exactly once, through the completion
     * listener: when the shutdown deadline passes first, with a {@link PipelineAbortedException}.
     *
     * @param request the request, not null
     * @return {@link SubmitResult#ACCEPTED} or the reason for refusal
     */
    public SubmitResult submit(final R request)
    {
        return runtime.submit(request, null);
    }

    /**
     * Like {@link #submit(Object)}, with a token through which any thread can cancel the request or
     * give it a deadline: it then completes with a
     * {@link io.millrace.stage.RequestCancelledException} at its next stage boundary.
     *
     * @param request the request, not null
     * @param token   its cancel token, not bound to another request in flight; null for none
     * @return {@link SubmitResult#ACCEPTED} or the reason for refusal
     * @throws IllegalStateException if the token is still bound to a request in flight
     */
    public SubmitResult submit(final R request, final CancelToken token)
    {
        return runtime.submit(request, token);
    }

    /**
     * Graceful shutdown: stops intake at once, lets in-flight requests finish until the deadline,
     * then stops the worker and blocking threads (interrupting blocking ones) and completes what is
     * still in flight with a {@link PipelineAbortedException}. Call it from outside the pipeline;
     * its own threads use {@link #shutdownAsync(Duration)}.
     *
     * @param deadline how long the whole shutdown may take; threads still in user code after it are
     *                 reported, not waited for
     * @return how many requests were drained and aborted; later calls return the same report
     * @throws IllegalStateException if called on one of the pipeline's own threads
     */
    public ShutdownReport shutdown(final Duration deadline)
    {
        return runtime.shutdown(deadline);
    }

    /**
     * {@link #shutdown(Duration)} on a thread of its own, for code running on the pipeline's own
     * threads (a completion listener, a stage), where waiting for the workers would wait for itself.
     *
     * @param deadline how long the whole shutdown may take
     * @return the report, once the shutdown is done
     */
    public CompletableFuture<ShutdownReport> shutdownAsync(final Duration deadline)
    {
        return runtime.shutdownAsync(deadline);
    }

    /**
     * Health: {@code null} while the pipeline is sound; the fatal error once a pipeline thread hit
     * one (see {@link FatalErrorHandler}), after which intake is closed and the threads stop.
     *
     * @return the fatal error, or null
     */
    public Throwable failure()
    {
        return runtime.failure();
    }

    /**
     * Shuts down with {@link #DEFAULT_SHUTDOWN_DEADLINE}.
     */
    @Override
    public void close()
    {
        shutdown(DEFAULT_SHUTDOWN_DEADLINE);
    }

    /**
     * @return a snapshot of stage, worker and intake counters
     */
    public MetricsSnapshot metrics()
    {
        return runtime.metrics();
    }

    /**
     * @return the number of worker threads
     */
    public int workerCount()
    {
        return runtime.workerCount();
    }

    /**
     * @return the pipeline's name, the prefix of its thread names
     */
    public String name()
    {
        return runtime.name();
    }
}
