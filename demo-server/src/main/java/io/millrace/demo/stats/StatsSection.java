package io.millrace.demo.stats;

/**
 * One part of the {@code /stats} page: a heading and the HTML under it. The page calls each section
 * in order, guarded: a section that throws is replaced by a line saying so, and the rest renders.
 *
 * <p>This is the page's extension point. A component with numbers to show implements it and is
 * added with {@link StatsPage#add(StatsSection)} or passed to the page's constructor, as the
 * reverse proxy's {@code UpstreamsSection} is, and as {@code LockGridSection} shows the lock grids
 * the server registers.
 *
 * <p>Threading: {@link #render} runs on the thread serving {@code /stats} (a worker), possibly for
 * two requests at once on two workers; implementations must be safe for that and should only read.
 */
public interface StatsSection
{
    /**
     * @return the section's heading, also its link in the page's index
     */
    String title();

    /**
     * Appends the section's body (the page writes the heading). Escape every name that comes from
     * outside with {@link Html#escape(String)}; show numbers with {@link Units}.
     *
     * @param frame the metrics and history of this rendering
     * @param html  where to append
     */
    void render(StatsFrame frame, StringBuilder html);
}
