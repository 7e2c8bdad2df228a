package io.millrace.demo.stats;

import io.millrace.metrics.MetricsSnapshot;
import io.millrace.metrics.StageMetrics;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatsHistoryTest
{
    private static final long SECOND = 1_000_000_000L;

    @Test
    void eachSampleIsTheIntervalBetweenTwoSnapshots()
    {
        final StatsHistory h = new StatsHistory(10);
        h.record(Snapshots.of("work", 1_000, 5_000, 0, 100, 10), 0, 1_000);
        assertEquals(List.of(), h.samples(), "the first snapshot only starts the history");
        // The next second: 2,000 more requests, all slow (1 ms): the interval p99 is theirs alone.
        final MetricsSnapshot later = Snapshots.of("work", 1_000, 5_000, 7, 400, 10);
        later.stages().get(0).serviceTimeNanos().recordValueWithCount(1_000_000, 2_000);
        h.record(new MetricsSnapshot(0, 2048, 0, 0, later.endToEndNanos(),
            List.of(new StageMetrics("work", "inline", 0, 3_000, 3_000, 0, 0,
                later.stages().get(0).serviceTimeNanos(), Snapshots.histogram(0, 0))), later.workers(), null), 2 * SECOND, 3_000);
        final List<StatsSample> samples = h.samples();
        assertEquals(1, samples.size());
        final StatsSample s = samples.get(0);
        assertEquals(3_000, s.atMillis());
        assertEquals(2.0, s.seconds(), 1e-9);
        assertEquals(1_000, s.stageRequests()[0], 1e-9, "2,000 requests in 2 s");
        assertEquals(1_000_000, s.stageP99()[0], 10_000, "p99 of the interval, not since start");
        assertArrayEquals(new long[] {7}, s.ringDepth());
        assertArrayEquals(new long[] {400}, s.poolHits());
        assertEquals(List.of("work"), h.stageNames());
        assertEquals(List.of("w-0-contexts"), h.poolNames());
        assertSame(h.latestSnapshot().workers(), later.workers());
    }

    @Test
    void theRingKeepsTheNewestSamplesOldestFirst()
    {
        final StatsHistory h = new StatsHistory(3);
        for (int i = 0; i <= 10; i++)
        {
            h.record(Snapshots.of("work", 100L * i, 1_000, i, 0, 0), i * SECOND, i * 1_000L);
        }
        final List<StatsSample> samples = h.samples();
        assertEquals(3, samples.size(), "bounded by its capacity");
        assertEquals(List.of(8_000L, 9_000L, 10_000L), samples.stream().map(StatsSample::atMillis).toList());
        assertEquals(100, samples.get(2).stageRequests()[0], 1e-9);
    }

    @Test
    void otherStagesStartTheHistoryAgain()
    {
        final StatsHistory h = new StatsHistory(5);
        h.record(Snapshots.of("a", 0, 1_000, 0, 0, 0), 0, 0);
        h.record(Snapshots.of("a", 10, 1_000, 0, 0, 0), SECOND, 1_000);
        h.record(Snapshots.of("b", 20, 1_000, 0, 0, 0), 2 * SECOND, 2_000);
        assertTrue(h.samples().isEmpty());
        assertEquals(List.of("b"), h.stageNames());
        h.record(Snapshots.of("b", 30, 1_000, 0, 0, 0), 3 * SECOND, 3_000);
        assertEquals(10, h.samples().get(0).stageRequests()[0], 1e-9);
        assertThrows(IllegalArgumentException.class, () -> new StatsHistory(1));
    }
}
