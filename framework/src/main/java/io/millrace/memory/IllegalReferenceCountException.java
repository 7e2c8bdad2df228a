package io.millrace.memory;

/**
 * A reference-counted buffer or chain was used, retained or released after its last release, or
 * released more times than it was retained. Thrown at once, on the offending call, with a message
 * that names the object and its count; like Netty's exception of the same name.
 */
public final class IllegalReferenceCountException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final int refCnt;

    /**
     * @param refCnt  the count the object had when the call was refused
     * @param message what happened, to which object, and what to do
     */
    public IllegalReferenceCountException(final int refCnt, final String message)
    {
        super(message);
        this.refCnt = refCnt;
    }

    /**
     * @return the object's reference count when the call was refused
     */
    public int refCnt()
    {
        return refCnt;
    }
}
