package io.millrace.worker;

import io.millrace.stage.Placement;
import io.millrace.stage.Stage;
import io.millrace.stage.StageRef;

import java.util.function.ToIntFunction;

/**
 * A stage compiled for the runtime: the handler and its placement flattened into final fields the
 * worker loop reads without casts or lookups. Immutable.
 *
 * @param <R> the request type
 */
public final class StageDef<R>
{
    static final int INLINE = 0;
    static final int PARTITIONED = 1;
    static final int BLOCKING = 2;
    static final int PINNED = 3;

    final String name;
    final int index;
    final int kind;
    final Stage<R> handler;
    final ToIntFunction<? super R> key;
    final int partitionMask;
    final int blockingThreads;
    final String placementText;
    final StageRef<R> ref;

    /**
     * @param ref        the user's reference to the stage
     * @param partitions P for a partitioned stage (a power of two), ignored otherwise
     * @param handler    user code
     */
    public StageDef(final StageRef<R> ref, final int partitions, final Stage<R> handler)
    {
        final Placement<? super R> placement = ref.placement();
        this.ref = ref;
        this.name = ref.name();
        this.index = ref.index();
        this.handler = handler;
        this.placementText = placement.toString();
        if (placement instanceof Placement.Partitioned<? super R> p)
        {
            @SuppressWarnings("unchecked")
            final ToIntFunction<? super R> k = (ToIntFunction<? super R>)p.key();
            this.kind = PARTITIONED;
            this.key = k;
            this.partitionMask = partitions - 1;
            this.blockingThreads = 0;
        }
        else if (placement instanceof Placement.Pinned<? super R> p)
        {
            @SuppressWarnings("unchecked")
            final ToIntFunction<? super R> k = (ToIntFunction<? super R>)p.workerIndex();
            this.kind = PINNED;
            this.key = k;
            this.partitionMask = 0;
            this.blockingThreads = 0;
        }
        else if (placement instanceof Placement.Blocking<? super R> b)
        {
            this.kind = BLOCKING;
            this.key = null;
            this.partitionMask = 0;
            this.blockingThreads = b.maxActiveThreads();
        }
        else
        {
            this.kind = INLINE;
            this.key = null;
            this.partitionMask = 0;
            this.blockingThreads = 0;
        }
    }

    /**
     * @param request a request
     * @return its partition: the key, mixed so that sequential keys spread, masked to P
     */
    int partitionOf(final R request)
    {
        int h = key.applyAsInt(request);
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        return h & partitionMask;
    }

    /**
     * @return the stage name
     */
    public String name()
    {
        return name;
    }

    /**
     * @return P for a partitioned stage, otherwise 0
     */
    public int partitions()
    {
        return kind == PARTITIONED ? partitionMask + 1 : 0;
    }

    /**
     * @return the placement as text, for metrics
     */
    public String placement()
    {
        return placementText;
    }
}
