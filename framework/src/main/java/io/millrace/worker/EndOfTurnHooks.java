package io.millrace.worker;

import io.millrace.stage.EndOfTurnHook;

import java.util.Arrays;

/**
 * The hooks registered for the end of a worker's current turn, each at most once.
 *
 * <p>Threading: owned by the worker thread. Registration is an identity scan of a short array (a
 * turn has a handful of distinct hooks: one per log partition, one per flushing stage); the array
 * grows, and so allocates, only when a turn sees more distinct hooks than ever before.
 */
final class EndOfTurnHooks
{
    private EndOfTurnHook[] current = new EndOfTurnHook[8];
    private int currentCount;
    private EndOfTurnHook[] running = new EndOfTurnHook[8];
    private final RateLimitedLog errors;
    private long hookErrors;

    EndOfTurnHooks(final RateLimitedLog errors)
    {
        this.errors = errors;
    }

    void register(final EndOfTurnHook hook)
    {
        if (hook == null)
        {
            throw new NullPointerException("atEndOfTurn(null): give the hook to run");
        }
        for (int i = 0; i < currentCount; i++)
        {
            if (current[i] == hook)
            {
                return;
            }
        }
        if (currentCount == current.length)
        {
            current = Arrays.copyOf(current, currentCount * 2);
        }
        current[currentCount++] = hook;
    }

    boolean isEmpty()
    {
        return currentCount == 0;
    }

    /**
     * Runs this turn's hooks. Hooks they register go to the next turn.
     *
     * @return how many ran
     */
    int run()
    {
        final int n = currentCount;
        if (n == 0)
        {
            return 0;
        }
        // Swap, so that registrations made by the hooks collect in a fresh list for the next turn.
        final EndOfTurnHook[] batch = current;
        current = running.length >= batch.length ? running : new EndOfTurnHook[batch.length];
        currentCount = 0;
        running = batch;
        for (int i = 0; i < n; i++)
        {
            final EndOfTurnHook hook = batch[i];
            batch[i] = null;
            try
            {
                hook.onEndOfTurn();
            }
            catch (final Throwable ex)
            {
                Fatal.rethrowIfFatal(ex);
                hookErrors++;
                errors.contained("end-of-turn hook threw", ex);
            }
        }
        return n;
    }

    long hookErrors()
    {
        return hookErrors;
    }
}
