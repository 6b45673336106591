package io.memscope.locking;

/**
 * An explicit lock-class identity ({@code struct lock_class_key}). By default a lock's class is
 * its name plus the source line that created it; a shared key puts locks created in different
 * places into one class, a fresh key per lock separates locks created on one line.
 * Compared by identity.
 */
public final class LockClassKey {
    private final String name;

    /** A key whose classes will be printed with {@code name}. */
    public LockClassKey(String name) {
        this.name = name;
    }

    /** The name given at creation. */
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "LockClassKey[" + name + "]";
    }
}
