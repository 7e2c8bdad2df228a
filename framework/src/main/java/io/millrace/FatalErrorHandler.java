package io.millrace;

/**
 * Told once when a pipeline thread hits an error the runtime cannot contain
 * ({@link OutOfMemoryError}, {@link InternalError}, …). By then the pipeline is marked failed:
 * intake is closed, {@link Pipeline#failure()} returns the error, the workers stop and their I/O is
 * closed. A server process usually exits here so that its supervisor restarts it:
 *
 * <pre>{@code
 * builder.onFatalError((pipeline, thread, error) -> Runtime.getRuntime().halt(70));
 * }</pre>
 *
 * <p>Runs on the thread that hit the error; anything it throws is ignored.
 */
@FunctionalInterface
public interface FatalErrorHandler
{
    /**
     * @param pipelineName the failed pipeline
     * @param thread       the thread that hit the error
     * @param error        the error
     */
    void onFatalError(String pipelineName, Thread thread, Throwable error);
}
