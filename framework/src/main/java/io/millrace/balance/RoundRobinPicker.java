package io.millrace.balance;

/** {@code round-robin}: nginx's smooth weighted round robin, with slow-start weights. */
final class RoundRobinPicker extends Picker
{
    RoundRobinPicker(final Balancer b)
    {
        super(b);
    }

    @Override
    int choose(final int from, final int to)
    {
        return smooth(from, to);
    }
}
