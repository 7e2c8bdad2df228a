package io.millrace.stage;

/**
 * A parked request, to be resumed exactly once from any thread. Two parties may race to resume
 * it (an answer and a timeout, say): one wins, the other gets an {@link IllegalStateException}, as
 * does a resumer that comes after the request was cancelled, failed or aborted.
 *
 * <p>Resuming publishes the request, with its outcome, to its home worker's inbox; the home worker
 * then carries on as if the suspending stage had returned that outcome. Space in the inbox is
 * guaranteed by the pipeline's in-flight bound (see {@code PipelineBuilder#maxInFlight}), so a
 * resume never fails for lack of room.
 */
public interface Suspension
{
    /**
     * Continues the parked request with {@code outcome}: {@link Outcome#next(StageRef)} or
     * {@link Outcome#done()}.
     *
     * @param outcome how the request carries on
     * @throws IllegalStateException    if the suspension was already resumed or failed, or withdrawn because
     *                                  the request was cancelled, failed or aborted meanwhile
     * @throws IllegalArgumentException if the outcome is {@link Outcome#blocked()} or names a stage
     *                                  of another pipeline
     */
    void resume(Outcome outcome);

    /**
     * Resumes like {@link #resume(Outcome)}, for a hand-over: the caller just gave the request a
     * resource that others queue behind (a lock-grid cell does this on release). Called on the
     * request's home worker, the request runs as soon as the calling dispatch returns, before the
     * rest of the worker's inbox batch and its other queued requests, instead of after them, which
     * would keep the resource idle while they run (and park behind it). Called from any other thread
     * it is exactly {@code resume}: the request joins its home worker's inbox in order.
     *
     * <p>The default implementation is {@code resume(outcome)}.
     *
     * @param outcome how the request carries on
     * @throws IllegalStateException    as {@link #resume(Outcome)}
     * @throws IllegalArgumentException as {@link #resume(Outcome)}
     */
    default void resumeFirst(final Outcome outcome)
    {
        resume(outcome);
    }

    /**
     * Completes the parked request with an error.
     *
     * @param error the request's error
     * @throws IllegalStateException if the suspension was already resumed or failed, or withdrawn because
     *                               the request was cancelled, failed or aborted meanwhile
     */
    void fail(Throwable error);
}
