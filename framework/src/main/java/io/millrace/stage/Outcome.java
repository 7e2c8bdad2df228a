package io.millrace.stage;

/**
 * What a stage returns: continue at a stage, done, or blocked.
 *
 * <p>Outcomes are preallocated: {@link #done()} and {@link #blocked()} are constants and every
 * {@link StageRef} owns the one outcome that continues at it, so returning an outcome never
 * allocates. Outcomes are immutable and may be shared by any thread.
 */
public final class Outcome
{
    /** Kind of an outcome; exposed so that the runtime can switch on it. */
    public enum Kind
    {
        /** Continue at {@link Outcome#target()}. */
        NEXT,
        /** The request is complete. */
        DONE,
        /** The request is parked until its {@link Suspension} is resumed. */
        BLOCKED
    }

    private static final Outcome DONE = new Outcome(Kind.DONE, null);
    private static final Outcome BLOCKED = new Outcome(Kind.BLOCKED, null);

    private final Kind kind;
    private final StageRef<?> target;

    Outcome(final Kind kind, final StageRef<?> target)
    {
        this.kind = kind;
        this.target = target;
    }

    /**
     * Continue at {@code stage}; allocation free.
     *
     * @param stage a stage declared on the same pipeline builder
     * @return the stage's preallocated outcome
     */
    public static Outcome next(final StageRef<?> stage)
    {
        if (stage == null)
        {
            throw new NullPointerException("Outcome.next(null): pass a StageRef returned by PipelineBuilder.stage(...)");
        }
        return stage.outcome();
    }

    /**
     * The request is complete.
     *
     * @return the shared done outcome
     */
    public static Outcome done()
    {
        return DONE;
    }

    /**
     * The request is parked. Only valid after {@link StageContext#suspend()} was called in this
     * dispatch; the runtime completes the request with an {@link IllegalStateException} otherwise,
     * because nobody could ever resume it.
     *
     * @return the shared blocked outcome
     */
    public static Outcome blocked()
    {
        return BLOCKED;
    }

    /**
     * @return the kind of this outcome
     */
    public Kind kind()
    {
        return kind;
    }

    /**
     * @return the stage to continue at for {@link Kind#NEXT}, otherwise {@code null}
     */
    public StageRef<?> target()
    {
        return target;
    }

    @Override
    public String toString()
    {
        return kind == Kind.NEXT ? "next(" + target.name() + ")" : kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
