package io.millrace.demo.http;

import io.millrace.Pipeline;
import io.millrace.PipelineBuilder;
import io.millrace.metrics.MetricsSnapshot;
import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Runs a real three-stage pipeline briefly, for metrics with real numbers in them. */
final class SmallPipeline
{
    /** A request: a key and a counter the stages bump. */
    static final class Job
    {
        final int key;
        long steps;

        Job(final int key)
        {
            this.key = key;
        }
    }

    private SmallPipeline()
    {
    }

    /**
     * @param requests how many requests to run through; every 10th fails in the last stage
     * @return the metrics after they all completed and the pipeline shut down
     */
    static MetricsSnapshot run(final int requests) throws InterruptedException
    {
        final CountDownLatch done = new CountDownLatch(requests);
        final PipelineBuilder<Job> b = Pipeline.builder();
        final StageRef<Job> parse = b.stage("parse");
        final StageRef<Job> owner = b.stage("owner", Placement.partitioned(j -> j.key));
        final StageRef<Job> reply = b.stage("reply");
        b.handle(parse, (j, ctx) ->
            {
                j.steps++;
                return Outcome.next(owner);
            })
            .handle(owner, (j, ctx) ->
            {
                j.steps++;
                return Outcome.next(reply);
            })
            .handle(reply, (j, ctx) ->
            {
                if (j.key % 10 == 0)
                {
                    throw new IllegalStateException("every tenth request fails, for the error counters");
                }
                return Outcome.done();
            });
        final Pipeline<Job> pipeline = b.workers(2).onComplete((j, error) -> done.countDown()).build().start();
        try
        {
            for (int i = 0; i < requests; i++)
            {
                while (!pipeline.submit(new Job(i)).accepted())
                {
                    Thread.onSpinWait();
                }
            }
            if (!done.await(30, TimeUnit.SECONDS))
            {
                throw new AssertionError("pipeline did not complete " + requests + " requests");
            }
        }
        finally
        {
            pipeline.shutdown(Duration.ofSeconds(5));
        }
        return pipeline.metrics();
    }
}
