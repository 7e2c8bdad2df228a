package io.millrace.worker;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Producers on other cores read a worker's final fields (its inbox, thread and I/O) on every
 * publish. Fields the owner writes per event used to sit in the same object, so each event dirtied
 * a cache line the producers kept reading. They now live in a {@link TurnState} padded on both sides.
 */
class WorkerFalseSharingTest
{
    /** Non-final fields a Worker may have: written once before its thread starts, or by the stopper. */
    private static final Set<String> SET_BEFORE_START_OR_BY_STOPPER = Set.of("running", "allocator", "io");

    @Test
    void theWorkerObjectHoldsNoFieldItsOwnerWritesPerEvent()
    {
        final List<String> mutable = new ArrayList<>();
        for (final Field f : Worker.class.getDeclaredFields())
        {
            final int m = f.getModifiers();
            if (!Modifier.isStatic(m) && !Modifier.isFinal(m) && !SET_BEFORE_START_OR_BY_STOPPER.contains(f.getName()))
            {
                mutable.add(f.getName());
            }
        }
        assertEquals(List.of(), mutable, "per-event state belongs in the padded TurnState");
    }

    @Test
    void turnStateIsPaddedOnBothSidesByAtLeastACacheLine()
    {
        assertTrue(longPadding(TurnStatePad.class) >= 7, "left padding");
        assertTrue(longPadding(TurnState.class) >= 7, "right padding");
        // The JVM lays superclass fields out first, so the hierarchy fixes the order pad | fields | pad.
        assertEquals(TurnStatePad.class, TurnStateFields.class.getSuperclass());
        assertEquals(TurnStateFields.class, TurnState.class.getSuperclass());
    }

    private static int longPadding(final Class<?> type)
    {
        int n = 0;
        for (final Field f : type.getDeclaredFields())
        {
            if (f.getType() == long.class && f.getName().startsWith("p"))
            {
                n++;
            }
        }
        return n;
    }
}
