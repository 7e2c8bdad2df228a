package io.millrace.stage;

/**
 * The runtime's view of one request while a stage handles it.
 *
 * <p>The object is the request's own preallocated context: it is valid only during the
 * {@link Stage#handle} call that received it and only on that call's thread. Keep the
 * {@link Suspension} returned by {@link #suspend()}, never the context itself.
 */
public interface StageContext
{
    /**
     * Parks the request. Call it, hand the returned suspension to whoever frees the resource the
     * request waits for, then return {@link Outcome#blocked()}. The suspension may be resumed from
     * any thread, even before this dispatch returns; the request then continues on its home worker.
     *
     * @return the suspension to resume exactly once
     * @throws IllegalStateException if the request is already suspended, or the stage is a blocking
     *                               stage (which may simply block its own thread)
     */
    Suspension suspend();

    /**
     * Records that the request now holds {@code resource}; see {@link HeldResource}. Allocation free;
     * a request holds at most {@value #MAX_HELD} resources at once.
     *
     * @param resource the resource taken
     * @throws IllegalStateException when the request already holds {@value #MAX_HELD} resources
     */
    void hold(HeldResource resource);

    /**
     * Records that the request gave {@code resource} back.
     *
     * @param resource the resource given back
     * @return {@code false} if the request did not hold it
     */
    boolean unhold(HeldResource resource);

    /** Most resources one request may hold at once. */
    int MAX_HELD = 8;

    /**
     * The current worker's buffer allocator, for building responses in pooled, page-aligned chunks.
     * Owned by this thread: use it only during this dispatch.
     *
     * @return the allocator of the worker running this dispatch
     * @throws IllegalStateException if the pipeline has no memory ({@code PipelineBuilder.memory}),
     *                               or in a blocking stage, which runs off the worker threads
     */
    io.millrace.memory.BufferAllocator allocator();

    /**
     * @return the stage being dispatched
     */
    StageRef<?> stage();

    /**
     * @return index of the worker the request lives on (its home worker), from 0
     */
    int workerIndex();

    /**
     * @return for a partitioned stage, the partition of this request's key, from 0 to P-1; otherwise -1
     */
    int partition();

    /**
     * Like the Disruptor's {@code endOfBatch}: whether the worker has no further request in the
     * batch it is processing, so a stage may flush or commit once per batch.
     *
     * @return {@code true} when this is the last request of the current batch
     */
    boolean endOfBatch();

    /**
     * Whether the request's {@link CancelToken} was cancelled or its deadline passed. The runtime
     * checks this at every stage boundary; a long-running stage may poll it to stop early.
     *
     * @return {@code true} if the request should stop
     */
    boolean cancelled();

    /**
     * The timers of the worker running this dispatch.
     *
     * @return the worker's timers
     * @throws IllegalStateException in a blocking stage, which runs off the worker threads
     */
    WorkerTimers timers();

    /**
     * Asks for {@code hook} to be called once at the end of this worker's current loop turn.
     *
     * @param hook what to run; the same object registered twice in a turn runs once
     * @throws IllegalStateException in a blocking stage, which runs off the worker threads
     */
    void atEndOfTurn(EndOfTurnHook hook);
}
