package io.millrace.worker;

/**
 * The runtime's line between errors it contains and errors it cannot survive.
 *
 * <p><b>Contained</b>: every {@link Throwable} except a {@link VirtualMachineError} other than
 * {@link StackOverflowError}. A stack overflow unwinds cleanly to the guard that catches it, so it
 * fails only the request whose code recursed too deep. <b>Fatal</b>: {@link OutOfMemoryError},
 * {@link InternalError}, {@link UnknownError}: after one of these the JVM's state is in doubt, so
 * the runtime marks the pipeline failed rather than carry on half alive.
 */
public final class Fatal
{
    private Fatal()
    {
    }

    /**
     * @param error what was caught
     * @return whether the runtime must not contain it
     */
    public static boolean isFatal(final Throwable error)
    {
        return error instanceof VirtualMachineError && !(error instanceof StackOverflowError);
    }

    /**
     * Rethrows {@code error} if it is fatal; returns otherwise.
     *
     * @param error what was caught
     */
    public static void rethrowIfFatal(final Throwable error)
    {
        if (isFatal(error))
        {
            throw (VirtualMachineError)error;
        }
    }
}
