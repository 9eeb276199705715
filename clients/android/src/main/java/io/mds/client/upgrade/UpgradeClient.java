package io.mds.client.upgrade;

import io.mds.client.Decision;
import io.mds.client.DeliveryClient;
import io.mds.client.MdsException;
import io.mds.client.engine.Device;
import io.mds.client.engine.Json;
import io.mds.client.engine.Text;
import java.util.ArrayList;
import java.util.List;
import org.json.JSONObject;

/**
 * Version upgrades: {@link #check} gives HAS_NEW_VERSION / HAS_NO_NEW_VERSION / HAS_SOME_ERROR with the mode
 * and prompt; a single reminder (202) prompts once per silent period (the answer's {@code silentPeriodDays},
 * default 3, or the app's override), kept in storage per task; {@code needClientNetType} limits prompt and
 * download to those networks. Never throws for a network or server failure: that is HAS_SOME_ERROR.
 */
public final class UpgradeClient {
    private static final String PROMPTED = "upgrade/prompted.json";
    private static final long DAY = 86400;

    private final DeliveryClient delivery;
    private volatile long silentPeriodSeconds = -1;

    public UpgradeClient(DeliveryClient delivery) {
        this.delivery = delivery;
    }

    /** Overrides the single reminder's silent period (mPaaS {@code setIntervalTime}); negative: the answer's. */
    public void setSilentPeriodSeconds(long seconds) {
        silentPeriodSeconds = seconds;
    }

    public UpgradeCheck check(Device device) {
        Decision decision;
        try {
            decision = delivery.check("upgrade", device);
        } catch (MdsException error) {
            return UpgradeCheck.failed(error, null);
        }
        return check(decision);
    }

    /** The upgrade answer of a round's decision ({@code delivery.checkRound(device).decision("upgrade")}). */
    public UpgradeCheck check(Decision decision) {
        JSONObject answer = decision.answer();
        int status = answer.optInt("resultStatus", 0);
        List<String> nets = new ArrayList<String>();
        if (status == 201) return new UpgradeCheck(UpgradeResult.HAS_NO_NEW_VERSION, null, false, nets, true, answer, null, decision);
        UpgradeMode mode = UpgradeMode.of(status);
        if (mode == null) return UpgradeCheck.failed(new MdsException(MdsException.Kind.SERVER, "unknown resultStatus " + answer.opt("resultStatus")), decision);
        for (String net : answer.optString("needClientNetType", "").split(",")) {
            if (!Text.strip(net).isEmpty()) nets.add(Text.normalizeNetwork(net));
        }
        boolean allowed = nets.isEmpty() || nets.contains(Text.reportedNetwork(delivery.options().networkType().current()));
        boolean prompt = false;
        try {
            prompt = allowed && prompt(mode, answer);
        } catch (MdsException storageFailed) {
            return UpgradeCheck.failed(storageFailed, decision);
        }
        return new UpgradeCheck(UpgradeResult.HAS_NEW_VERSION, mode, prompt, nets, allowed, answer, null, decision);
    }

    private boolean prompt(UpgradeMode mode, JSONObject answer) throws MdsException {
        if (mode != UpgradeMode.SINGLE) return true;
        long days = answer.optLong("silentPeriodDays", 0);
        long silent = silentPeriodSeconds >= 0 ? silentPeriodSeconds : (days > 0 ? days : 3) * DAY;
        JSONObject prompted = delivery.readJson(PROMPTED);
        String key = delivery.options().appId() + "/" + delivery.options().workspaceId() + "/" + answer.opt("taskId");
        double now = delivery.options().clock().now();
        if (prompted.has(key) && now - prompted.optDouble(key) < silent) return false;
        Json.put(prompted, key, now);
        delivery.writeJson(PROMPTED, prompted);
        return true;
    }
}
