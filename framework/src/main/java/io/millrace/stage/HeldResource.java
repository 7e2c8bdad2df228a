package io.millrace.stage;

/**
 * Something a request holds across stages and must give back before it completes: a lock-grid
 * cell, a pooled buffer. Register it with {@link StageContext#hold(HeldResource)} when the request
 * takes it and {@link StageContext#unhold(HeldResource)} when it gives it back. If the request
 * completes while still holding it, the runtime calls {@link #releaseAbandoned(StageContext)} on the
 * completing worker, counts the misuse against the stage that completed the request, and logs it
 * (rate limited): nothing stays held forever because a stage forgot. A request aborted by a shutdown
 * has its resources released by the shutting-down thread, except while its blocking stage is still
 * running: then that stage's thread releases them when the call returns, after the completion.
 */
public interface HeldResource
{
    /**
     * Gives the resource back on behalf of a request that completed without doing so.
     *
     * @param holder the completing request's context; valid only during this call
     */
    void releaseAbandoned(StageContext holder);
}
