package io.mds.client.engine;

import io.mds.client.MdsException;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;

/** Segment cuts of an index: which segment file holds a client version. */
public final class Cuts {
    private final String[] positions;

    private Cuts(String[] positions) {
        this.positions = positions;
    }

    /** {@code [{"version", "above"}]} in order. */
    public static Cuts fromJson(JSONArray cuts) throws MdsException {
        String[] positions = new String[cuts.length()];
        for (int i = 0; i < positions.length; i++) {
            JSONObject cut = cuts.optJSONObject(i);
            if (cut == null) throw new MdsException(MdsException.Kind.FORMAT, "index cut " + i + " is not an object");
            positions[i] = Version.parse(cut.optString("version", null), "version").key() + (cut.optBoolean("above") ? "2" : "0");
        }
        return new Cuts(positions);
    }

    public static Cuts of(List<String> positions) {
        return new Cuts(positions.toArray(new String[0]));
    }

    /** The number of cuts below {@code version}: the segment that holds it. */
    public int segmentIndex(Version version) {
        String position = version.key() + "1";
        int low = 0;
        int high = positions.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (positions[mid].compareTo(position) < 0) low = mid + 1;
            else high = mid;
        }
        return low;
    }
}
