package io.millrace.balance;

/**
 * {@code random-two}: the power of two choices, as nginx's {@code random two least_conn}. Two
 * distinct eligible upstreams are drawn at random in proportion to their configured weights, and
 * the one with fewer requests in flight per (slow-start) weight wins, the first drawn on a tie. If
 * 20 draws do not find two, the pick falls back to fewest in flight per weight over the whole tier.
 * The draws come from the balancer's own seeded generator.
 */
final class RandomTwoPicker extends Picker
{
    private static final int DRAWS = 20;

    RandomTwoPicker(final Balancer b)
    {
        super(b);
    }

    @Override
    int choose(final int from, final int to)
    {
        final long total = totalWeight(to);
        int first = -1;
        int second = -1;
        for (int t = 0; t < DRAWS && second < 0; t++)
        {
            final int i = byWeight(from, to, b.random.nextLong(total));
            if (i == first || !b.eligible(i))
            {
                continue;
            }
            if (first < 0)
            {
                first = i;
            }
            else
            {
                second = i;
            }
        }
        if (second < 0)
        {
            return fewest(from, to);
        }
        return b.inFlight(second) * b.weight(first) < b.inFlight(first) * b.weight(second) ? second : first;
    }

    private int fewest(final int from, final int to)
    {
        int best = -1;
        long bestInFlight = 0;
        long bestWeight = 0;
        for (int i = from; i < to; i++)
        {
            if (!b.eligible(i))
            {
                continue;
            }
            final long n = b.inFlight(i);
            final long w = b.weight(i);
            if (best < 0 || n * bestWeight < bestInFlight * w)
            {
                best = i;
                bestInFlight = n;
                bestWeight = w;
            }
        }
        return best;
    }
}
