package io.millrace;

/**
 * Called exactly once for every accepted request, on the worker thread where the request
 * completes. Keep it short: it runs on the worker's loop.
 *
 * @param <R> the request type
 */
@FunctionalInterface
public interface CompletionListener<R>
{
    /**
     * @param request the completed request
     * @param error   {@code null} on success, otherwise why the request failed: the exception a stage
     *                threw, or an {@link IllegalStateException} describing a misuse of the stage API
     */
    void onComplete(R request, Throwable error);
}
