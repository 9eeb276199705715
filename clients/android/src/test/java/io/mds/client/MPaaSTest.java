package io.mds.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mds.client.config.ConfigClient;
import io.mds.client.engine.Device;
import io.mds.client.engine.Text;
import io.mds.client.mpaas.MPConfigService;
import io.mds.client.mpaas.MPaaSCheckCallBack;
import io.mds.client.mpaas.MPaaSCheckVersionService;
import io.mds.client.mpaas.UpgradeDialog;
import io.mds.client.upgrade.ApkDownload;
import io.mds.client.upgrade.UpgradeCheck;
import io.mds.client.upgrade.UpgradeClient;
import io.mds.client.upgrade.UpgradeResult;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mPaaS-named façade: hooks on the caller's executor, the dialog's content, MPConfigService loads. */
class MPaaSTest {
    /** Runs what it is given only when asked (a main thread's queue). */
    static final class Queue implements Executor {
        final List<Runnable> queued = new ArrayList<Runnable>();

        @Override
        public void execute(Runnable task) {
            queued.add(task);
        }

        void drain() {
            while (!queued.isEmpty()) queued.remove(0).run();
        }
    }

    /** Records which hooks ran, in order. */
    static final class Hooks implements MPaaSCheckCallBack {
        final List<String> called = new ArrayList<String>();
        UpgradeCheck check;
        MdsException error;

        public void startCheck() {
            called.add("start");
        }

        public void alreadyDownloaded(UpgradeCheck c, File apk) {
            check = c;
            called.add("alreadyDownloaded " + apk.getName());
        }

        public void showUpgradeDialog(UpgradeCheck c) {
            check = c;
            called.add("showUpgradeDialog");
        }

        public void noNewVersion(UpgradeCheck c) {
            check = c;
            called.add("noNewVersion");
        }

        public void onException(MdsException e) {
            error = e;
            called.add("onException");
        }

        public void onLimit(UpgradeCheck c) {
            check = c;
            called.add("onLimit");
        }
    }

    private final KitNetwork network = new KitNetwork();
    private final Queue worker = new Queue();
    private final Queue main = new Queue();
    private final Device device;

    MPaaSTest() throws MdsException {
        device = Device.builder().platform("android").userId("alice").clientVersion("4.0").build();
    }

    private DeliveryClient delivery(Transport transport) {
        return new DeliveryClient(MdsOptions.builder().cdnUrl("http://cdn.kit").apiUrl("http://api.kit").appId("A")
                .publicKey("k", Text.toBase64(new byte[32])).storage(new MemoryStorage()).transport(transport).build());
    }

    private MPaaSCheckVersionService service(Transport transport, File dir) {
        return new MPaaSCheckVersionService(new UpgradeClient(delivery(transport)), new ApkDownload(new FailureTest.ApkServer(), dir), worker, main);
    }

    private Hooks check(MPaaSCheckVersionService service) {
        Hooks hooks = new Hooks();
        service.checkNewVersion(device, hooks);
        worker.drain();
        assertTrue(hooks.called.isEmpty()); // nothing reaches the app off its own executor
        main.drain();
        return hooks;
    }

    private static JSONObject offer(int status, String memo) throws Exception {
        byte[] apk = new byte[5000];
        for (int i = 0; i < apk.length; i++) apk[i] = (byte) (i * 31);
        return new JSONObject().put("resultStatus", status).put("downloadURL", "http://cdn.kit/dl/5.apk").put("taskId", "7")
                .put("guideMemo", memo).put("newestVersion", "5.0").put("fileSha256", Text.hex(Text.sha256(apk))).put("fileSize", apk.length);
    }

    @Test
    void checkNewVersionCallsOneHookAfterStart(@TempDir File dir) throws Exception {
        MPaaSCheckVersionService service = service(network, dir);
        network.apiAnswer = new JSONObject().put("resultStatus", 201);
        assertEquals(Arrays.asList("start", "noNewVersion"), check(service).called);

        network.apiAnswer = offer(202, "Try 5.0");
        Hooks first = check(service);
        assertEquals(Arrays.asList("start", "showUpgradeDialog"), first.called);
        assertEquals(Arrays.asList("start", "onLimit"), check(service).called); // a single reminder, inside its silent period
        service.setIntervalTime(0);
        assertEquals(Arrays.asList("start", "showUpgradeDialog"), check(service).called);

        File apk = new ApkDownload(new FailureTest.ApkServer(), dir).download(first.check, null);
        assertEquals(Arrays.asList("start", "alreadyDownloaded " + apk.getName()), check(service).called);
    }

    @Test
    void aFailedFirstCheckIsOnExceptionAndHasSomeError(@TempDir File dir) throws Exception {
        Transport down = (method, url, headers, body) -> {
            throw new IOException("offline");
        };
        Hooks hooks = check(service(down, dir));
        assertEquals(Arrays.asList("start", "onException"), hooks.called);
        assertEquals(MdsException.Kind.NETWORK, hooks.error.kind());

        final List<UpgradeResult> results = new ArrayList<UpgradeResult>();
        service(down, dir).fastCheckNewVersion(device, (result, check) -> results.add(result));
        worker.drain();
        assertTrue(results.isEmpty());
        main.drain();
        assertEquals(Collections.singletonList(UpgradeResult.HAS_SOME_ERROR), results);
    }

    @Test
    void theDialogShowsThePromptAndAForcedOneCannotBeDismissed() throws Exception {
        UpgradeClient upgrade = new UpgradeClient(delivery(network));
        network.apiAnswer = offer(206, "Security fix: please upgrade");
        UpgradeDialog forced = UpgradeDialog.of(upgrade.check(device));
        assertEquals("Version 5.0 is available", forced.title());
        assertEquals("Security fix: please upgrade", forced.message());
        assertFalse(forced.canDismiss());
        network.apiAnswer = offer(204, " ");
        UpgradeDialog multiple = UpgradeDialog.of(upgrade.check(device));
        assertEquals("Version 5.0 is available.", multiple.message());
        assertTrue(multiple.canDismiss());
        network.apiAnswer = new JSONObject().put("resultStatus", 201);
        assertThrows(IllegalArgumentException.class, () -> UpgradeDialog.of(upgrade.check(device)));
    }

    @Test
    void configLoadsOnTheSchedulerAfterTheDelay() throws Exception {
        network.apiAnswer = new JSONObject().put("configs", new JSONObject().put("feed_v2", new JSONObject().put("value", "true").put("type", "boolean")));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try {
            MPConfigService config = new MPConfigService(new ConfigClient(delivery(network)), device, scheduler);
            final List<String> changed = new ArrayList<String>();
            config.addConfigChangeListener("feed_v2", (key, value) -> changed.add(key + "=" + value));
            long started = System.nanoTime();
            Future<List<String>> load = config.loadConfigImmediately(200);
            assertNull(config.getConfig("feed_v2"));
            assertEquals(Collections.singletonList("feed_v2"), load.get());
            assertTrue(System.nanoTime() - started >= 200_000_000L);
            assertEquals("true", config.getConfig("feed_v2"));
            assertEquals(Collections.singletonList("feed_v2=true"), changed);
            assertNull(config.loadConfig().get()); // the 30-minute interval has not passed

            network.apiAnswer = null; // the API is gone: a typed failure, the values stay
            ExecutionException failed = assertThrows(ExecutionException.class, () -> config.loadConfigImmediately(0).get());
            assertEquals(MdsException.Kind.NETWORK, ((MdsException) failed.getCause()).kind());
            assertEquals("true", config.getConfig("feed_v2"));
        } finally {
            scheduler.shutdownNow();
        }
    }
}
