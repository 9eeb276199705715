package io.mds.client.hotpatch;

import io.mds.client.Decision;
import io.mds.client.DeliveryClient;
import io.mds.client.MdsException;
import io.mds.client.amr.RsaKey;
import io.mds.client.engine.Device;
import io.mds.client.engine.Json;
import io.mds.client.engine.Text;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Hotpatches, as {@code mds/device/hotpatch.py}: the answer's rollback directive is merged into what the
 * device keeps (revoked IDs only grow, {@code rollbackSeq} only rises), so no stale manifest brings a revoked
 * patch back; a revoked applied patch is removed; a newer one is downloaded and checked (size, SHA-256, RSA
 * signature by the pinned key its {@code keyId} names) before it is stored; the outcome is reported.
 */
public final class HotpatchClient {
    private static final String STATE = "hotpatch/state.json";

    private final DeliveryClient delivery;

    public HotpatchClient(DeliveryClient delivery) {
        this.delivery = delivery;
    }

    /** Check and act; throws only when there is no last good manifest. */
    public HotpatchSync sync(Device device) throws MdsException {
        return sync(delivery.check("hotpatch", device), device);
    }

    /** Act on a round's hotpatch decision ({@code delivery.checkRound(device).decision("hotpatch")}). */
    public HotpatchSync sync(Decision decision, Device device) throws MdsException {
        return applyAnswer(decision.answer(), device).from(decision.isStatic(), decision.stale());
    }

    /** Act on one answer (fresh, or an old one replayed: the revoked set still holds). */
    public synchronized HotpatchSync applyAnswer(JSONObject answer, Device device) throws MdsException {
        JSONObject state = delivery.readJson(STATE);
        String name = slotName(device);
        JSONObject slot = state.optJSONObject(name);
        if (slot == null) slot = new JSONObject();
        Json.put(state, name, slot);
        TreeSet<String> revoked = new TreeSet<String>(NUMERIC);
        addAll(revoked, slot.optJSONArray("revoked"));
        addAll(revoked, answer.optJSONArray("revoked"));
        Json.put(slot, "revoked", new JSONArray(revoked));
        Json.put(slot, "rollbackSeq", Math.max(slot.optLong("rollbackSeq", 0), answer.optLong("rollbackSeq", 0)));
        List<String> actions = new ArrayList<String>();
        MdsException error = null;
        JSONObject current = slot.optJSONObject("applied");
        if (current != null && revoked.contains(current.optString("patchId"))) {
            delivery.delete(current.optString("key"));
            actions.add("removed " + current.optString("patchId"));
            slot.remove("applied");
            current = null;
        }
        String wanted = answer.isNull("patchId") ? null : String.valueOf(answer.opt("patchId"));
        boolean newer = current == null || (!current.optString("patchId").equals(wanted) && answer.optLong("order", 0) > current.optLong("order"));
        if (wanted != null && !revoked.contains(wanted) && newer) {
            try {
                JSONObject installed = install(answer, name);
                if (current != null) delivery.delete(current.optString("key"));
                Json.put(slot, "applied", installed);
                actions.add("applied " + wanted);
            } catch (MdsException refused) {
                error = refused;
                actions.add("refused " + wanted + ": " + refused.kind().wire());
            }
            report(device, answer, error);
        }
        delivery.writeJson(STATE, state);
        JSONObject applied = slot.optJSONObject("applied");
        return new HotpatchSync(applied == null ? null : applied.optString("patchId"), actions, error, answer, true, false);
    }

    /** The verified patch in force for this device's app version, or null. */
    public PatchFile patchFile(Device device) throws MdsException {
        JSONObject slot = delivery.readJson(STATE).optJSONObject(slotName(device));
        JSONObject applied = slot == null ? null : slot.optJSONObject("applied");
        if (applied == null) return null;
        byte[] bytes = delivery.read(applied.optString("key"));
        return bytes == null ? null : new PatchFile(applied.optString("patchId"), applied.optString("filename"), bytes);
    }

    private JSONObject install(JSONObject answer, String slot) throws MdsException {
        String pem = delivery.options().patchKeys().get(String.valueOf(answer.opt("keyId")));
        if (pem == null) throw new MdsException(MdsException.Kind.UNKNOWN_KEY, "patch signed by key " + answer.opt("keyId") + ", which this app does not pin");
        byte[] content = delivery.download(delivery.options().cdnUrl() + "/" + answer.optString("path"));
        if (content.length != answer.optLong("size", -1) || !Text.hex(Text.sha256(content)).equals(answer.optString("sha256"))) {
            throw new MdsException(MdsException.Kind.DIGEST, "the patch file is not the one the manifest lists (size or SHA-256 differs)");
        }
        byte[] signature;
        try {
            signature = Text.fromBase64(answer.optString("signature"));
        } catch (IllegalArgumentException error) {
            throw new MdsException(MdsException.Kind.SIGNATURE, "the patch signature is not base64", error);
        }
        if (!RsaKey.fromPem(pem).verifies(content, signature)) {
            throw new MdsException(MdsException.Kind.SIGNATURE, "the patch signature does not verify with the pinned key");
        }
        String key = "hotpatch/" + slot + "/" + answer.opt("patchId") + "/" + answer.optString("filename");
        delivery.write(key, content);
        JSONObject applied = new JSONObject();
        Json.put(applied, "patchId", String.valueOf(answer.opt("patchId")));
        Json.put(applied, "order", answer.optLong("order"));
        Json.put(applied, "sha256", answer.optString("sha256"));
        Json.put(applied, "filename", answer.optString("filename"));
        return Json.put(applied, "key", key);
    }

    private void report(Device device, JSONObject answer, MdsException error) {
        JSONObject body = new JSONObject();
        Json.put(body, "appId", delivery.options().appId());
        Json.put(body, "workspaceId", delivery.options().workspaceId());
        String who = device.deviceId() != null ? device.deviceId() : device.userId();
        Json.put(body, "deviceId", who == null ? "" : who);
        Json.put(body, "patchId", String.valueOf(answer.opt("patchId")));
        Json.put(body, "outcome", error == null ? "applied" : "failed");
        if (!answer.isNull("releaseId") && answer.has("releaseId")) Json.put(body, "releaseId", String.valueOf(answer.opt("releaseId")));
        if (error != null) Json.put(body, "reason", error.getMessage().length() > 500 ? error.getMessage().substring(0, 500) : error.getMessage());
        try {
            delivery.postJson(delivery.options().apiUrl() + "/client/v1/hotpatch/report", body);
        } catch (MdsException lost) {
            // a lost report must not undo an install; the next sync reports nothing new
        }
    }

    private static void addAll(TreeSet<String> into, JSONArray ids) {
        for (int i = 0; ids != null && i < ids.length(); i++) into.add(String.valueOf(ids.opt(i)));
    }

    private static final Comparator<String> NUMERIC = new Comparator<String>() {
        @Override
        public int compare(String a, String b) {
            try {
                int c = Double.compare(Double.parseDouble(a), Double.parseDouble(b));
                if (c != 0) return c;
            } catch (NumberFormatException notNumbers) {
                // fall through to text order
            }
            return a.compareTo(b);
        }
    };

    private static String slotName(Device device) {
        return device.platform() + "-" + (device.clientVersion() == null ? "unknown" : device.clientVersion().canonical());
    }
}
