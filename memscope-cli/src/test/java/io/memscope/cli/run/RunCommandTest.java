package io.memscope.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.memscope.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code memscope run}: the main job runs end to end and its JSON carries the promised keys. */
class RunCommandTest {
    @Test
    void shortRunPrintsOneJsonObjectWithVmstatMeminfoAndLatency() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        PrintStream oldErr = System.err;
        int status;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            status = Main.run("run", "--memory", "64", "--duration", "1", "--files", "2", "--file-size", "16", "--json");
        } finally {
            System.setOut(old);
            System.setErr(oldErr);
        }
        String json = out.toString(StandardCharsets.UTF_8).trim();
        assertThat(status).isZero();
        assertThat(json).startsWith("{\"run\":").endsWith("}").doesNotContain("\n");
        assertThat(json).contains("\"vmstat\":{", "\"pgalloc_", "\"meminfo\":{\"MemTotal\":65536,", "\"Cached\":",
                "\"latency\":{", "\"GFP_HIGHUSER_MOVABLE\":{\"count\":", "\"p99_us\":", "GFP_NOFS|");
        // State items are values at the end of the load, never differences (which go negative).
        assertThat(json).containsPattern("\"nr_free_pages\":[0-9]+[,}]")
                .containsPattern("\"nr_inactive_file\":[0-9]+[,}]");
    }

    @Test
    void badOptionsExitTwoWithOneLine() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldErr = System.err;
        int status;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            status = Main.run("run", "--memory", "10");
        } finally {
            System.setErr(oldErr);
        }
        assertThat(status).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8).trim())
                .isEqualTo("memscope: --memory must be a multiple of 4 MiB and at least 16, was 10");
    }
}
