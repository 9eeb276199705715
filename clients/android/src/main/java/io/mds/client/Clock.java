package io.mds.client;

/** Epoch seconds (injected, so tests and the kit set the time). */
public interface Clock {
    double now();

    Clock SYSTEM = new Clock() {
        @Override
        public double now() {
            return System.currentTimeMillis() / 1000.0;
        }
    };
}
