package io.millrace.balance;

/**
 * Key hashing for the hash policies, without allocation: 64-bit FNV-1a over a key's chars,
 * finished with MurmurHash3's 64-bit mixer so that every input bit reaches every output bit.
 * Stable across processes and runs (no per-process seed), so every proxy of a fleet maps a key
 * to the same upstream.
 */
final class KeyHash
{
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private KeyHash()
    {
    }

    /** @return the key's 64-bit hash */
    static long ofChars(final CharSequence key)
    {
        long h = FNV_OFFSET;
        for (int i = 0, n = key.length(); i < n; i++)
        {
            final char c = key.charAt(i);
            h = (h ^ (c & 0xff)) * FNV_PRIME;
            h = (h ^ (c >>> 8)) * FNV_PRIME;
        }
        return mix(h);
    }

    /** MurmurHash3's fmix64. */
    static long mix(final long value)
    {
        long h = value;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    /**
     * @return the first three octets of a dotted-quad IPv4 address as {@code a << 16 | b << 8 | c},
     *         or -1 if {@code key} is not one (nginx's {@code ip_hash} uses only those three)
     */
    static int ipv4Prefix(final CharSequence key)
    {
        int octets = 0;
        int value = -1;
        int prefix = 0;
        for (int i = 0, n = key.length(); i < n; i++)
        {
            final char c = key.charAt(i);
            if (c >= '0' && c <= '9')
            {
                value = value < 0 ? c - '0' : value * 10 + c - '0';
                if (value > 255)
                {
                    return -1;
                }
            }
            else if (c == '.' && value >= 0 && octets < 3)
            {
                prefix = prefix << 8 | value;
                octets++;
                value = -1;
            }
            else
            {
                return -1;
            }
        }
        return octets == 3 && value >= 0 ? prefix : -1;
    }
}
