package io.millrace.memory;

/**
 * Something a worker tends on its idle turn: a {@link LookasidePool} or a {@link BufferAllocator}.
 *
 * <p>The runtime calls {@link #onIdle(long)} from the owning thread whenever that thread has
 * nothing else to do. The call drains objects that other threads returned, and sweeps when the
 * sweep interval has passed since the last sweep; otherwise it costs a few loads.
 */
public interface Sweepable
{
    /**
     * Drains cross-thread returns and sweeps if the interval has elapsed. Owner thread only.
     *
     * @param nowNanos the current time on a monotonic clock, normally {@link System#nanoTime()};
     *                 tests pass their own values to step time deterministically
     * @return how many objects were taken in or let go; 0 when there was nothing to do
     * @throws IllegalStateException if called from a thread other than the owner
     */
    int onIdle(long nowNanos);
}
