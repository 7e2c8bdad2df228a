package io.millrace.http;

import io.millrace.memory.BufferChain;

/**
 * Takes a request body as a stream of parts, as they arrive, instead of the server keeping the whole
 * body: for uploads that go to a file or another connection, so that a large body never sits in
 * memory. The route's stage runs once the last part has been handed over; {@link HttpExchange#body()}
 * is then null.
 *
 * <pre>{@code
 * builder.route("PUT", "/upload/*", store, (x, part) -> fileChannel.write(...));
 * }</pre>
 *
 * <p>Runs on the connection's worker, inside the read path: it must not block. A listener that
 * throws fails only its request (a 500, and the connection closes, since the rest of the body
 * cannot be framed any more); the worker goes on.
 */
@FunctionalInterface
public interface BodyListener
{
    /**
     * @param exchange the request, whose head is complete (its fields can be read)
     * @param part     the next bytes of the body; valid during this call only: the server releases
     *                 it afterwards ({@link BufferChain#retain()} it to keep it, and release it yourself)
     * @throws Exception to fail the request
     */
    void onBodyPart(HttpExchange exchange, BufferChain part) throws Exception;

    /**
     * The body will never be complete: its connection closed or was reset, it timed out (408), it
     * broke the chunked framing (400), or it passed a limit (413, 503). The route's stage will not
     * run; release what the parts so far were going into (close the file, say). Called at most once
     * per request, on the connection's worker, and not after {@link #onBodyPart} threw. Guarded like
     * {@link #onBodyPart}: a throw is logged and counted.
     *
     * @param exchange the request whose body was cut short
     */
    default void onBodyAborted(final HttpExchange exchange)
    {
    }
}
