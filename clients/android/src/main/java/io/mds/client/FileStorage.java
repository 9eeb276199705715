package io.mds.client;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Storage} in a directory (on Android: {@code new FileStorage(new File(context.getFilesDir(), "mds"))}).
 * A key is a relative path; a put writes a temporary file, syncs it and renames it over the old one.
 */
public final class FileStorage implements Storage {
    private final File root;

    public FileStorage(File root) {
        this.root = root;
    }

    private File file(String key) throws IOException {
        if (key.isEmpty() || key.startsWith("/") || ("/" + key + "/").contains("/../") || key.contains("\\")) {
            throw new IOException("not a storage key: " + key);
        }
        return new File(root, key);
    }

    /** The file that holds {@code key} (for {@code WebResourceResponse} streams); it may not exist. */
    public File fileOf(String key) throws IOException {
        return file(key);
    }

    @Override
    public byte[] get(String key) throws IOException {
        InputStream in;
        try {
            in = new FileInputStream(file(key));
        } catch (FileNotFoundException missing) {
            return null;
        }
        return DeliveryClient.readAll(in);
    }

    @Override
    public void put(String key, byte[] value) throws IOException {
        File target = file(key);
        File parent = target.getParentFile();
        if (!parent.isDirectory() && !parent.mkdirs() && !parent.isDirectory()) throw new IOException("cannot create " + parent);
        File temporary = new File(parent, "." + target.getName() + ".tmp");
        FileOutputStream out = new FileOutputStream(temporary);
        try {
            out.write(value);
            out.getFD().sync();
        } finally {
            out.close();
        }
        if (!temporary.renameTo(target)) throw new IOException("cannot replace " + target);
    }

    @Override
    public void delete(String key) throws IOException {
        File target = file(key);
        if (target.exists() && !target.delete()) throw new IOException("cannot delete " + target);
    }

    @Override
    public List<String> keys(String prefix) throws IOException {
        List<String> found = new ArrayList<String>();
        walk(root, "", prefix, found);
        return found;
    }

    private static void walk(File dir, String base, String prefix, List<String> found) {
        File[] children = dir.listFiles();
        if (children == null) return;
        for (File child : children) {
            String key = base + child.getName();
            if (child.isDirectory()) walk(child, key + "/", prefix, found);
            else if (!child.getName().startsWith(".") && key.startsWith(prefix)) found.add(key);
        }
    }
}
