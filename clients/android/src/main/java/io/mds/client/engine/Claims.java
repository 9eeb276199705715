package io.mds.client.engine;

import io.mds.client.MdsException;

/** Which time-window places a device holds (a valid grant, verified on the device): {@link Selector#decideEach}'s claim. */
public interface Claims {
    /** Holds nothing: closed entries are skipped, open ones go to the API. */
    Claims NONE = new Claims() {
        @Override
        public boolean holds(Candidate candidate) {
            return false;
        }
    };

    /** Whether the device holds a place in {@code candidate} (a dynamic candidate that matches it). */
    boolean holds(Candidate candidate) throws MdsException;
}
