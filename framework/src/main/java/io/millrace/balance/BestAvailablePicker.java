package io.millrace.balance;

/**
 * {@code best-available}: Ribbon's {@code BestAvailableRule}, the eligible upstream with the fewest
 * requests in flight, skipping tripped ones (ejected or down by probes). Ribbon takes the first of
 * equals in list order, which sends everything to the first server while the load is light; here
 * the scan starts one further each pick, so equals take turns. Weights do not apply.
 */
final class BestAvailablePicker extends Picker
{
    BestAvailablePicker(final Balancer b)
    {
        super(b);
    }

    @Override
    int choose(final int from, final int to)
    {
        final int n = to - from;
        final int start = Math.floorMod(cursor++, n);
        int best = -1;
        long fewest = 0;
        for (int k = 0; k < n; k++)
        {
            final int i = from + (start + k) % n;
            if (!b.eligible(i))
            {
                continue;
            }
            final long inFlight = b.inFlight(i);
            if (best < 0 || inFlight < fewest)
            {
                best = i;
                fewest = inFlight;
            }
        }
        return best;
    }
}
