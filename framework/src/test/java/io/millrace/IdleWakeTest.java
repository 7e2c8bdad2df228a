package io.millrace;

import io.millrace.metrics.WorkerMetrics;
import io.millrace.stage.Outcome;
import io.millrace.testing.Submit;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdleWakeTest
{
    @Test
    void aWorkerParkedForAMinuteIsWokenByTheProducerThatPublishes() throws Exception
    {
        final CountDownLatch done = new CountDownLatch(1);
        final PipelineBuilder<String> b = Pipeline.builder();
        b.handle(b.stage("only"), (r, ctx) -> Outcome.done());
        // Without a wake-up the worker would sleep 60 s per empty turn and the await below would fail.
        final Pipeline<String> pipeline = b.name("sleepy").workers(1).idle(Idle.sleeping(TimeUnit.SECONDS.toNanos(60)))
            .onComplete((r, e) -> done.countDown()).build().start();
        WorkerMetrics w = pipeline.metrics().workers().get(0);
        while (w.parks() == 0)
        {
            Thread.sleep(1);
            w = pipeline.metrics().workers().get(0);
        }
        Submit.untilAccepted(pipeline, "wake up");
        assertTrue(done.await(30, TimeUnit.SECONDS), "the producer unparked the announced worker");
        w = pipeline.metrics().workers().get(0);
        assertTrue(w.wakes() >= 1, "the wake is counted");
        pipeline.shutdown(Duration.ofSeconds(5));
    }

    @Test
    void aBusySpinningWorkerNeverAnnouncesParkingSoProducersNeverWakeIt() throws Exception
    {
        final CountDownLatch done = new CountDownLatch(1000);
        final PipelineBuilder<String> b = Pipeline.builder();
        b.handle(b.stage("only"), (r, ctx) -> Outcome.done());
        final Pipeline<String> pipeline = b.name("spin").workers(1).idle(Idle.busySpin())
            .onComplete((r, e) -> done.countDown()).build().start();
        for (int i = 0; i < 1000; i++)
        {
            Submit.untilAccepted(pipeline, "r" + i);
        }
        assertTrue(done.await(30, TimeUnit.SECONDS));
        final WorkerMetrics w = pipeline.metrics().workers().get(0);
        assertEquals(0, w.parks());
        assertEquals(0, w.wakes());
        pipeline.shutdown(Duration.ofSeconds(5));
    }
}
