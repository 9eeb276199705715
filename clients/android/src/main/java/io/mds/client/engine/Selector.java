package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which release a device gets: the server's {@code decide_each} (domain/delivery.py) over a segment's
 * candidates in priority order, once per subject. A dynamic (time-window) candidate that matches is chosen
 * when the device holds a place in it ({@link Claims}), skipped when it is {@code closed}, and otherwise stops
 * the walk: only the dynamic check API can answer.
 */
public final class Selector {
    private Selector() {}

    /** Holding no places. {@code membership} may be null when no candidate references a whitelist. */
    public static Selection decideEach(List<Candidate> candidates, Device device, Membership membership, long now)
            throws MdsException {
        return decideEach(candidates, device, membership, now, Claims.NONE);
    }

    /** {@code claims}: the places the device holds (null: none). */
    public static Selection decideEach(List<Candidate> candidates, Device device, Membership membership, long now, Claims claims)
            throws MdsException {
        Map<String, Candidate> chosen = new LinkedHashMap<String, Candidate>();
        for (Candidate candidate : candidates) {
            if (chosen.containsKey(candidate.subject()) || !candidate.liveAt(now) || !candidate.target().admits(device)) continue;
            if (!candidate.target().whitelistIds().isEmpty() && !listed(candidate, device, membership)) continue;
            if (candidate.dynamic()) {
                if (claims != null && claims.holds(candidate)) {
                    chosen.put(candidate.subject(), candidate);
                    continue;
                }
                if (candidate.closed()) continue; // full: nobody new gets it, so there is nothing to ask
                return new Selection(new LinkedHashMap<String, Candidate>(), candidate);
            }
            chosen.put(candidate.subject(), candidate);
        }
        return new Selection(chosen, null);
    }

    private static boolean listed(Candidate candidate, Device device, Membership membership) throws MdsException {
        String identity = device.identity();
        if (identity == null || membership == null) return false;
        for (String id : candidate.target().whitelistIds()) if (membership.contains(id, identity)) return true;
        return false;
    }
}
