package io.millrace.soak;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

/**
 * A seeded fault-injection soak: a pipeline with every placement (inline, partitioned, onWorker,
 * blocking(n)) and a lock grid, whose handlers and key functions throw runtime and checked
 * exceptions, {@link AssertionError}s and {@link StackOverflowError}s (thrown, and real runaway
 * recursion), whose requests are suspended and resumed (at once, twice, from another thread, from a
 * worker timer, at the end of the worker's turn, or never), failed through their suspension,
 * cancelled (before submit, from another thread, from a worker timer, by themselves) or given
 * deadlines, take pooled buffers and lock-grid cells across stages (and sometimes forget them), and
 * submit further requests from inside stages; and a shutdown, after everything completed or at a
 * random moment mid-load with a short or zero deadline. Fatal errors (out of memory) are not
 * injected: one of those fails the whole pipeline, which {@code FatalTest} covers.
 *
 * <p>Checked for every seed:
 * <ul>
 *   <li>every accepted request completes exactly once (success, its planned error, a cancellation,
 *       or {@code PipelineAbortedException} once the shutdown started), all of them before
 *       {@code shutdown} returns; a rejected one never;</li>
 *   <li>no completion carries another request's injected error, and no request goes on past its
 *       suspension unless its own resumer resumed it;</li>
 *   <li>after the shutdown no suspension can be resumed, no in-flight permit and no pooled chunk is
 *       left, the report drops nothing and counts the aborts the listener saw;</li>
 *   <li>both workers are alive until the shutdown: each completes a probe request pinned to it
 *       (always when draining, on some seeds mid-load) and its thread is alive;</li>
 *   <li>stages run where their placement says, lock-grid cells have one owner at a time, and the
 *       runtime logs no internal error.</li>
 * </ul>
 *
 * <p><b>Seeds and replay.</b> A {@link java.util.Random} seeded with the seed decides the pipeline's
 * shape, how the run ends, and every request's plan (its path, faults, resume, cancellation,
 * deadline, locks, buffers), all before the pipeline starts, so a seed always produces the same
 * plans. Thread interleavings, timings and so which request meets which shutdown moment are not
 * reproducible: a failing seed replays the same scenario, and a race may need a few replays. Every
 * wait is bounded by {@link SoakRun#LIVENESS_NANOS} (a hang fails with where the threads are), never
 * by a speed requirement.
 * <ul>
 *   <li>Default (CI): seeds 1 to 20.</li>
 *   <li>{@code -Dmillrace.soak.seeds=1000} (or {@code MILLRACE_SOAK_SEEDS}): that many seeds, from
 *       {@code -Dmillrace.soak.from=N} ({@code MILLRACE_SOAK_FROM}, default 1).</li>
 *   <li>{@code -Dmillrace.soak.seed=N} (or {@code MILLRACE_SOAK_SEED}): replays seed N alone; a
 *       comma-separated list replays several.</li>
 * </ul>
 * For example: {@code mvn -pl framework test -Dtest=FaultInjectionSoakTest -Dmillrace.soak.seed=7}.
 */
class FaultInjectionSoakTest
{
    /** The seeds CI runs. */
    static final int BASE_SEEDS = 20;

    static LongStream seeds()
    {
        final String replay = setting("millrace.soak.seed", "MILLRACE_SOAK_SEED");
        if (replay != null)
        {
            return Arrays.stream(replay.split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong);
        }
        final String count = setting("millrace.soak.seeds", "MILLRACE_SOAK_SEEDS");
        final String from = setting("millrace.soak.from", "MILLRACE_SOAK_FROM");
        final long first = from == null ? 1 : Long.parseLong(from.trim());
        final long n = count == null ? BASE_SEEDS : Long.parseLong(count.trim());
        return LongStream.range(first, first + n);
    }

    private static String setting(final String property, final String env)
    {
        final String p = System.getProperty(property);
        if (p != null && !p.isBlank())
        {
            return p;
        }
        final String e = System.getenv(env);
        return e == null || e.isBlank() ? null : e;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    @Timeout(value = 180, unit = TimeUnit.SECONDS) // a safety net only: every wait inside has its own bound
    void everyRequestCompletesExactlyOnceAndNothingLeaks(final long seed) throws InterruptedException
    {
        System.out.println(new SoakRun(seed).run());
    }
}
