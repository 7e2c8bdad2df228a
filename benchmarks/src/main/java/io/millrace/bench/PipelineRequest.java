package io.millrace.bench;

import java.nio.charset.StandardCharsets;

/**
 * The request of {@link PipelineBenchmark}: a request line to parse, the key parsed from it, the
 * value looked up, the reply written, and the batch to tell when it is done. Requests and their
 * byte arrays are preallocated per batch and reused, so the work itself allocates nothing in any
 * variant: what the benchmark's bytes per request show is each framework's own.
 *
 * <p>Threading: one stage at a time touches a request; each variant's hand-off between stages (a
 * ring publish, a queue, a virtual thread's own program order) orders the writes.
 */
public final class PipelineRequest
{
    private static final byte[] PREFIX = "GET /item/".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SUFFIX = " HTTP/1.1".getBytes(StandardCharsets.US_ASCII);

    final PipelineBatch batch;
    /** {@code GET /item/<key> HTTP/1.1}, written once. */
    final byte[] line;
    /** {@code 200 <value>}, rewritten by every reply; 4 bytes of status and up to 20 digits. */
    final byte[] reply = new byte[24];
    int replyLength;
    int key;
    long value;
    long submittedNanos;

    PipelineRequest(final PipelineBatch batch, final int key)
    {
        this.batch = batch;
        final byte[] digits = Integer.toString(key).getBytes(StandardCharsets.US_ASCII);
        line = new byte[PREFIX.length + digits.length + SUFFIX.length];
        System.arraycopy(PREFIX, 0, line, 0, PREFIX.length);
        System.arraycopy(digits, 0, line, PREFIX.length, digits.length);
        System.arraycopy(SUFFIX, 0, line, PREFIX.length + digits.length, SUFFIX.length);
    }

    void reset()
    {
        key = -1;
        value = 0;
        replyLength = 0;
    }

    /** Called by whichever thread completes the request, after its reply is written. */
    void done()
    {
        batch.completed(this);
    }
}
