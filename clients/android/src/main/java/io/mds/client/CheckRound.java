package io.mds.client;

import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One check round ({@link DeliveryClient#checkRound}): a decision per product from one conditional index
 * request. A product whose own part failed (its segment, a whitelist shard, the dynamic API) has an error
 * instead of a decision; the other products are answered. Immutable.
 */
public final class CheckRound {
    private final Map<String, Decision> decisions;
    private final Map<String, MdsException> errors;
    private final List<String> requests;
    private final MdsException refused;
    private final Long nextCheckAt;

    CheckRound(Map<String, Decision> decisions, Map<String, MdsException> errors, List<String> requests, MdsException refused,
            Long nextCheckAt) {
        this.decisions = Collections.unmodifiableMap(decisions);
        this.errors = Collections.unmodifiableMap(errors);
        this.requests = Collections.unmodifiableList(requests);
        this.refused = refused;
        this.nextCheckAt = nextCheckAt;
    }

    /** product → decision, in the order asked (products that failed are in {@link #errors()}). */
    public Map<String, Decision> decisions() {
        return decisions;
    }

    /** The product's decision; throws its error when its part of the round failed. */
    public Decision decision(String product) throws MdsException {
        MdsException error = errors.get(product);
        if (error != null) throw error;
        Decision found = decisions.get(product);
        if (found == null) throw new IllegalArgumentException(product + " was not checked in this round");
        return found;
    }

    /** product → why its part of the round failed. */
    public Map<String, MdsException> errors() {
        return errors;
    }

    /** Every request of the round, the index first ({@code "GET /<path> <status>"}, {@code "POST ... <status>"}). */
    public List<String> requests() {
        return requests;
    }

    /** Answered from the last good index. */
    public boolean stale() {
        return refused != null;
    }

    /** Why the fresh index was not used (null when it was). */
    public MdsException refused() {
        return refused;
    }

    /** When to check again (epoch seconds, see {@link Decision#nextCheckAt()}); null when nothing is published. */
    public Long nextCheckAt() {
        return nextCheckAt;
    }
}
