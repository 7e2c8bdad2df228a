package io.millrace.worker;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The containment rule: every Throwable is contained except VirtualMachineErrors other than StackOverflowError. */
class FatalTest
{
    @Test
    void virtualMachineErrorsOtherThanStackOverflowAreFatal()
    {
        assertTrue(Fatal.isFatal(new OutOfMemoryError("Java heap space")));
        assertTrue(Fatal.isFatal(new InternalError("broken")));
        assertTrue(Fatal.isFatal(new UnknownError("?")));
        assertTrue(Fatal.isFatal(new VirtualMachineError("a new kind") { }), "subclasses count too");
    }

    @Test
    void stackOverflowAndEverythingElseAreContained()
    {
        assertFalse(Fatal.isFatal(new StackOverflowError()));
        assertFalse(Fatal.isFatal(new AssertionError("boom")));
        assertFalse(Fatal.isFatal(new LinkageError("missing class")));
        assertFalse(Fatal.isFatal(new ExceptionInInitializerError("static init")));
        assertFalse(Fatal.isFatal(new RuntimeException()));
        assertFalse(Fatal.isFatal(new IOException()));
        assertFalse(Fatal.isFatal(new Throwable()));
    }

    @Test
    void rethrowIfFatalRethrowsTheSameObjectOnlyWhenFatal()
    {
        final OutOfMemoryError oom = new OutOfMemoryError("Direct buffer memory");
        assertSame(oom, assertThrows(OutOfMemoryError.class, () -> Fatal.rethrowIfFatal(oom)));
        assertDoesNotThrow(() -> Fatal.rethrowIfFatal(new StackOverflowError()));
        assertDoesNotThrow(() -> Fatal.rethrowIfFatal(new AssertionError()));
    }

    @Test
    void nullIsAMisuseNamedInTheMessage()
    {
        final NullPointerException ex = assertThrows(NullPointerException.class, () -> Fatal.isFatal(null));
        assertTrue(ex.getMessage().contains("pass the Throwable"), ex.getMessage());
    }
}
