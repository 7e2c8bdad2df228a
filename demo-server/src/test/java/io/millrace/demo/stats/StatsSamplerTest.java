package io.millrace.demo.stats;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatsSamplerTest
{
    /**
     * An OutOfMemoryError while sampling used to vanish into the executor's future: the demo then
     * lingered with a full heap instead of exiting for its supervisor (DemoFatalErrorProcessTest
     * timed out when the sampler, not a worker, was the thread that hit it).
     */
    @Test
    void anOutOfMemoryErrorWhileSamplingGoesToTheFatalErrorHandler() throws Exception
    {
        final CompletableFuture<Throwable> fatal = new CompletableFuture<>();
        try (StatsSampler ignored = StatsSampler.start(new StatsHistory(4), () ->
            {
                throw new OutOfMemoryError("test: Java heap space");
            }, Duration.ofMillis(10), (pipeline, thread, error) -> fatal.complete(error)))
        {
            final Throwable error = fatal.get(10, TimeUnit.SECONDS);
            assertInstanceOf(OutOfMemoryError.class, error);
        }
    }

    @Test
    void aRuntimeExceptionWhileSamplingIsLoggedAndSamplingGoesOn() throws Exception
    {
        final AtomicInteger calls = new AtomicInteger();
        final CompletableFuture<Void> third = new CompletableFuture<>();
        try (StatsSampler ignored = StatsSampler.start(new StatsHistory(4), () ->
            {
                if (calls.incrementAndGet() >= 3)
                {
                    third.complete(null);
                }
                throw new IllegalStateException("test: expected, sampling fails");
            }, Duration.ofMillis(10), (pipeline, thread, error) -> { throw new AssertionError("not fatal", error); }))
        {
            third.get(10, TimeUnit.SECONDS);
            assertTrue(calls.get() >= 3);
        }
        assertEquals(true, third.isDone());
    }
}
