package io.memscope.stat;

import java.util.Map;

/**
 * The kernel's text formats for memory state: {@code /proc/meminfo} lines ({@code fs/proc/meminfo.c}
 * {@code show_val_kb}: the name with its colon padded to 16 columns, the value right-aligned in 8,
 * then {@code " kB"}) and {@code /proc/buddyinfo} lines ({@code mm/vmstat.c} {@code frag_show_print}:
 * {@code "Node %d, zone %8s "} then {@code "%6lu "} per order).
 */
public final class KernelText {
    private KernelText() {}

    /** One meminfo line, e.g. {@code "MemTotal:         262144 kB"}. */
    public static String meminfoLine(String name, long kb) {
        return String.format("%-16s%8d kB", name + ":", kb);
    }

    /** The whole meminfo text from ordered name → kB pairs. */
    public static String meminfo(Map<String, Long> kbByName) {
        StringBuilder sb = new StringBuilder();
        kbByName.forEach((k, v) -> sb.append(meminfoLine(k, v)).append('\n'));
        return sb.toString();
    }

    /** One buddyinfo line (with the kernel's trailing space). */
    public static String buddyinfoLine(int nid, String zoneName, long[] nrFreePerOrder) {
        StringBuilder sb = new StringBuilder(String.format("Node %d, zone %8s ", nid, zoneName));
        for (long n : nrFreePerOrder) {
            sb.append(String.format("%6d ", n));
        }
        return sb.toString();
    }
}
