package io.millrace.soak;

/**
 * An error the soak throws on purpose, stamped with the request it was thrown for and the fault code
 * of its plan, so that a completion can be checked against the plan: an injected error that reaches
 * another request's completion listener means two requests' contexts were mixed up.
 */
interface Injected
{
    /**
     * @return the id of the request the error was thrown for
     */
    int requestId();

    /**
     * @return the fault code ({@code SoakPlan.RUNTIME}, ...) that made it
     */
    byte code();

    /** Unchecked. */
    final class Runtime extends RuntimeException implements Injected
    {
        private static final long serialVersionUID = 1L;
        private final int requestId;
        private final byte code;

        Runtime(final int requestId, final byte code, final String where)
        {
            super("injected " + SoakPlan.faultName(code) + " for request " + requestId + " " + where, null, false, false);
            this.requestId = requestId;
            this.code = code;
        }

        @Override
        public int requestId()
        {
            return requestId;
        }

        @Override
        public byte code()
        {
            return code;
        }
    }

    /** Checked. */
    final class Checked extends Exception implements Injected
    {
        private static final long serialVersionUID = 1L;
        private final int requestId;
        private final byte code;

        Checked(final int requestId, final byte code, final String where)
        {
            super("injected " + SoakPlan.faultName(code) + " for request " + requestId + " " + where, null, false, false);
            this.requestId = requestId;
            this.code = code;
        }

        @Override
        public int requestId()
        {
            return requestId;
        }

        @Override
        public byte code()
        {
            return code;
        }
    }

    /** An {@link AssertionError}, which the runtime must contain like any other error. */
    final class Assertion extends AssertionError implements Injected
    {
        private static final long serialVersionUID = 1L;
        private final int requestId;
        private final byte code;

        Assertion(final int requestId, final byte code, final String where)
        {
            super("injected " + SoakPlan.faultName(code) + " for request " + requestId + " " + where);
            this.requestId = requestId;
            this.code = code;
        }

        @Override
        public synchronized Throwable fillInStackTrace()
        {
            return this;
        }

        @Override
        public int requestId()
        {
            return requestId;
        }

        @Override
        public byte code()
        {
            return code;
        }
    }

    /** A thrown {@link StackOverflowError}: a VirtualMachineError the runtime contains. */
    final class StackOverflow extends StackOverflowError implements Injected
    {
        private static final long serialVersionUID = 1L;
        private final int requestId;
        private final byte code;

        StackOverflow(final int requestId, final byte code, final String where)
        {
            super("injected " + SoakPlan.faultName(code) + " for request " + requestId + " " + where);
            this.requestId = requestId;
            this.code = code;
        }

        @Override
        public synchronized Throwable fillInStackTrace()
        {
            return this;
        }

        @Override
        public int requestId()
        {
            return requestId;
        }

        @Override
        public byte code()
        {
            return code;
        }
    }
}
