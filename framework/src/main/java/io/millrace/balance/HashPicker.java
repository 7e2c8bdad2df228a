package io.millrace.balance;

/**
 * {@code ip-hash} and {@code hash}, as nginx's {@code ip_hash} and {@code hash $key}: the key
 * selects a point of the tier's total configured weight, and the upstream whose slice holds it
 * serves the key. If that one cannot (down, tried, busy), the key is hashed again, up to 20 times;
 * then the pick falls back to smooth round robin, as nginx does.
 *
 * <p>{@code ip-hash} hashes the address's bytes as nginx does ({@code hash = (hash * 113 + byte) %
 * 6271}, from 89), the first three octets of an IPv4 address, so a client's /24 sticks to one
 * upstream. {@code hash} uses the balancer's 64-bit key hash, re-mixed for each retry. Removing or
 * adding an upstream changes the total and so moves most keys; use {@code consistent-hash} where
 * that matters. Slow start does not apply (nginx's does not either).
 */
final class HashPicker extends Picker
{
    private static final int TRIES = 20;
    private final boolean ip;

    HashPicker(final Balancer b, final boolean ip)
    {
        super(b);
        this.ip = ip;
    }

    @Override
    int choose(final int from, final int to)
    {
        final long total = totalWeight(to);
        long hash = 89;
        for (int t = 0; t < TRIES; t++)
        {
            final long point;
            if (ip)
            {
                for (int k = b.ipLength - 1; k >= 0; k--)
                {
                    hash = (hash * 113 + ((b.ipBytes >>> (8 * k)) & 0xFF)) % 6271;
                }
                point = hash % total;
            }
            else
            {
                point = Math.floorMod(t == 0 ? b.keyHash : KeyHash.mix(b.keyHash + t * 0x9E3779B97F4A7C15L), total);
            }
            final int i = byWeight(from, to, point);
            if (b.eligible(i))
            {
                return i;
            }
        }
        return smooth(from, to);
    }
}
