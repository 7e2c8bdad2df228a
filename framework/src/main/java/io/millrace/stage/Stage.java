package io.millrace.stage;

/**
 * One step of a pipeline: user code that looks at a request and says where it goes next.
 *
 * <p>A stage runs on whichever thread its {@link Placement} names: a worker for inline and
 * partitioned stages, a thread of the stage's own small pool for blocking stages. It returns one of
 * the three outcomes of the staged design:
 * <ul>
 *   <li>{@link Outcome#next(StageRef)}: continue at another stage (on the same worker, in the same
 *       loop turn, when that stage is inline);</li>
 *   <li>{@link Outcome#done()}: the request is complete;</li>
 *   <li>{@link Outcome#blocked()}: the request waits for a resource; the stage must first have called
 *       {@link StageContext#suspend()} and handed the returned {@link Suspension} to whoever will free
 *       the resource.</li>
 * </ul>
 * An exception thrown by a stage completes the request with that exception as its error; it is
 * counted and logged (at most one line per stage per second) and the worker lives on.
 *
 * @param <R> the user's request type
 */
@FunctionalInterface
public interface Stage<R>
{
    /**
     * Processes one request.
     *
     * @param request the request; owned by the calling thread until this method returns
     * @param context the request's context on this thread: suspension, worker and partition
     * @return a preallocated outcome, never {@code null}
     * @throws Exception to complete the request with an error
     */
    Outcome handle(R request, StageContext context) throws Exception;
}
