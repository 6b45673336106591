package io.memscope.page;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads /proc/self/maps: how many mappings of one memfd (by name) this process holds. */
final class ProcMaps {
    private ProcMaps() {}

    static final Path MAPS = Path.of("/proc/self/maps");

    static boolean available() {
        return Files.isReadable(MAPS);
    }

    /** Mappings whose path is {@code /memfd:<name> (deleted)}. */
    static long memfdMappings(String name) {
        String needle = "/memfd:" + name + " ";
        try (var lines = Files.lines(MAPS)) {
            return lines.filter(l -> (l + " ").contains(needle)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
