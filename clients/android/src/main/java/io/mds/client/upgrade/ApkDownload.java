package io.mds.client.upgrade;

import io.mds.client.MdsException;
import io.mds.client.Transport;
import io.mds.client.engine.Text;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;

/**
 * Downloads the package of a HAS_NEW_VERSION answer into a directory (mPaaS {@code setDownloadPath}). An
 * interrupted transfer stays as {@code <name>.part} and resumes with {@code Range} (a server answering 200
 * restarts it); the file is renamed to its final name only when its size and SHA-256 equal the answer's
 * {@code fileSize}/{@code fileSha256}. A finished, verified file is reused ("already downloaded").
 */
public final class ApkDownload {
    /** Bytes received so far and the total (-1 unknown). */
    public interface Progress {
        void onProgress(long received, long total);
    }

    private final Transport transport;
    private final File directory;

    public ApkDownload(Transport transport, File directory) {
        this.transport = transport;
        this.directory = directory;
    }

    /** Where the verified package of {@code check} is (or will be). */
    public File target(UpgradeCheck check) {
        String name = check.fileSha256() != null ? check.fileSha256() : "task-" + check.taskId();
        return new File(directory, name + ".apk");
    }

    /** The verified package when it is downloaded already, else null. */
    public File downloaded(UpgradeCheck check) throws MdsException {
        File target = target(check);
        return target.isFile() && matches(check, target) ? target : null;
    }

    /** Throws {@code network-type}, {@code network} (partial kept), {@code truncated} (partial kept), {@code server}, {@code digest}. */
    public File download(UpgradeCheck check, Progress progress) throws MdsException {
        if (check.result() != UpgradeResult.HAS_NEW_VERSION || check.downloadURL().isEmpty()) {
            throw new MdsException(MdsException.Kind.FORMAT, "this answer has nothing to download");
        }
        if (!check.networkAllowed()) {
            throw new MdsException(MdsException.Kind.NETWORK_TYPE, "the upgrade downloads only on " + Text.join(", ", check.needClientNetType()));
        }
        File done = downloaded(check);
        if (done != null) return done;
        File target = target(check);
        File partial = new File(directory, target.getName() + ".part");
        if (!directory.isDirectory() && !directory.mkdirs()) throw new MdsException(MdsException.Kind.FORMAT, "cannot create " + directory);
        for (int attempt = 0; attempt < 2; attempt++) {
            long have = partial.isFile() ? partial.length() : 0;
            Map<String, String> headers = new HashMap<String, String>();
            if (have > 0) headers.put("Range", "bytes=" + have + "-");
            try {
                Transport.Response reply = transport.send("GET", check.downloadURL(), headers, null);
                try {
                    if (reply.status() == 416) {
                        if (!partial.delete()) throw new IOException("cannot delete " + partial);
                        continue;
                    }
                    if (reply.status() != 200 && reply.status() != 206) {
                        throw MdsException.server(reply.status(), "download: HTTP " + reply.status());
                    }
                    boolean append = reply.status() == 206;
                    copy(reply.body(), partial, append, append ? have : 0, check.fileSize(), progress);
                } finally {
                    reply.close();
                }
            } catch (IOException error) {
                throw new MdsException(MdsException.Kind.NETWORK, "download interrupted after " + partial.length() + " bytes; it resumes next time", error);
            }
            if (check.fileSize() >= 0 && partial.length() < check.fileSize()) {
                throw new MdsException(MdsException.Kind.TRUNCATED, "download ended after " + partial.length() + " of " + check.fileSize() + " bytes; it resumes next time");
            }
            if (!matches(check, partial)) {
                partial.delete();
                throw new MdsException(MdsException.Kind.DIGEST, "the downloaded package is not the one the answer names (size or SHA-256 differs)");
            }
            if (!partial.renameTo(target)) throw new MdsException(MdsException.Kind.FORMAT, "cannot move the package to " + target);
            return target;
        }
        throw MdsException.server(416, "download: the server refuses every range");
    }

    private static void copy(InputStream in, File partial, boolean append, long have, long total, Progress progress) throws IOException {
        FileOutputStream out = new FileOutputStream(partial, append);
        try {
            byte[] buffer = new byte[65536];
            long received = have;
            for (int read; (read = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, read);
                received += read;
                if (progress != null) progress.onProgress(received, total);
            }
            out.getFD().sync();
        } finally {
            out.close();
            in.close();
        }
    }

    private static boolean matches(UpgradeCheck check, File file) throws MdsException {
        if (check.fileSize() >= 0 && file.length() != check.fileSize()) return false;
        if (check.fileSha256() == null) return true;
        try {
            MessageDigest digest = Text.sha256();
            InputStream in = new FileInputStream(file);
            try {
                byte[] buffer = new byte[65536];
                for (int read; (read = in.read(buffer)) >= 0; ) digest.update(buffer, 0, read);
            } finally {
                in.close();
            }
            return Text.hex(digest.digest()).equals(check.fileSha256().toLowerCase());
        } catch (IOException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "cannot read " + file, error);
        }
    }
}
