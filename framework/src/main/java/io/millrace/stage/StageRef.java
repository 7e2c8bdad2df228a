package io.millrace.stage;

import java.util.Objects;

/**
 * A handle to a stage declared on a pipeline builder: its name, index and placement, and the
 * preallocated {@link Outcome} that continues at it.
 *
 * <p>Declare every stage first, then give each its handler; a handler can therefore continue at a
 * stage declared after it. Immutable and safe to share between threads.
 *
 * @param <R> the request type of the pipeline the stage belongs to
 */
public final class StageRef<R>
{
    private final Object pipelineToken;
    private final String name;
    private final int index;
    private final Placement<? super R> placement;
    private final Outcome outcome;

    /**
     * Used by the pipeline builder; users obtain stage references from it.
     *
     * @param pipelineToken identity of the declaring builder, to catch outcomes that name a stage of
     *                      another pipeline
     * @param name          unique stage name
     * @param index         dense index of the stage in its pipeline
     * @param placement     where the stage runs
     */
    public StageRef(final Object pipelineToken, final String name, final int index, final Placement<? super R> placement)
    {
        this.pipelineToken = Objects.requireNonNull(pipelineToken, "pipelineToken");
        this.name = Objects.requireNonNull(name, "name");
        this.index = index;
        this.placement = Objects.requireNonNull(placement, "placement");
        this.outcome = new Outcome(Outcome.Kind.NEXT, this);
    }

    /**
     * @return the stage's unique name
     */
    public String name()
    {
        return name;
    }

    /**
     * @return the stage's index in its pipeline, from 0 in declaration order
     */
    public int index()
    {
        return index;
    }

    /**
     * @return where the stage runs
     */
    public Placement<? super R> placement()
    {
        return placement;
    }

    /**
     * @param token a pipeline builder's identity
     * @return whether this stage was declared by that builder
     */
    public boolean belongsTo(final Object token)
    {
        return pipelineToken == token;
    }

    Outcome outcome()
    {
        return outcome;
    }

    @Override
    public String toString()
    {
        return "stage '" + name + "' (" + placement + ")";
    }
}
