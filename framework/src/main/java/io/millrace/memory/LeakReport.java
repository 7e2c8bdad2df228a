package io.millrace.memory;

import java.util.List;

/**
 * One buffer that became unreachable without being released, as found by the
 * {@link LeakDetector}.
 *
 * @param buffer         the buffer's name, {@code allocator#serial}, e.g. {@code w0#1042}
 * @param allocationSite the stack where it was allocated, one {@code at ...} frame per line,
 *                       starting at the caller of the allocator
 * @param touches        the most recent {@link BufferDescriptor#touch(Object) touches}, oldest
 *                       first, each with its hint and call site (recorded at
 *                       {@link LeakDetector.Level#PARANOID} only)
 */
public record LeakReport(String buffer, String allocationSite, List<String> touches)
{
    /**
     * @return the report as it is logged
     */
    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder(256)
            .append("LEAK: buffer ").append(buffer)
            .append(" became unreachable without release(); its chunk has been given back. Release every buffer you ")
            .append("allocate, or hand it on to a holder that will. Allocated at:\n").append(allocationSite);
        if (!touches.isEmpty())
        {
            sb.append("Recent touches, oldest first:\n");
            for (final String touch : touches)
            {
                sb.append('\t').append(touch).append('\n');
            }
        }
        return sb.toString();
    }
}
