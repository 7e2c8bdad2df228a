package io.millrace.memory;

/**
 * A buffer was asked for while every chunk of every slab was in use and the arena had reached its
 * slab cap (or the JVM refused more direct memory). Only the request that asked fails; buffers
 * allocated before are untouched, and allocation works again as soon as buffers are released.
 * Memory never grows past the configured cap.
 *
 * <p>What to do: answer the request with an overload status (an HTTP server sends 503), release
 * buffers sooner, or raise {@link SlabArenaBuilder#maxSlabs(int)}.
 */
public final class SlabExhaustedException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what was asked, what the cap is, and what to do
     * @param cause   the JVM's {@link OutOfMemoryError} when direct memory ran out first; may be null
     */
    public SlabExhaustedException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
