package io.millrace.balance;

/**
 * {@code weighted-response-time}: Ribbon's {@code WeightedResponseTimeRule}. Each eligible
 * upstream's weight is the sum of all eligible upstreams' average latencies minus its own, so the
 * slower an upstream the less it gets, and one not yet measured (average 0) gets the most; the pick
 * is a random draw in proportion. With fewer than two measured differences (every weight 0, as with
 * one upstream or none measured) it falls back to round robin, as Ribbon does.
 *
 * <p>Ribbon recomputes the weights every 30 s on a timer thread; here they are computed at each
 * pick from the current decaying averages, which costs two passes over the tier and no thread.
 * Configured weights and slow start do not apply (Ribbon has neither).
 */
final class WeightedResponseTimePicker extends Picker
{
    WeightedResponseTimePicker(final Balancer b)
    {
        super(b);
    }

    @Override
    int choose(final int from, final int to)
    {
        long total = 0;
        int count = 0;
        int only = -1;
        for (int i = from; i < to; i++)
        {
            if (!b.eligible(i))
            {
                scratch[i] = -1;
                continue;
            }
            final long latency = b.latency(i);
            scratch[i] = latency;
            total += latency;
            count++;
            only = i;
        }
        if (count <= 1)
        {
            return only;
        }
        long sum = 0;
        for (int i = from; i < to; i++)
        {
            if (scratch[i] >= 0)
            {
                sum += total - scratch[i];
            }
        }
        if (sum <= 0)
        {
            return rotate(from, to);
        }
        final long point = b.random.nextLong(sum);
        long reach = 0;
        for (int i = from; i < to; i++)
        {
            if (scratch[i] >= 0)
            {
                reach += total - scratch[i];
                if (reach > point)
                {
                    return i;
                }
            }
        }
        return only;
    }
}
