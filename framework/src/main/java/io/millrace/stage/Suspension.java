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
     * Completes the parked request with an error.
     *
     * @param error the request's error
     * @throws IllegalStateException if the suspension was already resumed or failed, or withdrawn because
     *                               the request was cancelled, failed or aborted meanwhile
     */
    void fail(Throwable error);
}
