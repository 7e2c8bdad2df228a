package io.millrace;

import io.millrace.stage.Outcome;
import io.millrace.stage.Placement;
import io.millrace.stage.StageRef;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineBuilderTest
{
    @Test
    void definitionMistakesFailAtBuildWithTheRemedy()
    {
        final PipelineBuilder<String> noStages = Pipeline.builder();
        assertTrue(assertThrows(IllegalStateException.class, noStages::build).getMessage().contains("no stages"));

        final PipelineBuilder<String> b = Pipeline.builder();
        final StageRef<String> a = b.stage("a");
        b.stage("b");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.stage("a")).getMessage().contains("unique"));
        b.handle(a, (r, ctx) -> Outcome.done());
        assertTrue(assertThrows(IllegalStateException.class, b::build).getMessage().contains("[b]"));
        assertThrows(IllegalArgumentException.class, () -> b.handle(a, (r, ctx) -> Outcome.done()));

        final PipelineBuilder<String> other = Pipeline.builder();
        assertThrows(IllegalArgumentException.class, () -> other.handle(a, (r, ctx) -> Outcome.done()));
    }

    @Test
    void sizesAreCheckedAgainstEachOther()
    {
        assertThrows(IllegalArgumentException.class, () -> Pipeline.<String>builder().ringSize(1000));
        assertThrows(IllegalArgumentException.class, () -> Pipeline.<String>builder().workers(0));
        assertThrows(IllegalArgumentException.class, () -> Placement.partitioned(3, (String s) -> 1));
        assertThrows(IllegalArgumentException.class, () -> Placement.blocking(0));

        final PipelineBuilder<String> inFlight = Pipeline.builder();
        inFlight.handle(inFlight.stage("a"), (r, ctx) -> Outcome.done());
        final IllegalStateException tooMany = assertThrows(IllegalStateException.class,
            () -> inFlight.ringSize(64).maxInFlight(40).build());
        assertTrue(tooMany.getMessage().contains("raise ringSize to at least 128"), tooMany.getMessage());

        final PipelineBuilder<String> partitions = Pipeline.builder();
        partitions.handle(partitions.stage("p", Placement.partitioned(2, String::length)), (r, ctx) -> Outcome.done());
        assertTrue(assertThrows(IllegalStateException.class, () -> partitions.workers(4).build())
            .getMessage().contains("at least as many partitions as workers"));
    }

    @Test
    void aPipelineStartsOnceAndAnOutcomeOfAnotherPipelineIsRefused() throws Exception
    {
        final PipelineBuilder<String> foreign = Pipeline.builder();
        final StageRef<String> elsewhere = foreign.stage("elsewhere");

        final java.util.concurrent.CompletableFuture<Throwable> error = new java.util.concurrent.CompletableFuture<>();
        final PipelineBuilder<String> b = Pipeline.builder();
        b.handle(b.stage("a"), (r, ctx) -> Outcome.next(elsewhere));
        final Pipeline<String> pipeline = b.workers(1).onComplete((r, e) -> error.complete(e)).build();
        assertThrows(IllegalStateException.class, b::build, "a builder builds once");
        pipeline.start();
        assertThrows(IllegalStateException.class, pipeline::start);
        assertEquals(SubmitResult.ACCEPTED, pipeline.submit("x"));
        assertTrue(error.get().getMessage().contains("belongs to another pipeline"));
        assertThrows(NullPointerException.class, () -> pipeline.submit(null));
        pipeline.shutdown(Duration.ofSeconds(5));
    }
}
