package io.memscope;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md: lower layers never import higher ones. Reads every main source file of the core
 * module and checks each reference to another memscope package against the layer order.
 */
class LayeringTest {
    /** Bottom to top. The root package {@code io.memscope} (MemoryManager) is above all. */
    static final List<String> LAYERS = List.of(
            "gfp", "sched", "debug", "stat", "locking", "page", "reclaim", "pagecache",
            "slab", "vmalloc", "mempool");

    private static final Pattern REF = Pattern.compile("\\bio\\.memscope\\.([A-Za-z]+)\\b");

    @Test
    void lowerLayersNeverReferenceHigherOnes() throws IOException {
        Path root = Path.of("src/main/java/io/memscope");
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                Path rel = root.relativize(f);
                if (rel.getNameCount() < 2) {
                    continue; // the root package may use every layer
                }
                String pkg = rel.getName(0).toString();
                int own = LAYERS.indexOf(pkg);
                assertThat(own).as("package %s of %s is not in the layer list", pkg, rel).isGreaterThanOrEqualTo(0);
                String text = stripCommentsAndStrings(Files.readString(f));
                Matcher m = REF.matcher(text);
                while (m.find()) {
                    String used = m.group(1);
                    int idx = LAYERS.indexOf(used);
                    if (idx < 0) {
                        if (!isRootType(used)) {
                            violations.add(rel + " references unknown package io.memscope." + used);
                        } else {
                            violations.add(rel + " (layer " + pkg + ") references the root package");
                        }
                    } else if (idx > own) {
                        violations.add(rel + " (layer " + pkg + ") references higher layer " + used);
                    }
                }
            }
        }
        assertThat(violations).isEmpty();
    }

    /** Code only: string and char literals (stack-frame filters name classes) and comments removed. */
    static String stripCommentsAndStrings(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                while (i < n && src.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '"' || c == '\'') {
                if (c == '"' && src.startsWith("\"\"\"", i)) {
                    int end = src.indexOf("\"\"\"", i + 3);
                    i = end < 0 ? n : end + 3;
                    continue;
                }
                i++;
                while (i < n && src.charAt(i) != c) {
                    i += src.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
                out.append(' ');
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static boolean isRootType(String name) {
        return Character.isUpperCase(name.charAt(0));
    }
}
