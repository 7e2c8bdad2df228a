package io.millrace.worker;

/**
 * I/O that a worker polls in its own loop, beside its inbox: the transport's selector. One instance
 * belongs to one worker.
 *
 * <p>Threading: {@link #poll()}, {@link #park(long)} and {@link #close()} run only on the owning
 * worker thread. {@link #wakeup()} and {@link #stopIntake()} may be called from any thread.
 */
public interface WorkerIo
{
    /**
     * Handles whatever I/O is ready, without waiting.
     *
     * @return how much work was done; 0 lets the worker idle
     */
    int poll();

    /**
     * The worker's park step: waits for I/O, a {@link #wakeup()} or {@code maxNanos}, whichever
     * comes first, and may handle the I/O it waited for.
     *
     * @param maxNanos the longest wait
     */
    void park(long maxNanos);

    /** Ends a {@link #park(long)} in progress, or makes the next one return at once. Any thread. */
    void wakeup();

    /** Stops taking new work (a server stops accepting connections). Any thread; idempotent. */
    void stopIntake();

    /** Releases everything, on the worker thread after its loop ended. */
    void close();
}
