package io.mds.client.hotpatch;

/** The verified patch in force: its ID, file name and bytes (hand these to the patch engine). */
public final class PatchFile {
    private final String patchId;
    private final String filename;
    private final byte[] bytes;

    PatchFile(String patchId, String filename, byte[] bytes) {
        this.patchId = patchId;
        this.filename = filename;
        this.bytes = bytes;
    }

    public String patchId() {
        return patchId;
    }

    public String filename() {
        return filename;
    }

    public byte[] bytes() {
        return bytes.clone();
    }
}
