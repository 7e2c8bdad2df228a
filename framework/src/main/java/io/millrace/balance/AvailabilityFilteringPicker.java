package io.millrace.balance;

/**
 * {@code availability-filtering}: Ribbon's {@code AvailabilityFilteringRule}, round robin over the
 * upstreams that are not tripped (ejected or down by probes) and have fewer requests in flight than
 * the policy's active limit ({@link BalancePolicy#activeLimit}, Ribbon's
 * {@code ActiveConnectionsLimit}; no limit by default). Where Ribbon, finding none, falls back to
 * any server, this reports none ({@link PickFailure#BUSY}) so the caller can answer 503 at once.
 */
final class AvailabilityFilteringPicker extends Picker
{
    AvailabilityFilteringPicker(final Balancer b)
    {
        super(b);
    }

    @Override
    int choose(final int from, final int to)
    {
        return rotate(from, to);
    }

    @Override
    boolean accept(final int i)
    {
        if (!b.eligible(i))
        {
            return false;
        }
        if (b.inFlight(i) >= b.policy().activeLimit())
        {
            b.refusedBusy();
            return false;
        }
        return true;
    }
}
