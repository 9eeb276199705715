import io.mds.client.engine.Candidate;
import io.mds.client.engine.Device;
import io.mds.client.engine.Selection;
import io.mds.client.engine.Selector;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;

/** Times the SDK's decideEach on the segment and devices given on stdin (bench/android_sdk.py). */
public final class BenchEngine {
    public static void main(String[] args) throws Exception {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        byte[] buffer = new byte[65536];
        for (int n; (n = System.in.read(buffer)) >= 0; ) raw.write(buffer, 0, n);
        JSONObject request = new JSONObject(raw.toString("UTF-8"));
        List<Candidate> segment = new ArrayList<Candidate>();
        JSONArray candidates = request.getJSONArray("candidates");
        for (int i = 0; i < candidates.length(); i++) segment.add(Candidate.fromJson(candidates.getJSONObject(i)));
        List<Device> devices = new ArrayList<Device>();
        JSONArray contexts = request.getJSONArray("devices");
        for (int i = 0; i < contexts.length(); i++) devices.add(Device.fromContext(contexts.getJSONObject(i)));
        long now = request.getLong("now");
        JSONArray chosen = new JSONArray();
        for (Device device : devices) {
            Candidate winner = Selector.decideEach(segment, device, null, now).chosen().get("");
            chosen.put(winner == null ? JSONObject.NULL : winner.id());
        }
        long warmUntil = System.nanoTime() + 2_000_000_000L; // let the JIT compile the engine first
        while (System.nanoTime() < warmUntil) for (Device device : devices) Selector.decideEach(segment, device, null, now);
        int rounds = request.getInt("rounds");
        double[] rates = new double[rounds];
        long span = (long) (request.getDouble("seconds") * 1e9);
        for (int round = 0; round < rounds; round++) {
            long decisions = 0;
            long start = System.nanoTime();
            long end = start;
            while (end - start < span) {
                for (Device device : devices) {
                    Selection ignored = Selector.decideEach(segment, device, null, now);
                    if (ignored == null) throw new AssertionError();
                }
                decisions += devices.size();
                end = System.nanoTime();
            }
            rates[round] = decisions / ((end - start) / 1e9);
        }
        Arrays.sort(rates);
        System.out.print(new JSONObject().put("decisionsPerSecond", rates[rounds / 2]).put("chosen", chosen));
    }
}
