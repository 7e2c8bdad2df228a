package io.millrace.http;

/**
 * The HTTP layer's counters, on top of the pipeline's metrics and the transport's stats.
 *
 * @param bodyBytesHeld       pooled memory held by request bodies now, in bytes: whole 16 KiB chunks
 *                            for kept bodies, a part's bytes for a streamed one (charged to the body budget)
 * @param bodyBytesLimit      the body budget
 * @param bodyBudgetRefusals  requests answered 503 because their body would exceed the budget
 * @param clientsGone         requests cancelled because their client went away (logged as 499)
 * @param requestTimeouts     requests that did not arrive whole in time (408)
 * @param continues           {@code 100 Continue} interim responses sent
 * @param handlerErrors       handlers (or body listeners) that threw or gave no response (500)
 */
public record HttpServerStats(long bodyBytesHeld, long bodyBytesLimit, long bodyBudgetRefusals, long clientsGone,
    long requestTimeouts, long continues, long handlerErrors)
{
}
