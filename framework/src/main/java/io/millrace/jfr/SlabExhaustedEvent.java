package io.millrace.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * {@code io.millrace.SlabExhausted}: a buffer allocation failed with
 * {@link io.millrace.memory.SlabExhaustedException}: every chunk of the arena was in use or idle in
 * an allocator's pool and the arena was at its slab cap, or the JVM refused another slab of direct
 * memory. Its stack trace (on by default) shows who asked.
 *
 * <p>Threading: created and committed by the allocating thread.
 */
@Name(SlabExhaustedEvent.NAME)
@Label("Slab Exhausted")
@Category({"Millrace", "Memory"})
@Description("A buffer allocation was refused: the slab arena is at its cap")
@StackTrace(true)
public final class SlabExhaustedEvent extends Event
{
    /** The event type's name. */
    public static final String NAME = "io.millrace.SlabExhausted";

    /** Asked whether the type is enabled; never committed. */
    private static final SlabExhaustedEvent PROBE = new SlabExhaustedEvent();

    @Label("Allocator")
    @Description("Name of the allocator that asked, usually its worker's")
    String allocator;

    @Label("Chunk Size")
    @DataAmount
    int chunkSize;

    @Label("Slab Size")
    @DataAmount
    int slabSize;

    @Label("Slabs")
    @Description("Slabs allocated")
    int slabs;

    @Label("Max Slabs")
    @Description("The arena's slab cap")
    int maxSlabs;

    @Label("Direct Memory Refused")
    @Description("The JVM refused the slab (-XX:MaxDirectMemorySize) before the cap was reached")
    boolean directMemoryRefused;

    private SlabExhaustedEvent()
    {
    }

    /**
     * @return whether a recording enables this type
     */
    public static boolean enabled()
    {
        return PROBE.isEnabled();
    }

    /**
     * Commits one event now.
     *
     * @param requester      the allocator that asked
     * @param chunk          bytes per chunk
     * @param slab           bytes per slab
     * @param slabCount      slabs allocated
     * @param cap            the slab cap
     * @param jvmRefused     whether the JVM refused direct memory
     */
    public static void emit(final String requester, final int chunk, final int slab, final int slabCount, final int cap,
        final boolean jvmRefused)
    {
        final SlabExhaustedEvent event = new SlabExhaustedEvent();
        event.allocator = requester;
        event.chunkSize = chunk;
        event.slabSize = slab;
        event.slabs = slabCount;
        event.maxSlabs = cap;
        event.directMemoryRefused = jvmRefused;
        event.commit();
    }
}
