package io.memscope.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a JMH CSV result file ({@code -rf csv -rff FILE}) into the Markdown table the README
 * records: one row per benchmark and parameter set, with the score, its error, and — when the run
 * used {@code -prof gc} — the allocation rate per operation.
 *
 * <pre>
 *   ./memscope bench PageAlloc -prof gc -rf csv -rff target/jmh.csv
 *   java -cp memscope-bench/target/benchmarks.jar io.memscope.bench.ResultsTable target/jmh.csv
 * </pre>
 */
public final class ResultsTable {
    private ResultsTable() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ResultsTable JMH_RESULT.csv");
            System.exit(2);
        }
        System.out.print(render(Files.readAllLines(Path.of(args[0]))));
    }

    /** Renders the CSV lines as a Markdown table. */
    static String render(List<String> lines) {
        if (lines.isEmpty()) {
            return "";
        }
        List<String> header = parse(lines.get(0));
        int iBench = header.indexOf("Benchmark");
        int iThreads = header.indexOf("Threads");
        int iScore = header.indexOf("Score");
        int iError = header.indexOf("Score Error (99.9%)");
        int iUnit = header.indexOf("Unit");
        List<Integer> params = new ArrayList<>();
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).startsWith("Param: ")) {
                params.add(i);
            }
        }
        Map<String, String[]> rows = new LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            List<String> f = parse(line);
            if (f.size() < header.size()) {
                continue;
            }
            String bench = f.get(iBench);
            boolean gc = bench.endsWith(":gc.alloc.rate.norm");
            if (bench.contains(":") && !gc) {
                continue; // other secondary metrics are not recorded
            }
            String base = gc ? bench.substring(0, bench.indexOf(':')) : bench;
            StringBuilder key = new StringBuilder(base.substring(base.lastIndexOf('.', base.lastIndexOf('.') - 1) + 1));
            for (int p : params) {
                String v = f.get(p);
                if (!v.isEmpty()) {
                    key.append(' ').append(header.get(p).substring(7)).append('=').append(v);
                }
            }
            if (iThreads >= 0) {
                key.append(" (").append(f.get(iThreads)).append(" thr)");
            }
            String[] row = rows.computeIfAbsent(key.toString(), k -> new String[] {"", "", "", ""});
            if (gc) {
                row[3] = fmt(f.get(iScore));
            } else {
                row[0] = fmt(f.get(iScore));
                row[1] = fmt(f.get(iError));
                row[2] = f.get(iUnit);
            }
        }
        StringBuilder out = new StringBuilder("| benchmark | score | ± (99.9%) | unit | B/op |\n|---|---:|---:|---|---:|\n");
        rows.forEach((k, r) -> out.append("| ").append(k).append(" | ").append(r[0]).append(" | ").append(r[1])
                .append(" | ").append(r[2]).append(" | ").append(r[3].isEmpty() ? "–" : r[3]).append(" |\n"));
        return out.toString();
    }

    private static String fmt(String number) {
        try {
            double d = Double.parseDouble(number);
            if (Double.isNaN(d)) {
                return "–";
            }
            return d >= 100 ? String.format(Locale.ROOT, "%.0f", d) : String.format(Locale.ROOT, "%.2f", d);
        } catch (NumberFormatException e) {
            return number;
        }
    }

    /** Splits one CSV line (JMH quotes every field). */
    static List<String> parse(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
