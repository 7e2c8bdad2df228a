package io.millrace.stage;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;

/**
 * Cancels one in-flight request, or gives it a deadline, from any thread.
 *
 * <pre>{@code
 * CancelToken token = new CancelToken().deadlineAfter(Duration.ofMillis(200));
 * pipeline.submit(request, token);
 * ...
 * token.cancel();   // e.g. the client went away
 * }</pre>
 *
 * <p>A cancelled (or expired) request completes with a {@link RequestCancelledException} at its next
 * stage boundary: before its next stage runs, when its ring slot or blocking-stage queue entry comes
 * up (the work is skipped, not run), or at once if it is parked in a suspension (a lock-grid wait,
 * for example: the wait is withdrawn). A stage already running is not interrupted; it may poll
 * {@link StageContext#cancelled()}. A deadline is checked at the same boundaries; nothing fires at
 * the deadline itself.
 *
 * <p>One token serves one request at a time. It is bound when the request starts and unbound when it
 * completes; {@link #reset()} then makes it reusable, so a connection can keep one token for all its
 * requests and allocate nothing per request.
 *
 * <p>Threading: {@link #cancel()} and {@link #isCancelled()} from any thread. Set the deadline and
 * {@link #reset()} only while the token is not bound (before submitting, after completion); the
 * submit publishes them to the worker.
 */
public final class CancelToken
{
    /**
     * The runtime's side of a binding: the request context that can withdraw a parked request.
     * Implemented by the runtime; user code never implements or calls it.
     */
    public interface Target
    {
        /**
         * Withdraws the request if it is still parked in the suspension it had when bound.
         *
         * @param generation which use of the context the token was bound to
         */
        void cancelParked(long generation);
    }

    private static final VarHandle CANCELLED;
    private static final VarHandle TARGET;

    static
    {
        try
        {
            final MethodHandles.Lookup lookup = MethodHandles.lookup();
            CANCELLED = lookup.findVarHandle(CancelToken.class, "cancelled", boolean.class);
            TARGET = lookup.findVarHandle(CancelToken.class, "target", Target.class);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new ExceptionInInitializerError(ex);
        }
    }

    @SuppressWarnings("unused")
    private volatile boolean cancelled;
    @SuppressWarnings("unused")
    private volatile Target target;
    /** Written before {@link #target} is set (release), read after it is read (acquire). */
    private long generation;
    private long deadlineNanos;
    private boolean hasDeadline;

    /**
     * Sets a deadline {@code timeout} from now.
     *
     * @param timeout how long the request may take, measured from this call
     * @return this token
     */
    public CancelToken deadlineAfter(final Duration timeout)
    {
        Objects.requireNonNull(timeout, "timeout");
        return deadlineAt(System.nanoTime() + timeout.toNanos());
    }

    /**
     * Sets a deadline as a {@link System#nanoTime()} value.
     *
     * @param nanoTime the deadline
     * @return this token
     */
    public CancelToken deadlineAt(final long nanoTime)
    {
        checkUnbound("set a deadline on");
        deadlineNanos = nanoTime;
        hasDeadline = true;
        return this;
    }

    /**
     * Cancels the bound request, or the next one bound if none is yet. Idempotent; any thread.
     *
     * @return {@code true} if this call cancelled it, {@code false} if it was already cancelled
     */
    public boolean cancel()
    {
        if (!CANCELLED.compareAndSet(this, false, true))
        {
            return false;
        }
        final Target t = (Target)TARGET.getAcquire(this);
        if (t != null)
        {
            t.cancelParked(generation);
        }
        return true;
    }

    /**
     * @return whether {@link #cancel()} was called since the last {@link #reset()}
     */
    public boolean isCancelled()
    {
        return cancelled;
    }

    /**
     * @param nowNanos {@link System#nanoTime()}
     * @return whether the deadline, if any, has passed
     */
    public boolean isExpired(final long nowNanos)
    {
        return hasDeadline && nowNanos - deadlineNanos >= 0;
    }

    /**
     * @return whether a deadline is set
     */
    public boolean hasDeadline()
    {
        return hasDeadline;
    }

    /**
     * @return the deadline as a {@link System#nanoTime()} value; meaningful only with {@link #hasDeadline()}
     */
    public long deadlineNanos()
    {
        return deadlineNanos;
    }

    /**
     * @return whether a request is in flight with this token
     */
    public boolean isBound()
    {
        return target != null;
    }

    /**
     * Clears the cancellation and the deadline so that the token can serve the next request.
     *
     * @return this token
     * @throws IllegalStateException if a request is still in flight with it
     */
    public CancelToken reset()
    {
        checkUnbound("reset");
        hasDeadline = false;
        deadlineNanos = 0;
        CANCELLED.setVolatile(this, false);
        return this;
    }

    /**
     * Runtime: binds the token to a starting request.
     *
     * @param context    the request's context
     * @param contextUse which use of the context this is
     * @throws IllegalStateException if the token is bound to another request in flight
     */
    public void bind(final Target context, final long contextUse)
    {
        if (target != null)
        {
            throw new IllegalStateException("this CancelToken is already bound to a request in flight; " +
                "use one token per in-flight request and reset() it after completion");
        }
        generation = contextUse;
        // Volatile store then volatile load of cancelled: pairs with cancel()'s CAS then load of the
        // target, so at least one side sees the other and the parked request is withdrawn.
        TARGET.setVolatile(this, context);
        // A cancel() that ran before the binding was visible found no target: withdraw for it.
        if (cancelled)
        {
            context.cancelParked(contextUse);
        }
    }

    /** Runtime: the request completed. */
    public void unbind()
    {
        TARGET.setRelease(this, null);
    }

    private void checkUnbound(final String what)
    {
        if (target != null)
        {
            throw new IllegalStateException("cannot " + what + " a CancelToken while its request is in flight; " +
                "wait for the completion, then reset() it");
        }
    }
}
