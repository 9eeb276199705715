package io.mds.client.engine;

import java.util.Collections;
import java.util.Map;

/** What {@link Selector#decideEach} found: subject → chosen candidate, or the dynamic candidate to ask the API about. */
public final class Selection {
    private final Map<String, Candidate> chosen;
    private final Candidate askServer;

    Selection(Map<String, Candidate> chosen, Candidate askServer) {
        this.chosen = Collections.unmodifiableMap(chosen);
        this.askServer = askServer;
    }

    /** subject → candidate, in the order they were chosen (empty when {@link #askServer()} is set). */
    public Map<String, Candidate> chosen() {
        return chosen;
    }

    /** The first matching candidate is dynamic: the dynamic check API decides (else null). */
    public Candidate askServer() {
        return askServer;
    }
}
