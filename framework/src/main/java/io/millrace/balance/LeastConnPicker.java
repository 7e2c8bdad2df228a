package io.millrace.balance;

/**
 * {@code least-conn} and {@code least-time}, as nginx's {@code ngx_http_upstream_least_conn_module}
 * and {@code ngx_http_upstream_least_time_module}: the upstream with the least score per weight
 * wins (compared cross-multiplied, {@code score_i x w_best < score_best x w_i}); several with the
 * same score share by smooth weighted round robin among themselves.
 *
 * <ul>
 * <li>{@code least-conn}: score = requests in flight.</li>
 * <li>{@code least-time} (nginx's "fair"): score = (1 + in flight) x average latency, the expected
 * time to finish what is queued there. The average is the decaying one of successful attempts
 * (halved for every latency-decay period without a sample, so a server shunned for being slow is
 * tried again); an upstream not yet measured is taken to be as fast as the fastest measured one
 * (nginx takes 0, which sends it every request until its first answer). As nginx, latencies are
 * grouped (here to 1/8 relative steps) so that near-equal upstreams share by round robin, and capped
 * at 5 s, above which all count as equally slow and the pick falls back to fewest in flight.</li>
 * </ul>
 * Weights include the slow-start ramp.
 */
final class LeastConnPicker extends Picker
{
    /** nginx's least_time cap: 5 s, in microseconds. */
    private static final long CAP_MICROS = 5_000_000;
    private static final long INELIGIBLE = -1;
    private static final long UNMEASURED = -2;
    private final boolean time;
    /**
     * Each candidate's weight as the first pass read it, for the tie-break pass: a weight with slow
     * start depends on the upstream's health record, which another worker may change between the
     * passes, and both passes must agree on which members tie.
     */
    private long[] weights = new long[0];

    LeastConnPicker(final Balancer b, final boolean time)
    {
        super(b);
        this.time = time;
    }

    @Override
    void onSnapshot(final Snapshot old, final Snapshot next)
    {
        super.onSnapshot(old, next);
        weights = new long[next.members.length];
    }

    @Override
    int choose(final int from, final int to)
    {
        final long unmeasured = time ? measure(from, to) : 0;
        int best = -1;
        long bestScore = 0;
        long bestWeight = 0;
        boolean many = false;
        for (int i = from; i < to; i++)
        {
            if (time ? scratch[i] == INELIGIBLE : !b.eligible(i))
            {
                scratch[i] = INELIGIBLE;
                continue;
            }
            final long inFlight = Math.min(b.inFlight(i), 1_000_000);
            final long score = time ? (scratch[i] == UNMEASURED ? unmeasured : scratch[i]) * (1 + inFlight) : inFlight;
            final long w = b.weight(i);
            scratch[i] = score;
            weights[i] = w;
            if (best < 0 || score * bestWeight < bestScore * w)
            {
                best = i;
                bestScore = score;
                bestWeight = w;
                many = false;
            }
            else if (score * bestWeight == bestScore * w)
            {
                many = true;
            }
        }
        if (best < 0 || !many)
        {
            return best;
        }
        long total = 0;
        int chosen = -1;
        for (int i = best; i < to; i++)
        {
            final long score = scratch[i];
            if (score == INELIGIBLE)
            {
                continue;
            }
            final long w = weights[i];
            if (score * bestWeight != bestScore * w)
            {
                continue;
            }
            current[i] += w;
            total += w;
            if (chosen < 0 || current[i] > current[chosen])
            {
                chosen = i;
            }
        }
        current[chosen] -= total;
        return chosen;
    }

    /**
     * least-time's first pass: each eligible member's grouped latency into {@link #scratch}.
     *
     * @return the latency assumed for members not yet measured: the best measured one (an unknown
     *         upstream is taken to be as good as the best, so it gets its share at once without being
     *         flooded as nginx's 0 would), or 1 if none is measured
     */
    private long measure(final int from, final int to)
    {
        long bestMeasured = Long.MAX_VALUE;
        for (int i = from; i < to; i++)
        {
            if (!b.eligible(i))
            {
                scratch[i] = INELIGIBLE;
                continue;
            }
            final long nanos = b.latency(i);
            if (nanos == 0)
            {
                scratch[i] = UNMEASURED;
                continue;
            }
            final long grouped = group(Math.max(1, nanos / 1_000));
            scratch[i] = grouped;
            bestMeasured = Math.min(bestMeasured, grouped);
        }
        return bestMeasured == Long.MAX_VALUE ? 1 : bestMeasured;
    }

    /** @return microseconds rounded up to a step of 1/8 of their highest bit, capped at 5 s */
    static long group(final long micros)
    {
        if (micros >= CAP_MICROS)
        {
            return CAP_MICROS;
        }
        if (micros < 8)
        {
            return micros;
        }
        final long step = Long.highestOneBit(micros) >>> 3;
        return (micros + step - 1) / step * step;
    }
}
