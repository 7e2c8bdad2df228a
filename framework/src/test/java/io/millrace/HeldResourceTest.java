package io.millrace;

import io.millrace.stage.HeldResource;
import io.millrace.stage.Outcome;
import io.millrace.stage.StageContext;
import io.millrace.stage.StageRef;
import io.millrace.testing.CapturedLog;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeldResourceTest
{
    @Test
    void aResourceStillHeldAtCompletionIsReleasedAndTheMisuseReported()
    {
        final AtomicInteger released = new AtomicInteger();
        final HeldResource permit = holder -> released.incrementAndGet();
        final HeldResource returned = holder -> { throw new AssertionError("given back properly, must not be released again"); };

        final PipelineBuilder<Integer> b = Pipeline.builder();
        final StageRef<Integer> take = b.stage("take");
        final StageRef<Integer> forget = b.stage("forgetful-stage");
        b.handle(take, (id, ctx) ->
        {
            ctx.hold(permit);
            ctx.hold(returned);
            assertTrue(ctx.unhold(returned));
            assertFalse(ctx.unhold(returned));
            return Outcome.next(forget);
        }).handle(forget, (id, ctx) -> Outcome.done());
        final Pipeline<Integer> pipeline = b.name("held").workers(1).build().start();
        for (int i = 0; i < 10; i++)
        {
            Submit.untilAccepted(pipeline, i);
        }
        assertTrue(pipeline.shutdown(Duration.ofSeconds(10)).clean());
        assertEquals(10, released.get(), "each forgotten resource released once");
        assertEquals(10, pipeline.metrics().stage("forgetful-stage").errors(), "misuse counted on the completing stage");
        assertTrue(CapturedLog.lines("still held 1 resource").size() >= 1);
    }

    @Test
    void holdingMoreThanTheLimitFailsTheRequestWithARemedy() throws Exception
    {
        final java.util.concurrent.CompletableFuture<Throwable> error = new java.util.concurrent.CompletableFuture<>();
        final HeldResource r = holder -> { };
        final PipelineBuilder<Integer> b = Pipeline.builder();
        b.handle(b.stage("greedy"), (id, ctx) ->
        {
            for (int i = 0; i <= StageContext.MAX_HELD; i++)
            {
                ctx.hold(r);
            }
            return Outcome.done();
        });
        final Pipeline<Integer> pipeline = b.name("greedy").workers(1).onComplete((id, e) -> error.complete(e)).build().start();
        Submit.untilAccepted(pipeline, 1);
        assertTrue(error.get().getMessage().contains("unhold()"), error.get().getMessage());
        pipeline.shutdown(Duration.ofSeconds(5));
    }
}
