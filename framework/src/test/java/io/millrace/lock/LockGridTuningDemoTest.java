package io.millrace.lock;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The documentation's demo at a small scale: every cut keeps the guarded totals exact and reports
 * one acquisition per order and locked data set, so the numbers in docs/lock-grid.md come from code
 * that is checked.
 */
class LockGridTuningDemoTest
{
    private static final int ORDERS = 2_000;
    private static final int WITH_WARM_UP = ORDERS + ORDERS / 4;

    @Test
    void everyCutKeepsTheGuardedTotalsExact() throws Exception
    {
        for (final LockGridTuningDemo.Step step : LockGridTuningDemo.Step.values())
        {
            final LockGridTuningDemo.Result r = LockGridTuningDemo.run(step, ORDERS, 1);
            assertEquals(-WITH_WARM_UP, r.stockTotal(), step + ": stock debited once per order");
            assertEquals(WITH_WARM_UP, r.ledgerTotal(), step + ": ledger posted once per order");
            assertEquals(0, r.report().abandoned());
            switch (step)
            {
                case COARSE ->
                {
                    assertEquals(1, r.report().columns());
                    assertEquals(ORDERS, r.report().acquisitions());
                }
                case DATA_SETS ->
                {
                    // Two cells per order, one when SKU and account fall in the same data set.
                    final long acquisitions = r.report().acquisitions();
                    assertTrue(acquisitions > ORDERS && acquisitions <= 2L * ORDERS, step + ": " + acquisitions);
                }
                case STAGES, SPLIT_HOT ->
                {
                    assertEquals(2, r.report().rows().size());
                    assertEquals(ORDERS, r.report().row(0).acquisitions());
                    assertEquals(ORDERS, r.report().row(1).acquisitions());
                }
            }
        }
    }
}
