package io.millrace.worker;

import java.util.Objects;

/**
 * The runtime's error-containment rule in one place. Every {@link Throwable} that user code (a
 * stage, a connection handler, a listener) or a failing resource throws is <em>contained</em>:
 * counted, logged at a bounded rate, and confined to the one request or connection it concerns,
 * while the thread goes on. The exceptions are the fatal ones: {@link VirtualMachineError}s such as
 * {@link OutOfMemoryError}, {@link InternalError} and {@link UnknownError}, after which the JVM may
 * be in no state to go on, so they propagate to the worker loop, which fails the pipeline.
 *
 * <p>{@link StackOverflowError} is a {@code VirtualMachineError} too, but it is contained: by the
 * time a catch block sees it, the stack has unwound to that frame, and the overflow was caused by
 * the one request's data or code (runaway recursion), not by the state of the JVM.
 *
 * <pre>{@code
 * try {
 *     handler.onRead(connection);
 * } catch (Throwable t) {
 *     Fatal.rethrowIfFatal(t);
 *     // contain: count, log rate-limited, close this connection only
 * }
 * }</pre>
 *
 * <p>Threading: stateless; any thread.
 */
public final class Fatal
{
    private Fatal()
    {
    }

    /**
     * @param t a caught throwable
     * @return true if {@code t} must not be contained: a {@link VirtualMachineError} other than
     *         {@link StackOverflowError}
     */
    public static boolean isFatal(final Throwable t)
    {
        Objects.requireNonNull(t, "Fatal.isFatal(null): pass the Throwable that was caught");
        return t instanceof VirtualMachineError && !(t instanceof StackOverflowError);
    }

    /**
     * Rethrows {@code t} unchanged if it is fatal (see {@link #isFatal}); returns otherwise, so the
     * caller goes on to contain it. Call it first in a {@code catch (Throwable)} block, before any
     * cleanup that could itself fail after an {@link OutOfMemoryError}.
     *
     * @param t a caught throwable
     */
    public static void rethrowIfFatal(final Throwable t)
    {
        if (isFatal(t))
        {
            // Every fatal throwable is a VirtualMachineError, hence an unchecked Error: no sneaky throw needed.
            throw (VirtualMachineError)t;
        }
    }
}
