package io.millrace.testing;

import io.millrace.Pipeline;
import io.millrace.SubmitResult;

/** Test helper: submit, retrying while the pipeline says it is overloaded. */
public final class Submit
{
    private Submit()
    {
    }

    /**
     * @param pipeline a running pipeline
     * @param request  the request
     * @param <R>      request type
     * @return how many times it was refused before being accepted
     */
    public static <R> int untilAccepted(final Pipeline<R> pipeline, final R request)
    {
        int refused = 0;
        for (;;)
        {
            final SubmitResult result = pipeline.submit(request);
            if (result.accepted())
            {
                return refused;
            }
            if (result != SubmitResult.REJECTED_OVERLOADED)
            {
                throw new IllegalStateException("pipeline refused a request: " + result);
            }
            refused++;
            Thread.onSpinWait();
            if ((refused & 0xFF) == 0)
            {
                Thread.yield();
            }
        }
    }
}
