package io.millrace.balance;

/**
 * {@code consistent-hash}: the key's owner on the tier's {@link HashRing}; if the owner cannot
 * take it (down, tried, busy), the next point's owner clockwise, as nginx's {@code hash ...
 * consistent} walks on, until every point was seen. An ejected upstream's keys so spread over its
 * ring neighbours and come back to it when it does. Slow start does not apply.
 */
final class ConsistentHashPicker extends Picker
{
    /** Stamps refused members in {@link #scratch} for the current pick, so each is asked once. */
    private long serial;

    ConsistentHashPicker(final Balancer b)
    {
        super(b);
    }

    @Override
    int choose(final int from, final int to)
    {
        final HashRing ring = b.snap.ring(from, to);
        final int start = ring.start(b.keyHash);
        final long stamp = ++serial;
        int refused = 0;
        for (int k = 0, n = ring.size(); k < n && refused < to - from; k++)
        {
            final int i = from + ring.owner(start + k);
            if (scratch[i] == stamp)
            {
                continue;
            }
            if (b.eligible(i))
            {
                return i;
            }
            scratch[i] = stamp;
            refused++;
        }
        return -1;
    }
}
