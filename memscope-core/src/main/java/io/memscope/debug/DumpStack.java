package io.memscope.debug;

import io.memscope.sched.Task;
import java.util.ArrayList;
import java.util.List;

/**
 * The Java form of {@code dump_stack()} ({@code lib/dump_stack.c}): the header line naming the
 * task, then {@code Call Trace:} and the calling thread's frames between {@code <TASK>} and
 * {@code </TASK>}, one per line, innermost first.
 *
 * <p>The header follows {@code dump_stack_print_info()}'s
 * {@code "CPU: %d UID: %u PID: %d Comm: %.20s"}: memscope has no UIDs, so it prints {@code UID: 0},
 * the CPU slot the caller names (0 by default), and the thread's id and name (cut to 20
 * characters) as {@code PID} and {@code Comm}; the taint, release and build-id fields are left
 * out. Frames of the reporting machinery itself (the class passed as {@code skipThrough} and
 * everything called from it) are left out, as the kernel's trace starts at its caller.
 */
public final class DumpStack {
    private DumpStack() {}

    /** The report lines for the calling thread, skipping every frame up to the last one of {@code skipThrough}. */
    public static List<String> lines(Task task, Class<?> skipThrough) {
        return lines(task, 0, skipThrough);
    }

    /** As {@link #lines(Task, Class)}, with the header naming CPU slot {@code cpu}. */
    public static List<String> lines(Task task, int cpu, Class<?> skipThrough) {
        List<String> out = new ArrayList<>();
        out.add(header(task, cpu));
        out.add("Call Trace:");
        out.add(" <TASK>");
        List<StackWalker.StackFrame> frames = StackWalker.getInstance().walk(s -> s.toList());
        int start = 0;
        String skip = skipThrough.getName();
        for (int i = 0; i < frames.size(); i++) {
            String c = frames.get(i).getClassName();
            if (c.equals(skip) || c.equals(DumpStack.class.getName())) {
                start = i + 1;
            }
        }
        for (int i = start; i < frames.size(); i++) {
            StackWalker.StackFrame f = frames.get(i);
            out.add(" " + f.getClassName() + "." + f.getMethodName()
                    + "(" + f.getFileName() + ":" + f.getLineNumber() + ")");
        }
        out.add(" </TASK>");
        return out;
    }

    /** The {@code dump_stack_print_info()} line: {@code CPU: 0 UID: 0 PID: 42 Comm: main}. */
    public static String header(Task task, int cpu) {
        String comm = task.comm();
        return "CPU: " + cpu + " UID: 0 PID: " + task.pid() + " Comm: "
                + (comm.length() > 20 ? comm.substring(0, 20) : comm);
    }
}
