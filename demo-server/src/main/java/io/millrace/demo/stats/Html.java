package io.millrace.demo.stats;

/**
 * Small HTML helpers for the sections: escaping, table rows, an inline bar.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Html
{
    private Html()
    {
    }

    /**
     * @param text any text, null included
     * @return it safe as element content or a quoted attribute value
     */
    public static String escape(final String text)
    {
        if (text == null)
        {
            return "";
        }
        final StringBuilder s = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            switch (c)
            {
                case '&' -> s.append("&amp;");
                case '<' -> s.append("&lt;");
                case '>' -> s.append("&gt;");
                case '"' -> s.append("&quot;");
                case '\'' -> s.append("&#39;");
                default -> s.append(c);
            }
        }
        return s.toString();
    }

    /**
     * Appends a table row. Cells are escaped by the caller; cells after the first {@code textColumns}
     * are numbers and align right, so that digits line up.
     *
     * @param html        where to append
     * @param cell        {@code "th"} or {@code "td"}
     * @param textColumns how many leading columns hold text
     * @param values      the cells' contents, escaped
     */
    public static void row(final StringBuilder html, final String cell, final int textColumns, final String... values)
    {
        html.append("<tr>");
        for (int i = 0; i < values.length; i++)
        {
            html.append('<').append(cell).append(cell.equals("td") && i >= textColumns ? " class=\"n\">" : ">")
                .append(values[i]).append("</").append(cell).append('>');
        }
        html.append("</tr>\n");
    }

    /**
     * @param fraction how full, from 0 to 1
     * @param label    text beside the bar (escaped by the caller)
     * @param warn     draw it in the warning colour
     * @return an inline bar: a fixed-width track with a filled part, then the label
     */
    public static String bar(final double fraction, final String label, final boolean warn)
    {
        final double f = Double.isNaN(fraction) ? 0 : Math.max(0, Math.min(1, fraction));
        return "<span class=\"bar\"><span class=\"fill" + (warn ? " warn" : "") + "\" style=\"width:" +
            String.format(java.util.Locale.ROOT, "%.1f", f * 100) + "%\"></span></span> " + label;
    }
}
